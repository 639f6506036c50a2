// Where BitMesh's welfare falls short, in the run's final state (`bitmesh sim
// --explain`). Each client's welfare rate is compared with what its best gateway would
// give it (among those up, capacity ignored: (value − cost) × min(demand, path rate)),
// and its shortfall is put under one reason. A snapshot for tuning the market, not an
// acceptance figure: the optimum in the report respects capacity, this ideal does not.
//
// Reasons, checked in this order:
// - unserved: no gateway carries the client.
// - congested: it is on its best gateway but gets less than it could.
// - on_liar: it is on a gateway that over-claims.
// - best_is_liar: its best gateway is a liar (whose real capacity the optimum may use).
// - best_full: its best gateway has no advertised spare for it. `swappable` is what
//   moving the occupants with the cheapest alternatives (free capacity elsewhere)
//   out of full gateways, to let in the clients who gain most, would add (greedy).
// - best_discounted: its best gateway has room, but its reputation (discount < 0.95)
//   makes it look worse to this client.
// - within_hysteresis: the best has room and a fresh offer, and is better by less than
//   the better-offer ratio or not better at this client's price estimate.
// - not_compared: the best has room but no fresh offer reached the client.
import { DEFAULT_CAPACITY_MARGIN } from '../core/market/constants.js';
import { uplinkUp } from './flow.js';
import type { Instance } from './instance.js';
import type { MarketWorld } from './market-world.js';

export const GAP_REASONS = ['unserved', 'congested', 'on_liar', 'best_is_liar', 'best_full', 'best_discounted', 'within_hysteresis', 'not_compared'] as const;
export type GapReason = (typeof GAP_REASONS)[number];

export interface WelfareGaps {
  /** Σ over clients of the best gateway's welfare rate (the 100 % of the shares). */
  readonly idealRate: number;
  /** Share of the ideal BitMesh holds at the end. */
  readonly reachedShare: number;
  readonly reasons: Readonly<Record<GapReason, { readonly clients: number; readonly share: number }>>;
  /** Share of the ideal that greedy swaps at full gateways would add (see best_full). */
  readonly swappableShare: number;
}

const DISCOUNTED = 0.95;

export function welfareGaps(world: MarketWorld, inst: Instance, now: number): WelfareGaps {
  const up = inst.gateways.map((g) => uplinkUp(g.outages, now));
  // What each gateway advertises as free now (the market's own view of capacity).
  const free = inst.gateways.map((g, i) => (up[i] ? g.realKbps * DEFAULT_CAPACITY_MARGIN * g.claimFactor - world.gateways[i]!.load : 0));
  const realFree = inst.gateways.map((g, i) => (up[i] ? g.realKbps - world.gateways[i]!.load : 0));
  const need = (c: number, g: number) => Math.min(inst.clients[c]!.demandKbps, world.clients[c]!.reachByGateway.get(g)!.pathKbps);
  const rate = (c: number, g: number) => Math.max(0, inst.clients[c]!.valueMsatPerKiB - inst.gateways[g]!.priceMsatPerKiB) * need(c, g);
  const reasons = Object.fromEntries(GAP_REASONS.map((r) => [r, { clients: 0, loss: 0 }])) as Record<GapReason, { clients: number; loss: number }>;
  const add = (r: GapReason, loss: number) => {
    reasons[r].clients++;
    reasons[r].loss += loss;
  };
  let ideal = 0;
  let reached = 0;
  const excludedBy = new Map<number, number[]>();
  for (const spec of inst.clients) {
    const c = spec.index;
    let best = -1;
    let bestRate = 0;
    for (const r of spec.reach) {
      if (!up[r.gateway]) continue;
      const x = rate(c, r.gateway);
      if (x > bestRate) [best, bestRate] = [r.gateway, x];
    }
    ideal += bestRate;
    const s = world.clients[c]!;
    const cur = s.servedBy;
    const got = cur >= 0 ? Math.max(0, spec.valueMsatPerKiB - inst.gateways[cur]!.priceMsatPerKiB) * Math.min(world.goodput[c]!, spec.demandKbps) : 0;
    reached += Math.min(got, bestRate);
    const loss = Math.max(0, bestRate - got);
    if (best < 0 || loss <= 0) continue;
    if (cur < 0) add('unserved', loss);
    else if (cur === best) add('congested', loss);
    else if (inst.gateways[cur]!.claimFactor > 1) add('on_liar', loss);
    else if (inst.gateways[best]!.claimFactor > 1) add('best_is_liar', loss);
    else if (free[best]! < need(c, best)) {
      add('best_full', loss);
      const list = excludedBy.get(best) ?? [];
      list.push(c);
      excludedBy.set(best, list);
    } else {
      const hex = world.ids.hex[inst.gateways[best]!.node]!;
      if (s.market.gatewayView(hex, now).discount < DISCOUNTED) add('best_discounted', loss);
      else if (s.market.offerAgeMs(hex, now) !== undefined) add('within_hysteresis', loss);
      else add('not_compared', loss);
    }
  }
  // Greedy swaps at each full gateway: the excluded clients who gain most per kbit/s
  // replace the occupants who lose least by moving to a gateway with free capacity.
  let swappable = 0;
  for (const [g, excluded] of excludedBy) {
    const moveCost = (c: number) => {
      let alt = 0;
      for (const r of inst.clients[c]!.reach) if (r.gateway !== g && up[r.gateway] && realFree[r.gateway]! >= need(c, r.gateway)) alt = Math.max(alt, rate(c, r.gateway));
      return Math.max(0, rate(c, g) - alt);
    };
    const occupants = world.gateways[g]!.order
      .filter((c) => world.clients[c]!.servedBy === g)
      .map((c) => ({ kbps: world.goodput[c]!, cost: moveCost(c) }))
      .sort((a, b) => a.cost / Math.max(1, a.kbps) - b.cost / Math.max(1, b.kbps));
    const gains = excluded
      .map((c) => {
        const cur = world.clients[c]!.servedBy;
        return { need: need(c, g), gain: rate(c, g) - (cur >= 0 ? rate(c, cur) : 0) };
      })
      .sort((a, b) => b.gain / b.need - a.gain / a.need);
    let freed = Math.max(0, realFree[g]!);
    let next = 0;
    for (const e of gains) {
      let f = freed;
      let cost = 0;
      let j = next;
      while (f < e.need && j < occupants.length) {
        f += occupants[j]!.kbps;
        cost += occupants[j]!.cost;
        j++;
      }
      if (f < e.need || cost >= e.gain) break;
      swappable += e.gain - cost;
      freed = f - e.need;
      next = j;
    }
  }
  const share = (x: number) => (ideal > 0 ? x / ideal : 0);
  return {
    idealRate: ideal,
    reachedShare: share(reached),
    reasons: Object.fromEntries(GAP_REASONS.map((r) => [r, { clients: reasons[r].clients, share: share(reasons[r].loss) }])) as WelfareGaps['reasons'],
    swappableShare: share(swappable),
  };
}
