// An upper bound on the best assignment of clients to gateways: each client to one
// gateway at most (as every selector in the simulator, and the market, assign them),
// getting up to min(demand, path) from it, each gateway carrying at most its capacity.
//
// Why not optimum.ts alone: that LP lets a client take slices from several gateways at
// once, each up to its path's rate. Path-limited clients then add up slices of several
// slow paths, and the LP packs every uplink to the last kbit/s with them, which no
// assignment can do. Its value is an upper bound on the assignment optimum, but a
// loose one (2.5 % above it at the end of seed 1, 1000 nodes; docs/benchmarks.md).
//
// The assignment problem is an integer program. Its LP relaxation gives each client a
// share z_e of one unit over its edges e (Σ_e z_e ≤ 1, x_e = cap_e·z_e), and its dual is
//
//   D(λ) = Σ_g λ_g·C_g + Σ_c max(0, max_{e of c} cap_e·(profit_e − λ_g(e)))
//
// over gateway prices λ ≥ 0. By weak duality every λ ≥ 0 gives D(λ) ≥ the relaxation ≥
// the best assignment, so nothing here needs to converge for the bound to hold: a
// better λ only makes it tighter. λ is found by gradient descent on a smoothed D
// (log-sum-exp for each client's max, its temperature falling to a small share of the
// client's scale), with Adam step sizes per gateway, warm-started from the previous
// state's prices; the bound returned is the exact, unsmoothed D at the best λ seen.
// The caller takes the smaller of this and the LP of optimum.ts: both are upper bounds.
import type { OptimumEdge } from './optimum.js';

export interface AssignmentBoundResult {
  /** An upper bound on Σ profit · flow over single-gateway assignments (profit units × kbit/s). */
  readonly bound: number;
  readonly iterations: number;
}

const FIRST_ITERATIONS = 600;
const WARM_ITERATIONS = 150;
const EVAL_EVERY = 25;
/** Temperature of each client's soft max, as a share of its largest cap × profit. */
const TAU_START = 0.02;
const TAU_END = 0.001;
const LR_START = 0.5;
const BETA1 = 0.9;
const BETA2 = 0.999;
const POLISH_PASSES = 5;

export class AssignmentBound {
  /** Gateway prices of the last solve: the next, nearby state starts from them. */
  #lambda: Float64Array;

  constructor(readonly gateways: number) {
    this.#lambda = new Float64Array(gateways);
  }

