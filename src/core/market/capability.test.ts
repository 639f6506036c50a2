import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CapabilityEstimator, type ProbeResult } from './capability.js';

/** Feeds counters at a steady rate: kbps × ms / 8 bytes per step. */
function feed(e: CapabilityEstimator, from: number, to: number, kbps: number, start = { rx: 0, tx: 0 }, stepMs = 1000) {
  let rx = start.rx;
  for (let t = from; t <= to; t += stepMs) {
    e.counterSample({ now: t, wanRxBytes: rx, wanTxBytes: start.tx });
    rx += (kbps * stepMs) / 8;
  }
  return { rx, tx: start.tx };
}

const probe = (now: number, ok: boolean, extra: Partial<ProbeResult> = {}): ProbeResult => ({
  now,
  kind: 'tcp',
  target: '192.0.2.1:443',
  ok,
  latencyMs: 20,
  ...extra,
});

describe('capability estimate', () => {
  it('nothing measured: nothing advertised', () => {
    expect(new CapabilityEstimator().estimate(0)).toEqual({
      capacityKbps: 0,
      spareKbps: 0,
      confidencePermille: 0,
      latencyMs: 0,
      lossPermille: 0,
      uptimeS: 0,
    });
  });

  it('sustained counter throughput × margin; spare = capacity − current load', () => {
    const e = new CapabilityEstimator({ margin: 0.9 });
    const c = feed(e, 0, 60_000, 20_000); // 20 Mbit/s for a minute
    feed(e, 61_000, 70_000, 5_000, c); // then 5 Mbit/s
    const est = e.estimate(70_000);
    expect(est.capacityKbps).toBe(18_000);
    expect(est.spareKbps).toBe(13_000);
    expect(est.confidencePermille).toBeGreaterThan(500);
    expect(est.uptimeS).toBe(70);
  });

  it('a one-second burst is not sustained throughput', () => {
    const e = new CapabilityEstimator({ sustainWindowMs: 5000, margin: 1 });
    const c = feed(e, 0, 20_000, 1000);
    e.counterSample({ now: 21_000, wanRxBytes: c.rx + 100_000_000 / 8, wanTxBytes: 0 }); // 100 Mbit in one second
    const c2 = feed(e, 22_000, 40_000, 1000, { rx: c.rx + 100_000_000 / 8 + 125, tx: 0 });
    void c2;
    expect(e.estimate(40_000).capacityKbps).toBeLessThan(25_000); // averaged over ≥ 5 s, not 100 000
  });

  it('HTTP probe throughput counts; TCP/UDP probes give latency and loss', () => {
    const e = new CapabilityEstimator({ margin: 1 });
    e.probeResult(probe(1000, true, { kind: 'http', bytes: 1_250_000, durationMs: 1000, latencyMs: 30 })); // 10 Mbit/s
    e.probeResult(probe(2000, true, { latencyMs: 10 }));
    e.probeResult(probe(3000, false));
    e.probeResult(probe(4000, true, { kind: 'udp', latencyMs: 50 }));
    const est = e.estimate(5000);
    expect(est.capacityKbps).toBe(10_000);
    expect(est.latencyMs).toBe(30); // median of 30, 10, 50
    expect(est.lossPermille).toBe(250);
  });

  it('after N consecutive failed probes the uplink is down: capacity and uptime 0', () => {
    const e = new CapabilityEstimator({ downAfterFailures: 3 });
    feed(e, 0, 30_000, 10_000);
    for (let i = 1; i <= 3; i++) e.probeResult(probe(30_000 + i * 1000, false));
    expect(e.estimate(34_000)).toMatchObject({ capacityKbps: 0, spareKbps: 0, uptimeS: 0, confidencePermille: 0 });
    e.probeResult(probe(40_000, true));
    expect(e.estimate(45_000)).toMatchObject({ uptimeS: 5 });
    expect(e.estimate(45_000).capacityKbps).toBeGreaterThan(0);
  });

  it('confidence decays when stale and capacity leaves with its evidence', () => {
    const e = new CapabilityEstimator({ horizonMs: 3_600_000, confidenceHalfLifeMs: 600_000 });
    feed(e, 0, 60_000, 10_000);
    const fresh = e.estimate(60_000).confidencePermille;
    const stale = e.estimate(60_000 + 600_000).confidencePermille;
    expect(stale).toBeLessThanOrEqual(Math.ceil(fresh / 2));
    expect(e.estimate(60_000 + 3_700_000).capacityKbps).toBe(0);
  });

  it('counter reset and junk are survived and counted', () => {
    const e = new CapabilityEstimator({ margin: 1 });
    const c = feed(e, 0, 20_000, 8000);
    e.counterSample({ now: 21_000, wanRxBytes: 0, wanTxBytes: 0 }); // reboot of the counters
    e.counterSample({ now: 20_500, wanRxBytes: 1, wanTxBytes: 0 }); // time went backwards
    e.counterSample({ now: 22_000, wanRxBytes: NaN, wanTxBytes: 0 });
    e.servedLoad(22_000, -5);
    expect(e.rejectedInputs).toBe(3);
    void c;
    expect(e.estimate(22_000).capacityKbps).toBe(8000);
  });

  it('never advertises more than it measured (property)', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('counter' as const), dt: fc.integer({ min: -100, max: 20_000 }), bytes: fc.integer({ min: -1000, max: 50_000_000 }) }),
      fc.record({
        kind: fc.constant('probe' as const),
        dt: fc.nat(20_000),
        ok: fc.boolean(),
        bytes: fc.nat(50_000_000),
        durationMs: fc.oneof(fc.nat(10_000), fc.double()),
      }),
      fc.record({ kind: fc.constant('served' as const), dt: fc.nat(20_000), kbps: fc.oneof(fc.nat(100_000), fc.double()) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 80 }), fc.double({ min: 0.01, max: 1, noNaN: true }), (steps, margin) => {
        const e = new CapabilityEstimator({ margin, sustainWindowMs: 3000 });
        let now = 0;
        let rx = 0;
        let measuredMax = 0;
        for (const s of steps) {
          now += s.dt;
          if (s.kind === 'counter') {
            rx = Math.max(0, rx + s.bytes);
            e.counterSample({ now, wanRxBytes: rx, wanTxBytes: 0 });
          } else if (s.kind === 'probe') {
            e.probeResult({ now, kind: 'http', target: 'x', ok: s.ok, latencyMs: 1, bytes: s.bytes, durationMs: s.durationMs });
          } else e.servedLoad(now, s.kbps);
          for (const o of e.observations) measuredMax = Math.max(measuredMax, o.kbps);
          const est = e.estimate(now);
          expect(est.capacityKbps).toBeLessThanOrEqual(measuredMax);
          expect(est.spareKbps).toBeLessThanOrEqual(est.capacityKbps);
          for (const v of Object.values(est)) expect(Number.isSafeInteger(v) && v >= 0).toBe(true);
          expect(est.confidencePermille).toBeLessThanOrEqual(1000);
        }
      }),
    );
  });
});
