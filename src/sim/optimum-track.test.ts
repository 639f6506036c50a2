// The optimum tracker: solved once per flow tick's state it bounds the best assignment
// of the simulator's delivery model, never above the generous 15 s windows, re-solved
// only when the state changes, and tighter than the split-flow LP.
import { describe, expect, it } from 'vitest';
import { generateInstance } from './instance.js';
import { LARGE_RUN_WINDOW_MS, OptimumTracker, type OptimumBound } from './optimum-track.js';

function track(windowMs: number, seed: number, bound: OptimumBound = 'assignment'): OptimumTracker {
  const inst = generateInstance(200, seed, { durationMs: 3 * 60_000, outageProb: 0.5, outageMeanMs: 20_000 });
  const t = new OptimumTracker(inst, windowMs, bound);
  for (let now = 1000; now <= inst.params.durationMs; now += 1000) t.tick(now, 1);
  return t;
}

describe('OptimumTracker', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: per-tick states give a tighter bound than 15 s windows, from few solves`, () => {
      const exact = track(1000, seed);
      const windowed = track(LARGE_RUN_WINDOW_MS, seed);
      expect(exact.welfareMsat).toBeGreaterThan(0);
      expect(exact.welfareMsat).toBeLessThan(windowed.welfareMsat);
      // Arrivals over the first 30 s and the outages change the state, not every tick.
      expect(exact.solves).toBeLessThan(180);
      expect(exact.solves).toBeGreaterThan(windowed.solves);
    });

    it(`seed ${seed}: bounding single-gateway assignments is tighter than the split flows, by a few per cent`, () => {
      const assignment = track(1000, seed);
      const split = track(1000, seed, 'split');
      expect(assignment.welfareMsat).toBeLessThan(split.welfareMsat);
      expect(assignment.welfareMsat).toBeGreaterThan(0.9 * split.welfareMsat);
    });
  }
});
