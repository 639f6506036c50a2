import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { nextJointProbeSlot } from './joint-probe.js';
import { OfferSchedule, offerContent, type OfferTerms } from './offer.js';
import type { CapabilityEstimate } from './capability.js';

const terms: OfferTerms = { tickKiB: 16, creditKiB: 64, maxCreditMsat: 1000, minChannelSat: 10_000, maxChannelSat: 1_000_000, zeroConfCapSat: 100_000 };
const est = (capacityKbps: number, spareKbps = capacityKbps): CapabilityEstimate => ({
  capacityKbps,
  spareKbps,
  confidencePermille: 800,
  latencyMs: 20,
  lossPermille: 5,
  uptimeS: 100,
});

describe('offers', () => {
  it('content comes from the estimate, price and terms; spare never above capacity', () => {
    expect(offerContent(est(1000, 5000), 250, terms)).toEqual({
      priceMsatPerKiB: 250,
      capacityKbps: 1000,
      spareKbps: 1000,
      confidencePermille: 800,
      latencyMs: 20,
      lossPermille: 5,
      ...terms,
    });
    expect(() => offerContent(est(1000), 1.5, terms)).toThrow(/priceMsatPerKiB/);
  });

  it('first offer at once, then every interval; seq counts up', () => {
    const s = new OfferSchedule({ intervalMs: 5000, minGapMs: 1000 });
    expect(s.pollTimeout()).toBeUndefined();
    s.update(offerContent(est(1000), 100, terms), 42);
    expect(s.pollTimeout()).toBe(42);
    expect(s.pollOffer(42)?.seq).toBe(1);
    expect(s.pollOffer(43)).toBeUndefined();
    expect(s.pollTimeout()).toBe(5042);
    s.update(offerContent(est(1050), 100, terms), 2000); // a 5 % move is not news
    expect(s.pollTimeout()).toBe(5042);
    expect(s.pollOffer(5042)).toMatchObject({ seq: 2, capacityKbps: 1050 });
  });

  it('a real change goes out after the minimum gap', () => {
    const s = new OfferSchedule({ intervalMs: 5000, minGapMs: 1000 });
    s.update(offerContent(est(1000), 100, terms), 0);
    s.pollOffer(0);
    s.update(offerContent(est(1000), 120, terms), 200); // price change
    expect(s.pollTimeout()).toBe(1000);
    expect(s.pollOffer(999)).toBeUndefined();
    expect(s.pollOffer(1000)).toMatchObject({ seq: 2, priceMsatPerKiB: 120 });
    s.update(offerContent(est(500), 120, terms), 1100); // capacity halves
    expect(s.pollTimeout()).toBe(2000);
  });

  it('a newcomer hears the offer after the minimum gap, not at the next interval; once', () => {
    const s = new OfferSchedule({ intervalMs: 30_000, minGapMs: 1000 });
    s.update(offerContent(est(1000), 100, terms), 0);
    s.pollOffer(0);
    s.announce();
    expect(s.pollTimeout()).toBe(1000);
    expect(s.pollOffer(500)).toBeUndefined();
    expect(s.pollOffer(1000)).toMatchObject({ seq: 2 });
    expect(s.pollTimeout()).toBe(31_000); // back to the interval
    s.announce();
    s.announce(); // two newcomers in one gap: one offer
    expect(s.pollOffer(2000)).toMatchObject({ seq: 3 });
    expect(s.pollOffer(2500)).toBeUndefined();
  });

  it('spare moves are judged against capacity: a full gateway\'s small flaps are not news', () => {
    const o = new OfferSchedule({ intervalMs: 30_000, minGapMs: 1000 });
    o.update(offerContent(est(100_000, 500), 10, terms), 0);
    expect(o.pollOffer(0)).toBeDefined();
    for (let t = 1000; t <= 20_000; t += 1000) {
      o.update(offerContent(est(100_000, t % 2000 === 0 ? 5000 : 500), 10, terms), t);
      expect(o.pollOffer(t)).toBeUndefined();
    }
    o.update(offerContent(est(100_000, 20_000), 10, terms), 21_000);
    expect(o.pollOffer(21_000)).toBeDefined();
  });

  it("keeps its spare through its own joint-probe slots: its clients' probes are not news", () => {
    const gateway = 'ab'.repeat(32);
    const jointProbe = { gateway, periodMs: 120_000, windowMs: 5000 };
    const s = new OfferSchedule({ jointProbe });
    const slot = nextJointProbeSlot(gateway, 120_000, 1_000_000);
    s.update(offerContent(est(50_000, 40_000), 100, terms), slot - 10_000);
    expect(s.pollOffer(slot - 10_000)?.spareKbps).toBe(40_000);
    // The probes fill the spare for a few seconds: nothing goes out, and an offer due
    // meanwhile says what the spare was before them.
    for (const t of [slot, slot + 1000, slot + 3000]) {
      s.update(offerContent(est(50_000, 2000), 100, terms), t);
      expect(s.pollTimeout()).toBe(slot - 10_000 + 30_000);
    }
    // A capacity change (an outage) is still news, with the spare capped by it.
    s.update(offerContent(est(0, 0), 100, terms), slot + 4000);
    expect(s.pollOffer(slot + 4000)).toMatchObject({ capacityKbps: 0, spareKbps: 0 });
    // After the window the spare is the estimate's again: the same drop is announced.
    const after = new OfferSchedule({ jointProbe });
    after.update(offerContent(est(50_000, 40_000), 100, terms), slot - 10_000);
    after.pollOffer(slot - 10_000);
    after.update(offerContent(est(50_000, 2000), 100, terms), slot + 6000);
    expect(after.pollOffer(slot + 6000)?.spareKbps).toBe(2000);
  });

  it('a flapping estimate never sends more than one offer per minimum gap (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(3000), fc.nat(100_000), fc.nat(2000)), { maxLength: 100 }), (steps) => {
        const s = new OfferSchedule({ intervalMs: 5000, minGapMs: 1000 });
        let now = 0;
        let last = -Infinity;
        let seq = 0;
        for (const [dt, cap, price] of steps) {
          now += dt;
          s.update(offerContent(est(cap), price, terms), now);
          const due = s.pollTimeout()!;
          for (const t of [now, Math.max(now, due)]) {
            const o = s.pollOffer(t);
            if (o) {
              expect(t - last).toBeGreaterThanOrEqual(1000);
              expect(o.seq).toBe(++seq);
              last = t;
            }
          }
        }
      }),
    );
  });
});