  /** `edges` must be grouped by client (all edges of one client together). */
  solve(capacityKbps: ArrayLike<number>, edges: readonly OptimumEdge[]): AssignmentBoundResult {
    const G = this.gateways;
    const cap = new Float64Array(G);
    for (let g = 0; g < G; g++) cap[g] = Math.max(0, capacityKbps[g] ?? 0);
    // Edges to an uplink with no capacity cannot carry anything: left out (λ would run off).
    const a: number[] = [];
    const b: number[] = [];
    const gw: number[] = [];
    const start: number[] = [0];
    const scale: number[] = [];
    let prev = -1;
    let s = 0;
    for (const e of edges) {
      if (!(e.profit > 0) || !(e.capKbps > 0) || !(cap[e.gateway]! > 0)) continue;
      if (e.client !== prev && prev !== -1) {
        start.push(a.length);
        scale.push(s);
        s = 0;
      }
      prev = e.client;
      a.push(e.capKbps * e.profit);
      b.push(e.capKbps);
      gw.push(e.gateway);
      s = Math.max(s, e.capKbps * e.profit);
    }
    if (a.length > 0) {
      start.push(a.length);
      scale.push(s);
    }
    const A = Float64Array.from(a);
    const B = Float64Array.from(b);
    const Gw = Int32Array.from(gw);
    const S = Int32Array.from(start);
    const Sc = Float64Array.from(scale);
    const clients = Sc.length;

    const lam = this.#lambda;
    const exact = (): number => {
      let d = 0;
      for (let g = 0; g < G; g++) d += lam[g]! * cap[g]!;
      for (let c = 0; c < clients; c++) {
        let m = 0;
        for (let i = S[c]!; i < S[c + 1]!; i++) {
          const v = A[i]! - B[i]! * lam[Gw[i]!]!;
          if (v > m) m = v;
        }
        d += m;
      }
      return d;
    };
    let best = exact();
    let bestLam = lam.slice();
    const iterations = best === 0 ? 0 : this.#warm ? WARM_ITERATIONS : FIRST_ITERATIONS;
    const grad = new Float64Array(G);
    const m1 = new Float64Array(G);
    const m2 = new Float64Array(G);
    const w = new Float64Array(a.length);
    for (let it = 0; it < iterations; it++) {
      const frac = it / iterations;
      const tau = TAU_START * Math.pow(TAU_END / TAU_START, frac);
      const lr = LR_START * (1 - 0.9 * frac);
      for (let g = 0; g < G; g++) grad[g] = cap[g]!;
      for (let c = 0; c < clients; c++) {
        const lo = S[c]!;
        const hi = S[c + 1]!;
        let m = 0;
        for (let i = lo; i < hi; i++) {
          const v = A[i]! - B[i]! * lam[Gw[i]!]!;
          w[i] = v;
          if (v > m) m = v;
        }
        const t = tau * Sc[c]!;
        let z = Math.exp(-m / t); // the "serve nobody" option, value 0
        for (let i = lo; i < hi; i++) {
          const x = Math.exp((w[i]! - m) / t);
          w[i] = x;
          z += x;
        }
        for (let i = lo; i < hi; i++) {
          const g = Gw[i]!;
          grad[g] = grad[g]! - (B[i]! * w[i]!) / z;
        }
      }
      const k = it + 1;
      for (let g = 0; g < G; g++) {
        if (!(cap[g]! > 0)) continue;
        const gg = grad[g]! / cap[g]!; // per unit of capacity: gateways of any size move alike
        m1[g] = BETA1 * m1[g]! + (1 - BETA1) * gg;
        m2[g] = BETA2 * m2[g]! + (1 - BETA2) * gg * gg;
        const step = (lr * (m1[g]! / (1 - BETA1 ** k))) / (Math.sqrt(m2[g]! / (1 - BETA2 ** k)) + 1e-9);
        lam[g] = Math.max(0, lam[g]! - step);
      }
      if (k % EVAL_EVERY === 0 || k === iterations) {
        const d = exact();
        if (d < best) {
          best = d;
          bestLam = lam.slice();
        }
      }
    }
    // Polish: exact minimisation along one gateway's price at a time never raises D,
    // and settles what the smoothing leaves a little off (a gateway with one client).
    lam.set(bestLam);
    const byGateway: number[][] = Array.from({ length: G }, () => []);
    const clientOf = new Int32Array(A.length);
    for (let c = 0; c < clients; c++) {
      for (let i = S[c]!; i < S[c + 1]!; i++) {
        byGateway[Gw[i]!]!.push(i);
        clientOf[i] = c;
      }
    }
    for (let pass = 0; pass < POLISH_PASSES; pass++) {
      for (let g = 0; g < G; g++) lam[g] = this.#bestPrice(g, byGateway[g]!, cap[g]!, A, B, Gw, S, clientOf, lam);
      const d = exact();
      if (!(d < best)) break;
      best = d;
    }
    this.#lambda = lam.slice();
    this.#warm = true;
    return { bound: best, iterations };
  }

  /**
   * The price of gateway g that minimises D with every other price fixed: each of its
   * edges stops being its client's best option (against the client's best other edge,
   * or serving nobody) at t_e; the price is the t_e at which the edges still preferring
   * g no longer fit its capacity, or 0 if they all fit.
   */
  #bestPrice(g: number, mine: readonly number[], capacity: number, A: Float64Array, B: Float64Array, Gw: Int32Array, S: Int32Array, clientOf: Int32Array, lam: Float64Array): number {
    const ts: [number, number][] = [];
    for (const i of mine) {
      const c = clientOf[i]!;
      let alt = 0;
      for (let j = S[c]!; j < S[c + 1]!; j++) {
        if (j === i) continue;
        const v = A[j]! - B[j]! * lam[Gw[j]!]!;
        if (v > alt) alt = v;
      }
      const t = (A[i]! - alt) / B[i]!;
      if (t > 0) ts.push([t, B[i]!]);
    }
    ts.sort((x, y) => y[0] - x[0]);
    let sum = 0;
    for (const [t, b] of ts) {
      sum += b;
      if (sum > capacity) return t;
    }
    return 0;
  }

  #warm = false;
}
