import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { solveOptimum, type OptimumEdge, type OptimumProblem } from './optimum.js';

// With integral data a transportation problem has an integral optimum (total
// unimodularity), so brute force over integer flows finds the exact LP optimum.
function bruteForce(p: OptimumProblem): number {
  const edges = p.edges.filter((e) => e.profit > 0);
  let best = 0;
  const flow = new Array<number>(edges.length).fill(0);
  const go = (i: number, welfare: number): void => {
    if (i === edges.length) {
      best = Math.max(best, welfare);
      return;
    }
    const e = edges[i]!;
    for (let f = 0; f <= e.capKbps; f++) {
      flow[i] = f;
      const used = (pick: (x: OptimumEdge) => boolean) => edges.reduce((s, x, j) => (j <= i && pick(x) ? s + flow[j]! : s), 0);
      if (used((x) => x.client === e.client) > p.demandKbps[e.client]!) break;
      if (used((x) => x.gateway === e.gateway) > p.capacityKbps[e.gateway]!) break;
      go(i + 1, welfare + f * e.profit);
    }
    flow[i] = 0;
  };
  go(0, 0);
  return best;
}

const tinyProblem = fc
  .record({ clients: fc.integer({ min: 1, max: 3 }), gateways: fc.integer({ min: 1, max: 3 }) })
  .chain(({ clients, gateways }) =>
    fc.record({
      demandKbps: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: clients, maxLength: clients }),
      capacityKbps: fc.array(fc.integer({ min: 0, max: 4 }), { minLength: gateways, maxLength: gateways }),
      edges: fc.uniqueArray(
        fc.record({
          client: fc.integer({ min: 0, max: clients - 1 }),
          gateway: fc.integer({ min: 0, max: gateways - 1 }),
          capKbps: fc.integer({ min: 0, max: 3 }),
          profit: fc.integer({ min: -2, max: 9 }),
        }),
        { selector: (e) => `${e.client}:${e.gateway}`, maxLength: clients * gateways },
      ),
    }),
  );

describe('exact welfare optimum', () => {
  it('equals brute force on tiny instances', () => {
    fc.assert(
      fc.property(tinyProblem, (p) => {
        expect(solveOptimum(p).welfareRate).toBeCloseTo(bruteForce(p), 6);
      }),
      { numRuns: 300 },
    );
  });

  it('returns a feasible flow whose welfare is the reported one', () => {
    fc.assert(
      fc.property(tinyProblem, (p) => {
        const r = solveOptimum(p);
        let w = 0;
        p.edges.forEach((e, i) => {
          const f = r.flow[i]!;
          expect(f).toBeGreaterThanOrEqual(-1e-9);
          expect(f).toBeLessThanOrEqual(e.capKbps + 1e-9);
          if (e.profit <= 0) expect(f).toBe(0);
          w += f * e.profit;
        });
        expect(w).toBeCloseTo(r.welfareRate, 6);
        for (let c = 0; c < p.demandKbps.length; c++) {
          expect(p.edges.reduce((s, e, i) => (e.client === c ? s + r.flow[i]! : s), 0)).toBeLessThanOrEqual(p.demandKbps[c]! + 1e-9);
        }
        for (let g = 0; g < p.capacityKbps.length; g++) {
          expect(p.edges.reduce((s, e, i) => (e.gateway === g ? s + r.flow[i]! : s), 0)).toBeLessThanOrEqual(p.capacityKbps[g]! + 1e-9);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('bounds every single-gateway assignment from above', () => {
    // Two clients want 3 each; one gateway of 4 is worth 5 each; the other gives 1.
    const p: OptimumProblem = {
      demandKbps: [3, 3],
      capacityKbps: [4, 10],
      edges: [
        { client: 0, gateway: 0, capKbps: 3, profit: 5 },
        { client: 1, gateway: 0, capKbps: 3, profit: 5 },
        { client: 0, gateway: 1, capKbps: 3, profit: 1 },
        { client: 1, gateway: 1, capKbps: 3, profit: 1 },
      ],
    };
    // Best unsplit: both on gateway 0, 4 × 5 = 20; split: 4 × 5 + 2 × 1 = 22.
    expect(solveOptimum(p).welfareRate).toBe(22);
  });
});
