// The assignment bound against an independent exact solver: HiGHS (MIT; its WebAssembly
// build, a dev dependency only) solves the assignment problem itself as a mixed-integer
// program on generated instances, to within 0.1 % of its optimum (exactly, it can take
// minutes). The bound must sit at or above the assignment HiGHS found and within 1 % of
// it. (That it never falls below the exact optimum is the property test in
// assignment-bound.test.ts, by enumeration, and weak duality.)
//
//   maximise   Σ_e profit_e · x_e
//   subject to Σ_{e of c} y_e ≤ 1          (each client on one gateway at most)
//              x_e ≤ cap_e · y_e            (up to min(demand, path) from it)
//              Σ_{e at g} x_e ≤ C_g         (the uplink's real capacity)
//              y binary, x ≥ 0
import highsModule from 'highs';
import { describe, expect, it } from 'vitest';
import { AssignmentBound } from './assignment-bound.js';
import { generateInstance } from './instance.js';
import { solveOptimum, type OptimumProblem } from './optimum.js';
import { problemAt } from './optimum-track.js';

// The package's types describe its CommonJS build; imported as ESM, the default is the loader.
const highsLoader = highsModule as unknown as (typeof highsModule)['default'];

function lpFormat(p: OptimumProblem): string {
  const rows: string[] = [];
  const byClient = new Map<number, number[]>();
  const byGateway = new Map<number, number[]>();
  p.edges.forEach((e, i) => {
    byClient.set(e.client, [...(byClient.get(e.client) ?? []), i]);
    byGateway.set(e.gateway, [...(byGateway.get(e.gateway) ?? []), i]);
    rows.push(` l${i}: x${i} - ${e.capKbps} y${i} <= 0`);
  });
  for (const [c, es] of byClient) rows.push(` c${c}: ${es.map((i) => `y${i}`).join(' + ')} <= 1`);
  for (const [g, es] of byGateway) rows.push(` g${g}: ${es.map((i) => `x${i}`).join(' + ')} <= ${p.capacityKbps[g]}`);
  const objective = p.edges.map((e, i) => `${e.profit} x${i}`).join(' + ');
  return `Maximize\n obj: ${objective}\nSubject To\n${rows.join('\n')}\nBinary\n ${p.edges.map((_, i) => `y${i}`).join(' ')}\nEnd\n`;
}

describe('assignment bound against an exact MIP solver (HiGHS)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: at or above the best assignment HiGHS finds, within 1 % of it, and below the split LP`, { timeout: 60_000 }, async () => {
      const inst = generateInstance(200, seed, { durationMs: 3 * 60_000, outageProb: 0.5, outageMeanMs: 20_000 });
      // Every client arrived; the uplinks up in the middle of the run (some are down).
      const mid = 90_000;
      const p = problemAt(inst, Infinity, (g) => !inst.gateways[g]!.outages.some((o) => o.downAt <= mid && o.upAt > mid));
      const highs = await highsLoader();
      const mip = highs.solve(lpFormat(p), { mip_rel_gap: 1e-3, time_limit: 50 });
      expect(mip.Status).toBe('Optimal');
      const exact = mip.ObjectiveValue;
      const { bound } = new AssignmentBound(inst.gateways.length).solve(p.capacityKbps, p.edges);
      const split = solveOptimum(p).welfareRate;
      expect(exact).toBeGreaterThan(0);
      expect(bound).toBeGreaterThanOrEqual(exact * (1 - 1e-9));
      expect(bound).toBeLessThan(exact * 1.01);
      expect(bound).toBeLessThan(split);
    });
  }
});
