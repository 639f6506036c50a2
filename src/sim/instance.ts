// One simulated world, drawn from a seed: a random geometric mesh in the unit square,
// gateways with heavy-tailed uplinks, their prices (= true costs), liars that claim
// three times what they have, outage schedules, and clients with demand and a value.
// Everything every selector and the optimum see comes from here, so all of them
// face the same instance.
//
// Model:
// - Nodes uniform in [0,1]²; a radio link between two nodes closer than `range`,
//   chosen for `meanDegree` neighbours on average. Link quality 1 − 0.6·(d/range)²
//   (1 next door, 0.4 at the edge of range).
// - Path quality to a gateway: the best product of link qualities over paths of at
//   most `maxHops` hops, times HOP_PENALTY per extra hop (batman-adv's TQ works so).
//   Path rate = meshPhyKbps × quality / hops (one radio channel shared along the path).
// - Gateways: `gatewayShare` of the nodes; uplink Pareto(xm, alpha) capped; price
//   uniform integer in [priceMin, priceMax] msat/KiB, which is also its true cost
//   (the market is built so that asking your cost is the best strategy).
// - Liars: `liarShare` of the gateways claim `liarFactor` × their real capacity. A
//   liar's claim is drawn like an honest gateway's capacity and its real uplink is
//   that divided by liarFactor: it poses as an ordinary gateway.
// - Outages: a gateway fails with probability `outageProb`, once, at a uniform time,
//   for an exponential duration; its uplink carries nothing meanwhile.
// - Clients: every other node; demand log-uniform in [demandMin, demandMax] kbit/s,
//   value (the most it pays) uniform integer in [valueMin, valueMax] msat/KiB; they
//   start uniformly within `arrivalWindowMs`.
import { SimRng } from './rng.js';

export interface InstanceParams {
  readonly nodes: number;
  readonly seed: number;
  readonly meanDegree: number;
  readonly maxHops: number;
  readonly meshPhyKbps: number;
  readonly gatewayShare: number;
  readonly uplinkXmKbps: number;
  readonly uplinkAlpha: number;
  readonly uplinkMaxKbps: number;
  readonly priceMin: number;
  readonly priceMax: number;
  readonly liarShare: number;
  readonly liarFactor: number;
  readonly outageProb: number;
  readonly outageMeanMs: number;
  readonly demandMinKbps: number;
  readonly demandMaxKbps: number;
  readonly valueMin: number;
  readonly valueMax: number;
  readonly arrivalWindowMs: number;
  readonly durationMs: number;
}

export const DEFAULT_INSTANCE_PARAMS: Omit<InstanceParams, 'nodes' | 'seed'> = {
  meanDegree: 10,
  maxHops: 4,
  meshPhyKbps: 60_000,
  gatewayShare: 0.15,
  uplinkXmKbps: 15_000,
  uplinkAlpha: 1.3,
  uplinkMaxKbps: 500_000,
  priceMin: 1,
  priceMax: 12,
  liarShare: 0.1,
  liarFactor: 3,
  outageProb: 0.3,
  outageMeanMs: 90_000,
  demandMinKbps: 500,
  demandMaxKbps: 8_000,
  valueMin: 15,
  valueMax: 60,
  arrivalWindowMs: 30_000,
  durationMs: 10 * 60_000,
};

/** batman-adv's default hop penalty 15/255. */
export const HOP_PENALTY = 1 - 15 / 255;

export interface Outage {
  readonly downAt: number;
  readonly upAt: number;
}

export interface GatewaySpec {
  readonly index: number;
  readonly node: number;
  readonly realKbps: number;
  /** 1 for honest gateways, liarFactor for liars. */
  readonly claimFactor: number;
  readonly priceMsatPerKiB: number;
  readonly outages: readonly Outage[];
}

export interface Reach {
  readonly gateway: number;
  readonly hops: number;
  readonly quality: number;
  readonly pathKbps: number;
}

export interface ClientSpec {
  readonly index: number;
  readonly node: number;
  readonly demandKbps: number;
  readonly valueMsatPerKiB: number;
  readonly startMs: number;
  /** Gateways within maxHops, best quality first. */
  readonly reach: readonly Reach[];
}

