import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { jointProbeTargetKbps, nextJointProbeSlot } from './joint-probe.js';

const P = 120_000;
const hexId = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));

describe('joint probe slots', () => {
  it('are the same moments for every client, one per period, strictly after the given time', () => {
    fc.assert(
      fc.property(hexId, fc.integer({ min: 0, max: 2 ** 45 }), (gw, after) => {
        const slot = nextJointProbeSlot(gw, P, after);
        expect(slot).toBeGreaterThan(after);
        expect(slot).toBeLessThanOrEqual(after + P);
        // Whoever asks, from whatever moment in between, meets at the same slot.
        expect(nextJointProbeSlot(gw, P, slot - 1)).toBe(slot);
        expect(nextJointProbeSlot(gw, P, after + Math.floor((slot - after) / 2))).toBe(slot);
        expect(nextJointProbeSlot(gw, P, slot)).toBe(slot + P);
      }),
    );
  });

  it('fall at different moments for different gateways', () => {
    const ids = Array.from({ length: 200 }, (_, i) => i.toString(16).padStart(64, '0'));
    const offsets = new Set(ids.map((id) => nextJointProbeSlot(id, P, 0) % P));
    expect(offsets.size).toBeGreaterThan(190);
    // Spread over the period, not bunched at its start.
    const late = [...offsets].filter((o) => o > P / 2).length;
    expect(late).toBeGreaterThan(70);
    expect(late).toBeLessThan(130);
  });
});

describe('joint probe target', () => {
  it('is our rate plus our load share of the claimed spare (hand-worked)', () => {
    // Claims 10 Mbit/s with 6 spare: a load of 4, of which we are half.
    expect(jointProbeTargetKbps(2000, { capacityKbps: 10_000, spareKbps: 6000 })).toBe(5000);
    // A load estimate that has not caught up with us yet: at most the whole spare.
    expect(jointProbeTargetKbps(8000, { capacityKbps: 10_000, spareKbps: 6000 })).toBe(14_000);
  });

  it('tests nothing without our traffic, a claimed load or a claimed spare', () => {
    expect(jointProbeTargetKbps(0, { capacityKbps: 10_000, spareKbps: 6000 })).toBeUndefined();
    expect(jointProbeTargetKbps(1000, { capacityKbps: 10_000, spareKbps: 10_000 })).toBeUndefined();
    expect(jointProbeTargetKbps(1000, { capacityKbps: 10_000, spareKbps: 0 })).toBeUndefined();
    expect(jointProbeTargetKbps(Number.NaN, { capacityKbps: 10_000, spareKbps: 10 })).toBeUndefined();
  });

  it("an honest gateway's clients together pull no more than it claims; a liar's pull all it claims", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 50_000 }), { minLength: 1, maxLength: 60 }),
        fc.integer({ min: 0, max: 200_000 }),
        fc.integer({ min: 0, max: 100_000 }),
        (own, spare, household) => {
          const load = own.reduce((a, b) => a + b, 0) + household; // the owner's traffic loads the uplink too
          const claim = { capacityKbps: load + spare, spareKbps: spare };
          const pulls = own.map((o) => jointProbeTargetKbps(o, claim) ?? o);
          const total = pulls.reduce((a, b) => a + b, 0);
          expect(total).toBeLessThanOrEqual(claim.capacityKbps - household + 1e-6);
          if (household === 0 && spare > 0) expect(total).toBeCloseTo(claim.capacityKbps, 6);
        },
      ),
    );
  });
});
