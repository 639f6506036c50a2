// The assignment bound never falls below the best single-gateway assignment (found here
// by enumerating every assignment), and is tight on hand-worked cases the split LP
// overstates. On generated instances it is compared with the split LP in
// optimum-track.test.ts.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AssignmentBound } from './assignment-bound.js';
import { solveOptimum, type OptimumEdge } from './optimum.js';

/** The best assignment by enumeration: each client to one of its gateways or none. */
function bestAssignment(clients: number, capacity: readonly number[], edges: readonly OptimumEdge[]): number {
  const byClient: OptimumEdge[][] = Array.from({ length: clients }, () => []);
  for (const e of edges) byClient[e.client]!.push(e);
  let best = 0;
  const pick: (OptimumEdge | undefined)[] = new Array(clients).fill(undefined);
  const visit = (c: number): void => {
    if (c === clients) {
      // Given the assignment, each gateway serves its clients by profit, highest first.
      let total = 0;
      capacity.forEach((cap, g) => {
        let left = cap;
        const mine = pick.filter((e): e is OptimumEdge => e?.gateway === g).sort((a, b) => b.profit - a.profit);
        for (const e of mine) {
          const x = Math.min(e.capKbps, left);
          total += x * e.profit;
          left -= x;
        }
      });
      best = Math.max(best, total);
      return;
    }
    pick[c] = undefined;
    visit(c + 1);
    for (const e of byClient[c]!) {
      pick[c] = e;
      visit(c + 1);
    }
  };
  visit(0);
  return best;
}

const instanceArb = fc
  .record({ clients: fc.integer({ min: 1, max: 6 }), gateways: fc.integer({ min: 1, max: 3 }) })
  .chain(({ clients, gateways }) =>
    fc.record({
      clients: fc.constant(clients),
      capacity: fc.array(fc.integer({ min: 0, max: 5000 }), { minLength: gateways, maxLength: gateways }),
      reach: fc.array(
        fc.array(fc.record({ gateway: fc.nat(gateways - 1), capKbps: fc.integer({ min: 1, max: 4000 }), profit: fc.integer({ min: 1, max: 50 }) }), { maxLength: gateways }),
        { minLength: clients, maxLength: clients },
      ),
    }),
  )
  .map(({ clients, capacity, reach }) => {
    const edges: OptimumEdge[] = [];
    reach.forEach((rs, client) => {
      const seen = new Set<number>();
      for (const r of rs) if (!seen.has(r.gateway)) (seen.add(r.gateway), edges.push({ client, ...r }));
    });
    return { clients, capacity, edges };
  });

describe('assignment bound', () => {
  it('property: never below the best assignment, found by enumerating them all', () => {
    fc.assert(
      fc.property(instanceArb, ({ clients, capacity, edges }) => {
        const exact = bestAssignment(clients, capacity, edges);
        const { bound } = new AssignmentBound(capacity.length).solve(capacity, edges);
        expect(bound).toBeGreaterThanOrEqual(exact - 1e-6 * Math.max(1, exact));
      }),
      { numRuns: 300 },
    );
  });

  it('a path-limited client gets one slow path, not the sum of two', () => {
    // Demand 10 Mbit/s, two gateways 5 Mbit/s away each: the split LP carries 10 through
    // both, an assignment 5 through one.
    const edges = [
      { client: 0, gateway: 0, capKbps: 5000, profit: 1 },
      { client: 0, gateway: 1, capKbps: 5000, profit: 1 },
    ];
    const split = solveOptimum({ demandKbps: [10_000], capacityKbps: [5000, 5000], edges }).welfareRate;
    const { bound } = new AssignmentBound(2).solve([5000, 5000], edges);
    expect(split).toBe(10_000);
    expect(bound).toBeGreaterThanOrEqual(5000);
    expect(bound).toBeLessThan(5000 * 1.01);
  });

  it('a full gateway goes to the client it is worth most to', () => {
    const edges = [
      { client: 0, gateway: 0, capKbps: 10_000, profit: 3 },
      { client: 1, gateway: 0, capKbps: 10_000, profit: 1 },
    ];
    const { bound } = new AssignmentBound(1).solve([10_000], edges);
    expect(bound).toBeGreaterThanOrEqual(30_000);
    expect(bound).toBeLessThan(30_000 * 1.01);
  });

  it('a down uplink (capacity 0) carries nothing, and the prices carry over to the next state', () => {
    const edges = [
      { client: 0, gateway: 0, capKbps: 4000, profit: 2 },
      { client: 0, gateway: 1, capKbps: 4000, profit: 1 },
    ];
    const b = new AssignmentBound(2);
    expect(b.solve([4000, 4000], edges).bound).toBeLessThan(8000 * 1.01);
    const down = b.solve([0, 4000], edges);
    expect(down.bound).toBeGreaterThanOrEqual(4000);
    expect(down.bound).toBeLessThan(4000 * 1.01);
  });
});
