// The selectors BitMesh is compared with, run on the same instance, clock, outages
// and delivery model. Each picks one gateway per client from what offers tell
// everyone (posted price, claimed capacity, known up or down) and what the mesh tells
// the client (path quality, hops); none runs an auction or keeps a reputation.
//
// Shared rules, generous to the baselines: a client chooses the moment it arrives
// (no discovery wait) among gateways known to be up whose price is within its value;
// its channel opens after the OPEN/ACCEPT/FUNDED exchange's latency; a client that
// received nothing while backlogged for one tick (the same failover rule as BitMesh)
// bans that gateway for the same FAILURE_BAN_MS and chooses again.
import { DEFAULT_FAILURE_BAN_MS } from '../core/market/constants.js';
import { allocateFair, uplinkUp } from './flow.js';
import type { Instance, Reach } from './instance.js';
import { DETECT_MS } from './market-world.js';
import type { StrategyMetrics } from './metrics.js';
import type { NetworkOptions } from './network.js';
import type { SimRng } from './rng.js';

export const BASELINES = ['cheapest-price', 'strongest-signal', 'lowest-mesh-metric', 'stake-weighted-random'] as const;
export type BaselineName = (typeof BASELINES)[number];

export class BaselineWorld {
  readonly #servedBy: Int32Array;
  readonly #pendingGw: Int32Array;
  readonly #pendingAt: Float64Array;
  readonly #banned: Map<number, number>[];
  readonly #order: number[][];
  readonly goodput: Float64Array;

  constructor(
    readonly name: BaselineName,
    readonly inst: Instance,
    readonly net: NetworkOptions,
    readonly rng: SimRng,
    readonly metrics: StrategyMetrics,
  ) {
    const n = inst.clients.length;
    this.#servedBy = new Int32Array(n).fill(-1);
    this.#pendingGw = new Int32Array(n).fill(-1);
    this.#pendingAt = new Float64Array(n).fill(Infinity);
    this.#banned = Array.from({ length: n }, () => new Map());
    this.#order = inst.gateways.map(() => []);
    this.goodput = new Float64Array(n);
  }

  clientArrives(c: number, t: number): void {
    this.#choose(c, t);
  }

  gatewayFailed(g: number, t: number): void {
    for (const c of this.#order[g]!) this.metrics.gatewayFailed(c, t);
  }

  tick(now: number, dtS: number, active: (c: number) => boolean): void {
    const inst = this.inst;
    for (let c = 0; c < inst.clients.length; c++) {
      if (this.#pendingGw[c]! >= 0 && this.#pendingAt[c]! <= now) {
        const g = this.#pendingGw[c]!;
        this.#pendingGw[c] = -1;
        this.#servedBy[c] = g;
        this.#order[g]!.push(c);
        this.metrics.serviceStarted(c, this.#pendingAt[c]!);
        this.#pendingAt[c] = Infinity;
      }
    }
    for (const g of inst.gateways) {
      allocateFair(this.#order[g.index]!, (c) => Math.min(inst.clients[c]!.demandKbps, reachTo(inst, c, g.index)!.pathKbps), uplinkUp(g.outages, now) ? g.realKbps : 0, this.goodput);
    }
    for (let c = 0; c < inst.clients.length; c++) {
      if (!active(c)) continue;
      const g = this.#servedBy[c]!;
      const x = g >= 0 ? this.goodput[c]! : 0;
      const gs = g >= 0 ? inst.gateways[g]! : undefined;
      this.metrics.tick(dtS, x, gs ? inst.clients[c]!.valueMsatPerKiB - gs.priceMsatPerKiB : 0, gs ? gs.priceMsatPerKiB : 0);
      if (g >= 0 && !(x > 0)) {
        // Nothing for a whole tick while wanting more: fail over.
        this.#banned[c]!.set(g, now + DEFAULT_FAILURE_BAN_MS);
        this.#stop(c);
        this.#choose(c, now);
      } else if (g < 0 && this.#pendingGw[c]! < 0) {
        this.#choose(c, now);
      }
    }
  }

  #stop(c: number): void {
    const g = this.#servedBy[c]!;
    const order = this.#order[g]!;
    order.splice(order.indexOf(c), 1);
    this.#servedBy[c] = -1;
    this.goodput[c] = 0;
  }

  #choose(c: number, t: number): void {
    const spec = this.inst.clients[c]!;
    const banned = this.#banned[c]!;
    const eligible = spec.reach.filter((r) => {
      const g = this.inst.gateways[r.gateway]!;
      return g.priceMsatPerKiB <= spec.valueMsatPerKiB && uplinkUp(g.outages, t, DETECT_MS) && !((banned.get(r.gateway) ?? -Infinity) > t);
    });
    const pick = this.#pick(eligible);
    if (!pick) return;
    this.#pendingGw[c] = pick.gateway;
    // OPEN, ACCEPT, FUNDED: three one-way trips over the path.
    this.#pendingAt[c] = t + 3 * pick.hops * (this.net.hopLatencyMs + this.net.hopJitterMs / 2);
  }

  #pick(eligible: readonly Reach[]): Reach | undefined {
    if (eligible.length === 0) return undefined;
    const gw = (r: Reach) => this.inst.gateways[r.gateway]!;
    switch (this.name) {
      case 'cheapest-price':
        return best(eligible, (a, b) => gw(a).priceMsatPerKiB - gw(b).priceMsatPerKiB || b.quality - a.quality);
      case 'strongest-signal':
        return best(eligible, (a, b) => b.quality - a.quality);
      case 'lowest-mesh-metric':
        return best(eligible, (a, b) => a.hops - b.hops || b.quality - a.quality);
      case 'stake-weighted-random': {
        const stake = (r: Reach) => gw(r).realKbps * gw(r).claimFactor;
        let total = 0;
        for (const r of eligible) total += stake(r);
        let u = this.rng.next() * total;
        for (const r of eligible) {
          u -= stake(r);
          if (u < 0) return r;
        }
        return eligible[eligible.length - 1];
      }
    }
  }
}

function best<T>(xs: readonly T[], cmp: (a: T, b: T) => number): T | undefined {
  let b: T | undefined;
  for (const x of xs) if (b === undefined || cmp(x, b) < 0) b = x;
  return b;
}

function reachTo(inst: Instance, c: number, g: number): Reach | undefined {
  return inst.clients[c]!.reach.find((r) => r.gateway === g);
}