export interface Instance {
  readonly params: InstanceParams;
  readonly range: number;
  readonly x: Float64Array;
  readonly y: Float64Array;
  /** CSR adjacency. */
  readonly adjStart: Int32Array;
  readonly adj: Int32Array;
  readonly gateways: readonly GatewaySpec[];
  readonly clients: readonly ClientSpec[];
  /** Per node: nodes within maxHops − 1 hops (themselves included), i.e. transmissions of a flood scoped to maxHops. */
  readonly floodTx: Int32Array;
}

export function generateInstance(nodes: number, seed: number, overrides: Partial<InstanceParams> = {}): Instance {
  const params: InstanceParams = { ...DEFAULT_INSTANCE_PARAMS, ...overrides, nodes, seed };
  const root = new SimRng(seed);
  const place = root.fork(1);
  const roles = root.fork(2);
  const uplinks = root.fork(3);
  const demand = root.fork(4);

  const x = new Float64Array(nodes);
  const y = new Float64Array(nodes);
  for (let i = 0; i < nodes; i++) {
    x[i] = place.next();
    y[i] = place.next();
  }
  const range = Math.sqrt(params.meanDegree / (Math.PI * nodes));
  const { adjStart, adj } = buildAdjacency(x, y, range);

  // Roles: a shuffled prefix are gateways.
  const order = Array.from({ length: nodes }, (_, i) => i);
  for (let i = nodes - 1; i > 0; i--) {
    const j = roles.int(i + 1);
    [order[i], order[j]] = [order[j]!, order[i]!];
  }
  const gatewayCount = Math.max(1, Math.round(nodes * params.gatewayShare));
  const liarCount = Math.round(gatewayCount * params.liarShare);
  const gatewayNodes = order.slice(0, gatewayCount).sort((a, b) => a - b);
  const gatewayOfNode = new Int32Array(nodes).fill(-1);
  const gateways: GatewaySpec[] = gatewayNodes.map((node, index) => {
    gatewayOfNode[node] = index;
    const realKbps = Math.round(Math.min(params.uplinkMaxKbps, uplinks.pareto(params.uplinkXmKbps, params.uplinkAlpha)));
    const priceMsatPerKiB = params.priceMin + uplinks.int(params.priceMax - params.priceMin + 1);
    const outages: Outage[] = [];
    if (uplinks.next() < params.outageProb) {
      const downAt = Math.round(uplinks.uniform(60_000, Math.max(60_000, params.durationMs - 60_000)));
      const len = Math.max(10_000, Math.round(uplinks.exponential(params.outageMeanMs)));
      outages.push({ downAt, upAt: downAt + len });
    }
    return { index, node, realKbps, claimFactor: 1, priceMsatPerKiB, outages };
  });
  // Liars: a seeded choice among the gateways.
  const liarPick = [...gateways.keys()];
  for (let k = 0; k < liarCount; k++) {
    const j = k + roles.int(liarPick.length - k);
    [liarPick[k], liarPick[j]] = [liarPick[j]!, liarPick[k]!];
    const gi = liarPick[k]!;
    const g = gateways[gi]!;
    gateways[gi] = { ...g, realKbps: Math.max(1, Math.round(g.realKbps / params.liarFactor)), claimFactor: params.liarFactor };
  }

  const reachOf = reachFromGateways(params, x, y, range, adjStart, adj, gateways, nodes);
  const clients: ClientSpec[] = [];
  for (let node = 0; node < nodes; node++) {
    if (gatewayOfNode[node]! >= 0) continue;
    clients.push({
      index: clients.length,
      node,
      demandKbps: Math.round(demand.logUniform(params.demandMinKbps, params.demandMaxKbps)),
      valueMsatPerKiB: params.valueMin + demand.int(params.valueMax - params.valueMin + 1),
      startMs: Math.round(demand.uniform(0, params.arrivalWindowMs)),
      reach: (reachOf[node] ?? []).sort((a, b) => b.quality - a.quality || a.gateway - b.gateway),
    });
  }
  const floodTx = floodTransmissions(adjStart, adj, nodes, params.maxHops - 1);
  return { params, range, x, y, adjStart, adj, gateways, clients, floodTx };
}

