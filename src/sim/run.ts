// One simulation run: generate the instance, then drive BitMesh (MarketWorld), the
// four baselines and the optimum through the same virtual time, outages and
// delivery model, and report the figures side by side.
//
// Virtual time: an event queue (datagrams, market timers, resends, arrivals, HELLO
// beacons) plus a flow tick every TICK_MS at which uplinks carry traffic, clients
// report deliveries and gateways refresh estimates and beacon offers.
//
// Traffic accounting (per node per second, on the air, all hops counted):
// - control: HELLO, OFFER, RFQ, BID, AWARD, OPEN, ACCEPT, FUNDED, REPORT — what the market and
//   channel set-up cost whatever is bought;
// - payment: TICK and COMMIT, which grow with the bytes bought (one TICK per
//   tickKiB, one COMMIT per whole satoshi) and are reported apart, as a share of
//   goodput, because they are a per-byte overhead rather than standing control.
import { DEFAULT_PROBE_PASS_RATIO } from '../core/market/constants.js';
import { WireCodec } from '../core/wire/codec.js';
import { encodeMessage } from '../core/wire/envelope.js';
import { Crypto } from '../crypto/facade.js';
import { BASELINES, BaselineWorld } from './baselines.js';
import { EventQueue } from './event-queue.js';
import { uplinkUp } from './flow.js';
import { SimIdentities } from './identities.js';
import { generateInstance, type Instance, type InstanceParams } from './instance.js';
import { MarketWorld, SIM_OFFER_TERMS, type MarketWorldOptions, type WorldEvent } from './market-world.js';
import { StrategyMetrics, type StrategyReport } from './metrics.js';
import { DEFAULT_NETWORK_OPTIONS, SimNetwork, type Datagram, type NetworkOptions } from './network.js';
import { LARGE_RUN_WINDOW_MS, OptimumTracker, type OptimumBound } from './optimum-track.js';
import { SimRng } from './rng.js';
import { simCryptoBackend } from './sim-crypto.js';
import { welfareGaps, type WelfareGaps } from './welfare-gaps.js';

export const TICK_MS = 1_000;
export const LIAR_SAMPLE_MS = 10_000;
/** HELLO interval in the simulator (the agent's config default is 1 s; see docs/benchmarks.md). */
export const SIM_HELLO_INTERVAL_MS = 10_000;
/** Up to this many nodes the optimum is solved for every flow tick's state (optimum-track.ts). */
export const EXACT_OPTIMUM_MAX_NODES = 2_000;

export interface SimOptions {
  readonly nodes: number;
  readonly seed: number;
  readonly minutes: number;
  readonly instance?: Partial<InstanceParams>;
  readonly market?: MarketWorldOptions;
  readonly network?: NetworkOptions;
  readonly helloIntervalMs?: number;
  /** Progress callback (simulated ms), e.g. for a CLI spinner. */
  readonly onProgress?: (simMs: number) => void;
  /** Add `gaps`: where BitMesh's welfare falls short in the final state (welfare-gaps.ts). */
  readonly explain?: boolean;
  /** What the optimum bounds (optimum-track.ts): single-gateway assignments (default) or split flows. */
  readonly bound?: OptimumBound;
  /** Called once at the end with the BitMesh world, for diagnostics. */
  readonly inspect?: (world: MarketWorld, inst: Instance) => void;
}

export interface LiarReport {
  readonly liars: number;
  /** Clients whose award named a liar, sampled every LIAR_SAMPLE_MS. */
  readonly series: readonly number[];
  readonly peak: number;
  readonly atEnd: number;
  /** 1 − atEnd / peak. */
  readonly awardLoss: number;
  /**
   * Of `atEnd`, clients whose mesh path is slow enough that the liar's real uplink
   * passes their capacity probe (path × pass ratio ≤ what the uplink leaves them):
   * to them the liar delivers what any gateway could, and no probe can tell.
   */
  readonly atEndPathLimited: number;
}

export interface SimReport {
  readonly nodes: number;
  readonly seed: number;
  readonly minutes: number;
  readonly gateways: number;
  readonly clients: number;
  readonly clientsWithReach: number;
  readonly optimum: { readonly bound: OptimumBound; readonly welfareMsat: number; readonly windowMs: number; readonly solves: number; readonly solveMs: number };
  readonly strategies: readonly StrategyReport[];
  readonly control: {
    readonly kbpsPerNode: number;
    readonly byType: Readonly<Record<string, number>>;
  };
  readonly payment: { readonly kbpsPerNode: number; readonly shareOfGoodput: number };
  readonly liars: LiarReport;
  /** ClientMarket counters summed over all clients. */
  readonly market: Readonly<Record<string, number>>;
  readonly messages: { readonly delivered: number; readonly lost: number; readonly decodeErrors: number; readonly authErrors: number };
  /**
   * REPORTs flooded (`sent`), of them against honest gateways (`againstHonest`: a probe
   * that met congestion), copies that reached a client and passed their proof check
   * (`delivered`), and copies refused by it (`refused`: none are forged here).
   */
  readonly reports: { readonly sent: number; readonly againstHonest: number; readonly delivered: number; readonly refused: number };
  readonly wallMs: number;
  readonly peakRssMiB: number;
  /** With `explain`. */
  readonly gaps?: WelfareGaps;
}

