// Acceptance figures of issue 4 on small instances, so the suite stays fast: 300 nodes,
// three seeds, 5 simulated minutes each. The 1000- and 10,000-node runs are in
// docs/benchmarks.md (Simulator), made with `bitmesh sim`.
//
// Asserted here: BitMesh beats every baseline on welfare on the same instance; the
// control plane stays under 2 kbit/s per node; nearly every client is served; every
// message decodes and authenticates; capacity probes, re-quotes and reports happen
// (reports against honest gateways at most a fifth of them); and at the
// end liars keep (nearly) only clients whose mesh path their real uplink fills — the
// clients no probe can tell a liar from an honest gateway. Liars are too few at 300 nodes for a stable
// award-loss figure, and 300 nodes over 5 minutes are not the instance, so the
// welfare floor here (0.88 of the optimum) is a guard, not the target.
//
// The issue's own figures are asserted on its own instance below: 1000 nodes, 10
// simulated minutes, seeds 1–3 (15–45 s each; the runs are deterministic): welfare at
// least 0.95 of the optimum (an upper bound on the best single-gateway assignment,
// optimum-track.ts) and above every baseline, control at most 2 kbit/s per node, liars
// losing at least 80 % of their awards. Seventeen seeds are in docs/benchmarks.md
// (Simulator). The 60 s wall-time bound is a benchmark there, not asserted in a test.
import { describe, expect, it } from 'vitest';
import { runSimulation, type SimReport } from './run.js';

describe('simulation acceptance (300 nodes, 3 seeds)', () => {
  const reports = new Map<number, SimReport>();
  const run = (seed: number) => {
    let r = reports.get(seed);
    if (!r) {
      r = runSimulation({ nodes: 300, seed, minutes: 5, explain: true });
      reports.set(seed, r);
    }
    return r;
  };

  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: BitMesh beats every baseline, within the control budget`, { timeout: 120_000 }, () => {
      const r = run(seed);
      const [bitmesh, ...baselines] = r.strategies;
      expect(bitmesh!.name).toBe('bitmesh');
      expect(baselines.map((b) => b.name)).toEqual(['cheapest-price', 'strongest-signal', 'lowest-mesh-metric', 'stake-weighted-random']);
      for (const b of baselines) expect(bitmesh!.welfareRatio).toBeGreaterThan(b.welfareRatio);
      expect(bitmesh!.welfareRatio).toBeGreaterThan(0.88);
      expect(bitmesh!.welfareRatio).toBeLessThanOrEqual(1 + 1e-9); // the optimum is an upper bound
      for (const b of baselines) expect(b.welfareRatio).toBeLessThanOrEqual(1 + 1e-9);
      expect(r.control.kbpsPerNode).toBeLessThanOrEqual(2);
      expect(bitmesh!.servedShare).toBeGreaterThan(0.98);
      expect(bitmesh!.medianFirstPaidByteMs).toBeLessThan(2_000);
      expect(r.messages.decodeErrors).toBe(0);
      expect(r.messages.authErrors).toBe(0);
      expect(r.market['probes']).toBeGreaterThan(0);
      expect(r.market['jointProbes']).toBeGreaterThan(0); // a gateway's clients probe it together
      expect(r.market['shortfalls']).toBeGreaterThan(0);
      expect(r.market['requotes']).toBeGreaterThan(0); // full gateways reclaim capacity for clients paying more
      expect(r.liars.atEnd - r.liars.atEndPathLimited).toBeLessThanOrEqual(Math.max(1, 0.1 * r.liars.atEnd));
      // Failed probes are reported, each REPORT reaches other clients and proves a real
      // channel with the gateway, and honest gateways are (nearly) never reported.
      expect(r.reports.sent).toBeGreaterThan(0);
      expect(r.reports.delivered).toBeGreaterThan(r.reports.sent);
      expect(r.reports.refused).toBe(0);
      expect(r.reports.againstHonest).toBeLessThanOrEqual(Math.max(1, 0.2 * r.reports.sent));
    });

    it(`seed ${seed}: --explain accounts for every bit of the gap to each client's best gateway`, { timeout: 120_000 }, () => {
      const g = run(seed).gaps!;
      expect(g.idealRate).toBeGreaterThan(0);
      const shares = Object.values(g.reasons).map((x) => x.share);
      for (const x of [g.reachedShare, ...shares]) expect(x).toBeGreaterThanOrEqual(0);
      expect(g.reachedShare + shares.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 9);
      // Swaps only move clients counted under best_full, net of what the movers lose.
      expect(g.swappableShare).toBeGreaterThanOrEqual(0);
      expect(g.swappableShare).toBeLessThanOrEqual(g.reasons.best_full.share + 1e-12);
    });
  }
});

describe('issue 4 acceptance (1000 nodes, 10 minutes, seeds 1–3)', () => {
  for (const seed of [1, 2, 3]) {
    it(`seed ${seed}: welfare ≥ 0.95 of the optimum and above every baseline, control ≤ 2 kbit/s, liars lose ≥ 80 %`, { timeout: 300_000 }, () => {
      const r = runSimulation({ nodes: 1000, seed, minutes: 10 });
      const [bitmesh, ...baselines] = r.strategies;
      expect(r.optimum.bound).toBe('assignment');
      expect(bitmesh!.welfareRatio).toBeGreaterThanOrEqual(0.95);
      expect(bitmesh!.welfareRatio).toBeLessThanOrEqual(1 + 1e-9);
      for (const b of baselines) expect(bitmesh!.welfareRatio).toBeGreaterThan(b.welfareRatio);
      expect(r.control.kbpsPerNode).toBeLessThanOrEqual(2);
      expect(r.liars.liars).toBeGreaterThan(0);
      expect(r.liars.awardLoss).toBeGreaterThanOrEqual(0.8);
    });
  }
});
