// The optimum over a run, as an upper bound on what any selector could reach.
//
// What is bounded (`bound`): 'assignment' (the default) bounds the best assignment of
// each client to one gateway, as the "exact assignment solver" would find it
// (assignment-bound.ts: the dual of its LP relaxation, within 0.01 % of that relaxation
// and 0.2 % of the best assignment an exact MIP solver found, on seed 1's end state);
// 'split' is the LP of optimum.ts, which lets a client take slices from several
// gateways at once and is a looser bound (kept to compare with earlier figures).
//
// Time is cut into windows of `windowMs`. For each window the bound is solved for the
// most generous state of that window: every client that has arrived by its end, and
// every uplink that is up at any moment in it. Each flow tick in the window adds that
// bound's welfare rate × dt, summed exactly as the selectors' welfare is. A window's
// state is a superset of every moment's in it, so the sum stays an upper bound; a
// solve is repeated only when the window's state changed. With windows of one flow
// tick (the default up to 2,000 nodes, run.ts) it bounds the optimum of the
// simulator's own delivery model tick by tick (the model holds each tick's state for
// the whole tick); longer windows (10,000 nodes, where solves would
// dominate the run) are a little generous around arrivals and outages, which only
// makes the reported ratios conservative (1.3 points on seed 1 at 1,000 nodes with
// 15 s windows: docs/benchmarks.md).
import { KIB_PER_KBIT } from './flow.js';
import type { Instance } from './instance.js';
import { AssignmentBound } from './assignment-bound.js';
import { solveOptimum, type OptimumEdge, type OptimumProblem } from './optimum.js';

/**
 * The instance's state at `end`: clients arrived by then, uplinks up per `up`, and an
 * edge for each client's gateway within reach that is worth using (value > cost).
 * Edges are grouped by client, as the assignment bound needs.
 */
export function problemAt(inst: Instance, end: number, up: (gateway: number) => boolean): OptimumProblem {
  const demandKbps = inst.clients.map((c) => (c.startMs <= end ? c.demandKbps : 0));
  const capacityKbps = inst.gateways.map((g, i) => (up(i) ? g.realKbps : 0));
  const edges: OptimumEdge[] = [];
  for (const c of inst.clients) {
    if (c.startMs > end) continue;
    for (const r of c.reach) {
      const profit = c.valueMsatPerKiB - inst.gateways[r.gateway]!.priceMsatPerKiB;
      if (profit > 0) edges.push({ client: c.index, gateway: r.gateway, capKbps: Math.min(c.demandKbps, r.pathKbps), profit });
    }
  }
  return { demandKbps, capacityKbps, edges };
}

/** Window for runs too large for one solve per flow tick. */
export const LARGE_RUN_WINDOW_MS = 15_000;

export type OptimumBound = 'assignment' | 'split';

export class OptimumTracker {
  welfareMsat = 0;
  solves = 0;
  solveMs = 0;
  #key = '';
  #rate = 0;
  readonly #assignment: AssignmentBound;

  constructor(
    readonly inst: Instance,
    readonly windowMs: number,
    readonly bound: OptimumBound = 'assignment',
  ) {
    this.#assignment = new AssignmentBound(inst.gateways.length);
  }

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
    const p = problemAt(this.inst, end, (g) => up[g] === '1');
    const rate = this.bound === 'split' ? solveOptimum(p).welfareRate : this.#assignment.solve(p.capacityKbps, p.edges).bound;
    this.solves++;
    this.solveMs += performance.now() - t0;
    return rate;
  }
}
