// Payer and payee together over the simulated network (sim-pair.test-support.ts):
// the exposure bounds of DESIGN.md §6 under loss, reordering, duplication and
// crash-restart of either side, and the adaptive credit keeping a link full.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SimPair, fakeVerify, type SimOptions } from './sim-pair.test-support.js';
import { BYTES_PER_KIB } from './constants.js';
import { lossAllowanceBytes } from './payee.js';

interface Action {
  readonly atMs: number;
  readonly what: 'crashPayer' | 'crashPayee' | 'partition' | 'heal' | 'abort';
  /** abort: bytes the aborted download leaves stranded. */
  readonly bytes: number;
}

const SMALL: Partial<SimOptions> = {
  tickKiB: 1,
  priceMsatPerKiB: 100, // a satoshi every 10 ticks; credit cap 1 sat = 10 KiB
  linkBytesPerMs: 400,
  storeMinIntervalMs: 100,
  storeWriteMs: 3,
  chainLength: 8192,
  payee: { commitLagMs: 1000, commitLagTicks: 300, minGrantReserveBytes: 32 * 1024, maxGrantReserveBytes: 64 * 1024, lossStallMs: 500 },
  payer: { minTickReserve: 8, maxTickReserve: 32, resendInitialMs: 50, resendMaxMs: 400 },
};

/**
 * Checks the §6 bounds after every input either machine handles. The payee's bound, as
 * the issue states it:
 *   served ≤ paid + credit cap + loss allowance (+ what payee crashes cost, bounded below)
 * where the loss allowance is the loss share (2 %) of the bytes served, at least a tick:
 * the windowed tolerance and every write-off together stay inside it.
 */
function watchInvariants(sim: SimPair): { maxPayeePaid: number; maxAllowance: number; violations: string[] } {
  const tick = sim.opts.tickKiB * BYTES_PER_KIB;
  const tol = sim.payeeCfg.lossTolerancePermille;
  const w = { maxPayeePaid: 0, maxAllowance: 0, violations: [] as string[] };
  let lastCommitted = 0n;
  let lastBest = 0;
  let payeeCrashes = 0;
  let payerCrashes = 0;
  let preCrashDurable = 0;
  sim.onStep = (s) => {
    const payee = s.payee;
    if (s.payeeCrashes !== payeeCrashes) {
      payeeCrashes = s.payeeCrashes;
      // After any crash the payee can still close with (at least) the best state it acknowledged.
      const restored = payee?.best;
      if (preCrashDurable > 0 && (!restored || restored.seq < preCrashDurable)) w.violations.push(`payee lost acked commit ${preCrashDurable}`);
      if (restored && !fakeVerify(restored.paidMsat, restored.sig)) w.violations.push('restored best state does not verify');
      lastBest = restored?.seq ?? 0;
    }
    if (payee) {
      w.maxPayeePaid = Math.max(w.maxPayeePaid, payee.paidBytes);
      w.maxAllowance = Math.max(w.maxAllowance, lossAllowanceBytes(payee.servedBytes, tol, tick));
      const best = payee.best?.seq ?? 0;
      if (best < lastBest) w.violations.push(`payee best went back ${lastBest} → ${best}`);
      lastBest = best;
      preCrashDurable = payee.durableCommitSeq;
      if (payee.grantedBytes > payee.grantCeiling) w.violations.push('grant above the durable ceiling');
      if (payee.creditBytes > payee.creditCapBytes) w.violations.push('credit above its cap');
      if (payee.lossWrittenOffBytes + payee.toleranceBytes > payee.lossAllowanceBytes) {
        w.violations.push(`written off ${payee.lossWrittenOffBytes} + tolerance ${payee.toleranceBytes} > allowance ${payee.lossAllowanceBytes}`);
      }
    }
    // The payee never serves more than paid + credit + loss allowance (+ what crashes may cost, bounded below).
    const gaps = s.payeeCrashGaps.reduce((a, b) => a + b, 0);
    const cap = payee?.creditCapBytes ?? 0;
    if (s.realServed > w.maxPayeePaid + cap + w.maxAllowance + gaps) {
      w.violations.push(`served ${s.realServed} > paid ${w.maxPayeePaid} + credit ${cap} + loss allowance ${w.maxAllowance} + crash gaps ${gaps}`);
    }
    // The payer never pays more than received + one tick (+ two tick reserves per payer crash).
    if (s.payerCrashes !== payerCrashes) payerCrashes = s.payerCrashes;
    const allowance = s.realReceived + tick + payerCrashes * 2 * s.payerCfg.maxTickReserve * tick;
    if (s.payer.paidTicks * tick > allowance) w.violations.push(`payer paid ${s.payer.paidTicks} ticks for ${s.realReceived} bytes`);
    if (s.payer.committedMsat < lastCommitted) w.violations.push('payer state went back');
    lastCommitted = s.payer.committedMsat;
  };
  return w;
}