type SimEvent = Datagram | WorldEvent | { readonly kind: 'arrive'; readonly client: number } | { readonly kind: 'tick' } | { readonly kind: 'hello'; readonly slot: number };

export function runSimulation(o: SimOptions): SimReport {
  const wall0 = performance.now();
  let peakRss = process.memoryUsage().rss;
  const durationMs = Math.round(o.minutes * 60_000);
  const inst = generateInstance(o.nodes, o.seed, { durationMs, ...o.instance });
  const netOpts = o.network ?? DEFAULT_NETWORK_OPTIONS;
  const root = new SimRng(o.seed ^ 0x5eed);
  const crypto = new Crypto(simCryptoBackend, 'simulation only');
  const ids = new SimIdentities(crypto, o.nodes, o.seed);
  const queue = new EventQueue<SimEvent>();
  const net = new SimNetwork(queue as EventQueue<Datagram | { kind: string }>, root.fork(1), netOpts);
  const starts = inst.clients.map((c) => c.startMs);

  const bitmeshMetrics = new StrategyMetrics('bitmesh', starts);
  const world = new MarketWorld(inst, crypto, ids, net, root.fork(2), bitmeshMetrics, (at, e) => queue.push(at, e), o.market);
  const baselines = BASELINES.map((name, i) => new BaselineWorld(name, inst, netOpts, root.fork(10 + i), new StrategyMetrics(name, starts)));
  const optimum = new OptimumTracker(inst, o.nodes <= EXACT_OPTIMUM_MAX_NODES ? TICK_MS : LARGE_RUN_WINDOW_MS, o.bound ?? 'assignment');

  for (const c of inst.clients) queue.push(c.startMs, { kind: 'arrive', client: c.index });
  for (let t = TICK_MS; t <= durationMs; t += TICK_MS) queue.push(t, { kind: 'tick' });
  const helloInterval = o.helloIntervalMs ?? SIM_HELLO_INTERVAL_MS;
  const helloSlots = Math.max(1, Math.round(helloInterval / TICK_MS));
  for (let t = 0; t < durationMs; t += TICK_MS) queue.push(t + TICK_MS / 2, { kind: 'hello', slot: (t / TICK_MS) % helloSlots });
  const helloCodec = new WireCodec();
  const helloSeq = new Uint32Array(o.nodes);

  const liarSeries: number[] = [];
  const active = (c: number, now: number) => inst.clients[c]!.startMs <= now;
  let lastTick = 0;
  let paymentAirBytes = 0;
  let deliveredBytes = 0;
  const tickBytes = SIM_OFFER_TERMS.tickKiB * 1024;
  const tickSize = paymentSizes().tick;
  const commitSize = paymentSizes().commit;

  for (let ev = queue.pop(); ev && ev.at <= durationMs; ev = queue.pop()) {
    const now = ev.at;
    const e = ev.item;
    switch (e.kind) {
      case 'datagram':
        world.receive(e.to, e.data, now);
        break;
      case 'clientWake':
      case 'resendCheck':
        world.clientEvent(e, now);
        break;
      case 'arrive':
        world.clientArrives(e.client, now);
        for (const b of baselines) b.clientArrives(e.client, now);
        break;
      case 'hello': {
        for (let node = e.slot; node < o.nodes; node += helloSlots) {
          const data = encodeMessage(
            helloCodec,
            'HELLO',
            { sender: ids.publicKeys[node]!, ts: Math.floor(now), nonce: nonce8(node, ++helloSeq[node]!), roles: 0, seq: helloSeq[node]! },
            { crypto, secretKey: ids.secretKeys[node]!, auxRand: () => new Uint8Array(32) },
          );
          net.chargeAir('HELLO', data.length, 1);
          for (let k = inst.adjStart[node]!; k < inst.adjStart[node + 1]!; k++) net.deliver(now, inst.adj[k]!, 1, data);
        }
        break;
      }
      case 'tick': {
        const dtS = (now - lastTick) / 1000;
        for (const g of inst.gateways) {
          for (const out of g.outages) {
            if (out.downAt > lastTick && out.downAt <= now) {
              world.gatewayFailed(g.index, out.downAt);
              for (const b of baselines) b.gatewayFailed(g.index, out.downAt);
            }
          }
        }
        world.flowTick(now, dtS, (c) => active(c, now));
        for (const b of baselines) b.tick(now, dtS, (c) => active(c, now));
        optimum.tick(now, dtS);
        for (let c = 0; c < inst.clients.length; c++) {
          const x = world.goodput[c]!;
          const g = world.clients[c]!.servedBy;
          if (!(x > 0) || g < 0) continue;
          const bytes = (x * 1000 * dtS) / 8;
          const hops = world.clients[c]!.reachByGateway.get(g)!.hops;
          deliveredBytes += bytes;
          const msat = (bytes / 1024) * world.clients[c]!.priceMsatPerKiB;
          paymentAirBytes += hops * ((bytes / tickBytes) * tickSize + (msat / 1000) * commitSize);
        }
        if (now % LIAR_SAMPLE_MS === 0) {
          let n = 0;
          for (let c = 0; c < inst.clients.length; c++) {
            const g = world.awardOf(c);
            if (g >= 0 && inst.gateways[g]!.claimFactor > 1) n++;
          }
          liarSeries.push(n);
          peakRss = Math.max(peakRss, process.memoryUsage().rss);
        }
        lastTick = now;
        o.onProgress?.(now);
        break;
      }
    }
  }

  o.inspect?.(world, inst);
  const gaps = o.explain ? welfareGaps(world, inst, durationMs) : undefined;
  let pathLimited = 0;
  for (let c = 0; c < inst.clients.length; c++) {
    const g = world.awardOf(c);
    if (g < 0 || !(inst.gateways[g]!.claimFactor > 1)) continue;
    const left = inst.gateways[g]!.realKbps - world.gateways[g]!.load + world.goodput[c]!;
    if (world.clients[c]!.reachByGateway.get(g)!.pathKbps * DEFAULT_PROBE_PASS_RATIO <= left) pathLimited++;
  }
  const seconds = durationMs / 1000;
  const perNodeKbps = (bytes: number) => (bytes * 8) / 1000 / o.nodes / seconds;
  const byType: Record<string, number> = {};
  for (const [type, bytes] of net.airBytes) byType[type] = perNodeKbps(bytes);
  const controlKbps = perNodeKbps(net.totalAirBytes());
  const strategies = [bitmeshMetrics.report(optimum.welfareMsat, controlKbps), ...baselines.map((b) => b.metrics.report(optimum.welfareMsat, null))];
  const peak = Math.max(0, ...liarSeries);
  const atEnd = liarSeries[liarSeries.length - 1] ?? 0;
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
  return {
    nodes: o.nodes,
    seed: o.seed,
    minutes: o.minutes,
    gateways: inst.gateways.length,
    clients: inst.clients.length,
    clientsWithReach: inst.clients.filter((c) => c.reach.length > 0).length,
    optimum: { bound: optimum.bound, welfareMsat: optimum.welfareMsat, windowMs: optimum.windowMs, solves: optimum.solves, solveMs: optimum.solveMs },
    strategies,
    control: { kbpsPerNode: controlKbps, byType },
    payment: { kbpsPerNode: perNodeKbps(paymentAirBytes), shareOfGoodput: deliveredBytes > 0 ? paymentAirBytes / deliveredBytes : 0 },
    liars: {
      liars: inst.gateways.filter((g) => g.claimFactor > 1).length,
      series: liarSeries,
      peak,
      atEnd,
      awardLoss: peak > 0 ? 1 - atEnd / peak : 0,
      atEndPathLimited: pathLimited,
    },
    market: sumCounters(world.clients.map((c) => c.market.counters as unknown as Record<string, number>)),
    messages: { delivered: net.delivered, lost: net.lost, decodeErrors: world.counters.decodeErrors, authErrors: world.counters.authErrors },
    reports: {
      sent: world.counters.reports,
      againstHonest: world.counters.reportsAgainstHonest,
      delivered: world.counters.reportsDelivered,
      refused: world.counters.reportErrors,
    },
    wallMs: performance.now() - wall0,
    peakRssMiB: peakRss / 1024 / 1024,
    ...(gaps ? { gaps } : {}),
  };
}

function sumCounters(all: readonly Record<string, number>[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of all) for (const [k, v] of Object.entries(c)) out[k] = (out[k] ?? 0) + v;
  return out;
}

function nonce8(node: number, seq: number): Uint8Array {
  const b = new Uint8Array(8);
  const v = new DataView(b.buffer);
  v.setUint32(0, node);
  v.setUint32(4, seq);
  return b;
}

/** Sizes of a real TICK and COMMIT datagram, for the payment-traffic estimate. */
function paymentSizes(): { tick: number; commit: number } {
  const codec = new WireCodec();
  const id = new Uint8Array(32).fill(7);
  const tick = encodeMessage(codec, 'TICK', { channelId: id, index: 100_000, preimage: id }).length;
  const commit = encodeMessage(codec, 'COMMIT', { channelId: id, seq: 100_000, paidMsat: 100_000_000, sig: new Uint8Array(64).fill(9) }).length;
  return { tick, commit };
}
