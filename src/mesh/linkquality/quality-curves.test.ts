import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { signalToQuality, throughputToQuality, tqToQuality } from './quality-curves.js';

describe('quality curves', () => {
  it('maps TQ as a fraction of 255', () => {
    expect(tqToQuality(255)).toBe(1);
    expect(tqToQuality(0)).toBe(0);
    expect(tqToQuality(204)).toBeCloseTo(0.8, 10);
  });

  it('maps throughput one quarter per decade from 100 kbit/s to 1 Gbit/s', () => {
    expect(throughputToQuality(100)).toBe(0);
    expect(throughputToQuality(1_000)).toBeCloseTo(0.25, 10);
    expect(throughputToQuality(10_000)).toBeCloseTo(0.5, 10);
    expect(throughputToQuality(100_000)).toBeCloseTo(0.75, 10);
    expect(throughputToQuality(1_000_000)).toBe(1);
    expect(throughputToQuality(40_000_000)).toBe(1);
    expect(throughputToQuality(0)).toBe(0);
    expect(throughputToQuality(-5)).toBe(0);
  });

  it('maps signal linearly from -100 dBm to -50 dBm, like NetworkManager', () => {
    expect(signalToQuality(-100)).toBe(0);
    expect(signalToQuality(-75)).toBeCloseTo(0.5, 10);
    expect(signalToQuality(-50)).toBe(1);
    expect(signalToQuality(-20)).toBe(1);
    expect(signalToQuality(NaN)).toBe(0);
  });

  it('every curve stays in 0..1 and never decreases', () => {
    const curves = [tqToQuality, throughputToQuality, signalToQuality];
    fc.assert(
      fc.property(fc.double({ noNaN: true }), fc.double({ noNaN: true }), (a, b) => {
        const [lo, hi] = a <= b ? [a, b] : [b, a];
        return curves.every((f) => {
          const qa = f(lo);
          const qb = f(hi);
          return qa >= 0 && qa <= 1 && qb >= 0 && qb <= 1 && qa <= qb;
        });
      }),
    );
  });
});
