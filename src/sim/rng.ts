// A seeded random source for the simulator: mulberry32, plus the few distributions
// the instance generator draws from. Reproducible per seed; never used by the agent.
import type { Rng } from '../core/market/client-market.js';

export class SimRng {
  #a: number;

  constructor(seed: number) {
    this.#a = seed >>> 0;
  }

  /** Uniform in [0, 1). */
  next(): number {
    this.#a = (this.#a + 0x6d2b79f5) >>> 0;
    let t = this.#a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** As the market's injected `Rng`. */
  asRng(): Rng {
    return () => this.next();
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }

  uniform(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }

  /** Log-uniform in [lo, hi]: as many small values per decade as large ones. */
  logUniform(lo: number, hi: number): number {
    return lo * (hi / lo) ** this.next();
  }

  /** Pareto with scale `xm` and shape `alpha` (heavy tail for alpha ≤ 2). */
  pareto(xm: number, alpha: number): number {
    return xm / (1 - this.next()) ** (1 / alpha);
  }

  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  /** An independent stream for one purpose, so adding draws in one part keeps the others. */
  fork(label: number): SimRng {
    return new SimRng(Math.imul(this.#a ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(label + 1, 0xc2b2ae35));
  }
}