function buildAdjacency(x: Float64Array, y: Float64Array, range: number): { adjStart: Int32Array; adj: Int32Array } {
  const n = x.length;
  // Grid buckets of side `range`: neighbours are in the 3×3 block around a node.
  const cells = Math.max(1, Math.floor(1 / range));
  const cellOf = (v: number) => Math.min(cells - 1, Math.floor(v * cells));
  const buckets: number[][] = Array.from({ length: cells * cells }, () => []);
  for (let i = 0; i < n; i++) buckets[cellOf(x[i]!) * cells + cellOf(y[i]!)]!.push(i);
  const lists: number[][] = Array.from({ length: n }, () => []);
  const r2 = range * range;
  for (let i = 0; i < n; i++) {
    const cx = cellOf(x[i]!);
    const cy = cellOf(y[i]!);
    for (let dx = -1; dx <= 1; dx++) {
      for (let dy = -1; dy <= 1; dy++) {
        const bx = cx + dx;
        const by = cy + dy;
        if (bx < 0 || by < 0 || bx >= cells || by >= cells) continue;
        for (const j of buckets[bx * cells + by]!) {
          if (j <= i) continue;
          const d2 = (x[i]! - x[j]!) ** 2 + (y[i]! - y[j]!) ** 2;
          if (d2 < r2) {
            lists[i]!.push(j);
            lists[j]!.push(i);
          }
        }
      }
    }
  }
  const adjStart = new Int32Array(n + 1);
  for (let i = 0; i < n; i++) adjStart[i + 1] = adjStart[i]! + lists[i]!.length;
  const adj = new Int32Array(adjStart[n]!);
  for (let i = 0; i < n; i++) {
    lists[i]!.sort((a, b) => a - b);
    adj.set(lists[i]!, adjStart[i]!);
  }
  return { adjStart, adj };
}

export function linkQuality(d: number, range: number): number {
  return 1 - 0.6 * (d / range) ** 2;
}

/** Per client node, the gateways within maxHops with their best path quality. */
function reachFromGateways(
  params: InstanceParams,
  x: Float64Array,
  y: Float64Array,
  range: number,
  adjStart: Int32Array,
  adj: Int32Array,
  gateways: readonly GatewaySpec[],
  n: number,
): Reach[][] {
  const out: Reach[][] = [];
  const q = new Float64Array(n);
  const hopsOf = new Int32Array(n);
  const stamp = new Int32Array(n).fill(-1);
  for (const g of gateways) {
    // Layered relaxation: after h rounds, q[v] is the best quality over ≤ h hops.
    const touched: number[] = [g.node];
    stamp[g.node] = g.index;
    q[g.node] = 1;
    hopsOf[g.node] = 0;
    // Frontier entries carry the quality their node had after the previous round, so
    // a round never extends a path it improved in the same round.
    let frontier: [number, number][] = [[g.node, 1]];
    for (let h = 1; h <= params.maxHops && frontier.length > 0; h++) {
      const improved = new Set<number>();
      for (const [u, qu] of frontier) {
        for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
          const v = adj[k]!;
          const d = Math.hypot(x[u]! - x[v]!, y[u]! - y[v]!);
          const cand = qu * linkQuality(d, range) * (h > 1 ? HOP_PENALTY : 1);
          if (stamp[v] !== g.index) {
            stamp[v] = g.index;
            q[v] = 0;
            touched.push(v);
          }
          if (v !== g.node && cand > q[v]!) {
            q[v] = cand;
            hopsOf[v] = h;
            improved.add(v);
          }
        }
      }
      frontier = [...improved].map((v) => [v, q[v]!]);
    }
    for (const v of touched) {
      if (v === g.node || !(q[v]! > 0)) continue;
      const hops = hopsOf[v]!;
      (out[v] ??= []).push({ gateway: g.index, hops, quality: q[v]!, pathKbps: Math.round((params.meshPhyKbps * q[v]!) / hops) });
    }
  }
  return out;
}

/** For each node, how many nodes lie within `radius` hops: the rebroadcasts of a scoped flood. */
function floodTransmissions(adjStart: Int32Array, adj: Int32Array, n: number, radius: number): Int32Array {
  const out = new Int32Array(n);
  const seen = new Int32Array(n).fill(-1);
  for (let s = 0; s < n; s++) {
    seen[s] = s;
    let frontier = [s];
    let count = 1;
    for (let h = 1; h <= radius && frontier.length > 0; h++) {
      const next: number[] = [];
      for (const u of frontier) {
        for (let k = adjStart[u]!; k < adjStart[u + 1]!; k++) {
          const v = adj[k]!;
          if (seen[v] === s) continue;
          seen[v] = s;
          next.push(v);
        }
      }
      count += next.length;
      frontier = next;
    }
    out[s] = count;
  }
  return out;
}