describe('channel over a simulated network', () => {
  it('happy path: bytes flow, ticks and commits follow, the payee holds a closable state', () => {
    const sim = new SimPair({ ...SMALL, seed: 3 });
    const w = watchInvariants(sim);
    sim.run(2000);
    expect(w.violations).toEqual([]);
    expect(sim.payee?.state).toBe('Open');
    expect(sim.realReceived).toBeGreaterThan(0.8 * 400 * 2000 * (1 - 0.0));
    // The payer paid for what it received, one tick ahead at most.
    expect(sim.payer.paidTicks).toBeGreaterThanOrEqual(Math.floor(sim.realReceived / 1024) - sim.payerCfg.maxTickReserve);
    expect(sim.payer.paidTicks).toBeLessThanOrEqual(Math.floor(sim.realReceived / 1024) + 1);
    expect(sim.payee!.best!.paidMsat).toBeGreaterThan(0n);
    expect(sim.payerErrors + sim.payeeErrors).toBe(0);
    sim.payee!.handle({ kind: 'closeRequested', reason: 0 }, sim.now);
    const effects = sim.payee!.drain();
    // The close goes out once the Closed state is on flash, not before.
    expect(effects.find((e) => e.kind === 'closeWith')).toBeUndefined();
    const persist = effects.find((e) => e.kind === 'persist');
    expect(persist).toMatchObject({ critical: true });
    sim.payee!.handle({ kind: 'persisted', version: (persist as { version: number }).version }, sim.now);
    expect(sim.payee!.drain().find((e) => e.kind === 'closeWith')).toMatchObject({ state: { seq: sim.payee!.best!.seq } });
  });

  // A counterexample found in CI: the payer crashed before FUNDED reached the payee (a
  // partition), restored into Open with ticks reserved, and never said FUNDED again.
  // And one from the loss rule: 31 KiB stranded at once behind a 10 KiB credit takes
  // three write-offs, each after a stall period, before bytes flow again.
  const REGRESSIONS = [
    { seed: -26331662, path: '3:0:1:1:1:1:1:4:2:2:2:3:3:3:6:4:0:3:6' },
    { seed: -782943344, path: '2:0:0:0:0:0:8:8:10:11:23:14:13' },
    // Three payee crashes: each one's gap is measured from the drift the earlier ones left.
    { seed: -1537987331, path: '1:0:0:0:0:0:2:3:3:2:2:6:6:11:1:5:4:2:4:4:18:18:19:28' },
    { seed: 1667563286, path: '20:0:0:0:0:0:4:2:8:2:2:2:2:2:4:4:5:7:5:6:6:6:19:7' },
  ];

  it.each([undefined, ...REGRESSIONS])('property: bounds hold under loss, reordering, duplication and crash-restart of either side (%o)', (replay) => {
    const action = fc.record({
      atMs: fc.integer({ min: 1, max: 2500 }),
      what: fc.constantFrom<Action['what']>('crashPayer', 'crashPayee', 'partition', 'heal', 'abort'),
      bytes: fc.integer({ min: 1, max: 32 * 1024 }),
    });
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 2 ** 31 }),
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.2, noNaN: true }),
        fc.double({ min: 0, max: 0.1, noNaN: true }),
        fc.double({ min: 0, max: 0.3, noNaN: true }),
        fc.integer({ min: 0, max: 30 }),
        fc.array(action, { maxLength: 6 }),
        (seed, latencyMs, lossRate, dupRate, reorderRate, dataLossPermille, actions) => {
          const sim = new SimPair({ ...SMALL, seed, latencyMs, lossRate, dupRate, reorderRate, reorderMs: 30, dataLossPermille });
          const w = watchInvariants(sim);
          for (const a of [...actions].sort((x, y) => x.atMs - y.atMs)) {
            sim.run(a.atMs);
            if (a.what === 'crashPayer') sim.crashPayer();
            else if (a.what === 'crashPayee') sim.crashPayee();
            else if (a.what === 'partition') sim.setControlLoss(1);
            else if (a.what === 'abort') sim.strand(a.bytes);
            else sim.setControlLoss(lossRate);
          }
          sim.run(2500);
          // Heal the network: the channel must deliver again (ladders, resends, catch-up).
          sim.setControlLoss(0);
          const before = sim.realReceived;
          // Long enough for the write-offs a stranding may need (one per stall period, each
          // at most the credit, until the allowance is spent and the payee closes instead).
          sim.run(6000 + 8 * sim.payeeCfg.lossStallMs);
          expect(w.violations).toEqual([]);
          // Each payee crash costs at most its grant reserve + the credit + the payer's tick reserve.
          const tick = sim.opts.tickKiB * BYTES_PER_KIB;
          const bound = sim.payeeCfg.maxGrantReserveBytes + (sim.payee?.creditCapBytes ?? 0) + (1 + 2 * sim.payerCfg.maxTickReserve) * tick;
          for (const g of sim.payeeCrashGaps) expect(g).toBeLessThanOrEqual(bound + w.maxAllowance);
          // Never a permanent stall: within the loss allowance the channel delivers again;
          // a mismatch beyond it closes the channel with the best state.
          const closedForLoss = sim.payeeEvents.some((e) => e.kind === 'event' && e.event.name === 'closing' && e.event.reason === 'loss');
          const closed = sim.payee?.state === 'Closed';
          // A payee that is not Closed has sent no close: a close goes out only once the
          // Closed state is on flash, so a crash in between leaves no close on chain
          // under a payee that serves on.
          if (!closed) expect(sim.closes).toEqual([]);
          if (closedForLoss && !closed) {
            // The decision did not reach flash before a crash: the restarted payee
            // judges the loss afresh (below: it delivers again within the tolerance).
            expect(sim.payeeCrashes).toBeGreaterThan(0);
          }
          if (closedForLoss && closed) {
            if (sim.payee?.best && sim.payee.best.paidMsat >= 1000n) expect(sim.closes.at(-1)?.seq).toBe(sim.payee.best.seq);
          } else if (!closed && dataLossPermille <= sim.payeeCfg.lossTolerancePermille) {
            expect(sim.realReceived - before, `stuck: payer ${sim.payer.state} payee ${sim.payee?.state}`).toBeGreaterThan(100 * 1024);
          }
        },
      ),
      replay ? { numRuns: 25, ...replay, endOnFailure: true } : { numRuns: 25 },
    );
  }, 60_000);

  it('loss above the tolerance is reported as a quality failure of the payee link', () => {
    const sim = new SimPair({ ...SMALL, seed: 5, dataLossPermille: 150 });
    sim.run(3000);
    expect(sim.payeeEvents.some((e) => e.kind === 'event' && e.event.name === 'lossBeyondTolerance')).toBe(true);
    const within = new SimPair({ ...SMALL, seed: 5, dataLossPermille: 15 });
    within.run(3000);
    expect(within.payeeEvents.some((e) => e.kind === 'event' && e.event.name === 'lossBeyondTolerance')).toBe(false);
    expect(within.realReceived).toBeGreaterThan(0.8 * 400 * 3000 * 0.985);
  });

  // The stall this rule fixes: an aborted download leaves bytes the payee counted and
  // the payer never read: each side then waits for the other (the payee for payment, the
  // payer for the bytes it pays for). Within the loss allowance the payee writes them off
  // and the flow resumes; beyond it, it closes with its best state. Never a stall.
  it('regression: bytes stranded by an aborted download within the loss allowance are written off and the flow resumes', () => {
    const sim = new SimPair({ ...SMALL, seed: 11 });
    const w = watchInvariants(sim);
    sim.run(4000); // ≈ 1.5 MiB served: 2 % of it covers the stranding
    sim.strand(24 * 1024); // more than the 10 KiB credit + the tolerance in force
    sim.run(6000);
    const r0 = sim.realReceived;
    sim.run(8000);
    expect(w.violations).toEqual([]);
    expect(sim.payee!.state).toBe('Open');
    expect(sim.realReceived - r0).toBeGreaterThan(0.7 * 400 * 2000);
    // Written off in steps of at most the credit, and counted for the agent to report.
    expect(sim.payee!.lossWrittenOffBytes).toBeGreaterThan(0);
    expect(sim.payee!.lossWrittenOffBytes).toBeLessThanOrEqual(sim.payee!.lossWriteOffs * sim.payee!.creditCapBytes);
    expect(sim.payee!.lossWrittenOffBytes).toBeLessThanOrEqual(sim.payee!.lossAllowanceBytes);
  });

  it('regression: a young channel stranding more than its loss allowance closes with the best state instead of stalling', () => {
    const sim = new SimPair({ ...SMALL, seed: 11 });
    const w = watchInvariants(sim);
    sim.run(300);
    sim.strand(24 * 1024);
    sim.run(4000);
    expect(w.violations).toEqual([]);
    const payee = sim.payee!;
    expect(payee.state).toBe('Closed');
    expect(sim.payeeEvents.some((e) => e.kind === 'event' && e.event.name === 'lossBeyondTolerance')).toBe(true);
    if (payee.best && payee.best.paidMsat >= 1000n) expect(sim.closes.at(-1)?.seq).toBe(payee.best.seq);
  });

  it('regression: aborted downloads within the loss share, one every half second for 20 s, keep the channel going', () => {
    const sim = new SimPair({ ...SMALL, seed: 12 });
    const w = watchInvariants(sim);
    for (let t = 500; t <= 20_000; t += 500) {
      sim.run(t);
      sim.strand(2 * 1024); // ≈ 1 % of what is served in between
    }
    const r0 = sim.realReceived;
    sim.run(25_000);
    expect(w.violations).toEqual([]);
    expect(sim.payee!.state).toBe('Open');
    // A write-off waits up to lossStallMs (500 ms here) after the window shrank: the
    // flow limps meanwhile, then runs at full window again (the old rule: ≈ 20 %).
    expect(sim.realReceived - r0).toBeGreaterThan(0.6 * 400 * 5000);
    expect(sim.payee!.lossWriteOffs).toBeGreaterThan(0);
    expect(sim.payeeEvents.some((e) => e.kind === 'event' && e.event.name === 'lossBeyondTolerance')).toBe(false);
  });

  it('a mismatch beyond the loss allowance closes the channel with the best state, never stalls it', () => {
    const sim = new SimPair({ ...SMALL, seed: 13 });
    const w = watchInvariants(sim);
    sim.run(1000);
    sim.strand(10 << 20); // the payer sees nothing more (or stopped paying)
    sim.run(10_000);
    expect(w.violations).toEqual([]);
    const payee = sim.payee!;
    expect(payee.state).toBe('Closed');
    expect(sim.closes.at(-1)?.seq).toBe(payee.best!.seq);
    // What the payee gave away: the credit + the loss allowance, nothing more.
    expect(sim.realServed - payee.paidBytes).toBeLessThanOrEqual(payee.creditCapBytes + payee.lossAllowanceBytes);
  });

  it('the tolerance is a window: after a long channel it is no larger than after a short one', () => {
    const sim = new SimPair({ ...SMALL, seed: 14 });
    sim.run(4000);
    const early = sim.payee!.toleranceBytes;
    sim.run(20_000);
    expect(sim.payee!.servedBytes).toBeGreaterThan(5 * 1024 * 1024);
    expect(sim.payee!.toleranceBytes).toBe(early);
    expect(sim.payee!.toleranceBytes).toBeLessThanOrEqual(sim.payee!.creditCapBytes);
  });

  it('persistence is rate-bounded: at most one write per interval per side', () => {
    const sim = new SimPair({ ...SMALL, seed: 9 });
    sim.run(5000);
    for (const s of [sim.payerStore, sim.payeeStore]) expect(s.writes).toBeLessThanOrEqual(5000 / 100 + 1);
  });

  describe.each([1, 5, 20])('adaptive credit at %i ms RTT', (rtt) => {
    it('keeps a 100 Mbit/s link full while the credit stays within maxCredit', () => {
      const link = 12_500; // bytes per ms
      const sim = new SimPair({
        seed: rtt,
        latencyMs: rtt / 2,
        linkBytesPerMs: link,
        dataStepMs: Math.min(1, rtt / 4),
        tickKiB: 16,
        priceMsatPerKiB: 1, // maxCredit 1 sat = 1000 KiB
        storeMinIntervalMs: 200,
        chainLength: 8192,
        // No loss tolerance: the window must come from the credit alone.
        payee: { lossTolerancePermille: 0 },
      });
      sim.run(2000);
      const r0 = sim.realReceived;
      sim.run(3000);
      const rate = (sim.realReceived - r0) / 1000;
      const payee = sim.payee!;
      expect(rate).toBeGreaterThan(0.9 * link);
      expect(payee.creditBytes).toBeLessThanOrEqual(payee.creditCapBytes);
      expect(payee.creditCapBytes).toBe(1000 * 1024);
      // The credit grew only as far as the round trip needs: ≈ rate × RTT × headroom.
      expect(payee.creditBytes).toBeLessThanOrEqual(Math.max(64 * 1024, 4 * link * rtt + 16 * 1024));
    });
  });

  it('without growth the initial credit would not fill the link at 20 ms (the adaptation matters)', () => {
    const link = 12_500;
    const sim = new SimPair({
      seed: 20,
      latencyMs: 10,
      linkBytesPerMs: link,
      tickKiB: 16,
      priceMsatPerKiB: 64, // 1 sat = 16 KiB: the cap pins the credit near its start
      storeMinIntervalMs: 200,
      chainLength: 8192,
      capacitySat: 1_000_000,
      payee: { lossTolerancePermille: 0 },
    });
    sim.run(2000);
    const r0 = sim.realReceived;
    sim.run(3000);
    expect((sim.realReceived - r0) / 1000).toBeLessThan(0.5 * link);
  });
});
