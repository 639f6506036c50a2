import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { allocateFair, uplinkUp } from './flow.js';

describe('delivery model', () => {
  it('shares an uplink max-min fairly: within caps and capacity, work-conserving', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 100 }), { maxLength: 20 }), fc.integer({ min: 0, max: 500 }), (caps, capacity) => {
        const out = new Float64Array(caps.length);
        const clients = caps.map((_, i) => i);
        const load = allocateFair(clients, (c) => caps[c]!, capacity, out);
        const total = caps.reduce((a, b) => a + b, 0);
        expect(load).toBeCloseTo(Math.min(total, capacity), 6);
        const level = Math.max(0, ...Array.from(out));
        caps.forEach((cap, i) => {
          expect(out[i]!).toBeLessThanOrEqual(cap + 1e-9);
          // Anyone below its cap gets the highest share anyone gets.
          if (out[i]! < cap - 1e-9) expect(out[i]!).toBeCloseTo(level, 6);
        });
      }),
    );
  });

  it('knows when an uplink is down, and when others learn of it', () => {
    const outages = [{ downAt: 1000, upAt: 5000 }];
    expect(uplinkUp(outages, 999)).toBe(true);
    expect(uplinkUp(outages, 1000)).toBe(false);
    expect(uplinkUp(outages, 5000)).toBe(true);
    expect(uplinkUp(outages, 3500, 3000)).toBe(true);
    expect(uplinkUp(outages, 4500, 3000)).toBe(false);
  });
});
