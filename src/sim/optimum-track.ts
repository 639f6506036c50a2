// The optimum over a run, as an upper bound on what any selector could reach.
//
// Time is cut into windows of `windowMs`. For each window the exact optimum
// (optimum.ts) is solved for the most generous state of that window: every client
// that has arrived by its end, and every uplink that is up at any moment in it. Each
// flow tick in the window adds that optimum's welfare rate × dt, summed exactly as the
// selectors' welfare is. A window's state is a superset of every moment's in it, so
// the sum stays an upper bound; a solve is repeated only when the window's state
// changed. With windows of one flow tick (the default up to 2,000 nodes, run.ts) this
// is the exact optimum of the simulator's own delivery model, which also holds each
// tick's state for the whole tick; longer windows (10,000 nodes, where solves would
// dominate the run) are a little generous around arrivals and outages, which only
// makes the reported ratios conservative (1.3 points on seed 1 at 1,000 nodes with
// 15 s windows: docs/benchmarks.md).
import { KIB_PER_KBIT } from './flow.js';
import type { Instance } from './instance.js';
import { solveOptimum, type OptimumEdge } from './optimum.js';

/** Window for runs too large for one solve per flow tick. */
export const LARGE_RUN_WINDOW_MS = 15_000;

export class OptimumTracker {
  welfareMsat = 0;
  solves = 0;
  solveMs = 0;
  #key = '';
  #rate = 0;

  constructor(
    readonly inst: Instance,
    readonly windowMs: number,
  ) {}

  /** The tick at `now` covers (now − dt, now]. */
  tick(now: number, dtS: number): void {
    const inst = this.inst;
    const start = Math.floor((now - dtS * 1000) / this.windowMs) * this.windowMs;
    const end = start + this.windowMs;
    let active = 0;
    for (const c of inst.clients) if (c.startMs <= end) active++;
    const up = inst.gateways.map((g) => (g.outages.some((o) => o.downAt <= start && o.upAt >= end) ? '0' : '1')).join('');
    const key = `${active}:${up}`;
    if (key !== this.#key) {
      this.#key = key;
      this.#rate = this.#solve(end, up);
    }
    this.welfareMsat += this.#rate * dtS * KIB_PER_KBIT;
  }

  #solve(end: number, up: string): number {
    const t0 = performance.now();
    const inst = this.inst;
    const demand = inst.clients.map((c) => (c.startMs <= end ? c.demandKbps : 0));
    const capacity = inst.gateways.map((g, i) => (up[i] === '1' ? g.realKbps : 0));
    const edges: OptimumEdge[] = [];
    for (const c of inst.clients) {
      if (c.startMs > end) continue;
      for (const r of c.reach) {
        const profit = c.valueMsatPerKiB - inst.gateways[r.gateway]!.priceMsatPerKiB;
        if (profit > 0) edges.push({ client: c.index, gateway: r.gateway, capKbps: Math.min(c.demandKbps, r.pathKbps), profit });
      }
    }
    const rate = solveOptimum({ demandKbps: demand, capacityKbps: capacity, edges }).welfareRate;
    this.solves++;
    this.solveMs += performance.now() - t0;
    return rate;
  }
}
