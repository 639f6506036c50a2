import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MeterPace, type MeterPaceOptions } from './meter-pace.js';

const O: MeterPaceOptions = { activeMs: 100, idleMs: 1000, quietAfterMs: 2000, wakeBytes: 4096 };

/** Checks every 100 ms from `from` to `to`; returns the times that read. */
function run(p: MeterPace, from: number, to: number, link: (t: number) => number | undefined, bytes: (t: number) => number = () => 0): number[] {
  const reads: number[] = [];
  for (let t = from; t < to; t += 100) {
    if (p.shouldRead(t, link(t))) {
      reads.push(t);
      p.metered(t, bytes(t));
    }
  }
  return reads;
}

describe('meter pace', () => {
  it('reads every period while bytes flow, then once a second after a quiet spell', () => {
    const p = new MeterPace(O);
    // Bytes on every read for the first second; then nothing. Beacons: 300 B a check.
    const reads = run(p, 0, 6000, (t) => t * 3, (t) => (t < 1000 ? 16_384 : 0));
    // Active until 2 s after the last bytes (metered at 900): every check up to 2800.
    expect(reads.filter((t) => t < 2900)).toEqual(Array.from({ length: 29 }, (_, i) => i * 100));
    expect(reads.filter((t) => t >= 2900)).toEqual([3800, 4800, 5800]);
  });

  it('a jump of the link counters wakes it at once, beacons do not', () => {
    const p = new MeterPace(O);
    run(p, 0, 4500, (t) => t); // idle, 100 B a check; the last read at 4000
    let link = 4400;
    expect(p.shouldRead(4500, (link += 300))).toBe(false);
    expect(p.shouldRead(4600, (link += 64 * 1024))).toBe(true); // a download starts
    p.metered(4600, 64 * 1024);
    expect(p.active(4600)).toBe(true);
    expect(p.shouldRead(4700, (link += 64 * 1024))).toBe(true);
    expect(p.stats.wakes).toBe(1);
  });

  it('reads at once when asked (a new route), and every period when the link cannot be read', () => {
    const p = new MeterPace(O);
    run(p, 0, 4500, () => 0); // the last read at 4000
    expect(p.shouldRead(4500, 0)).toBe(false);
    expect(p.shouldRead(4600, 0, true)).toBe(true);
    const q = new MeterPace(O);
    expect(run(q, 0, 3000, () => undefined).length).toBe(30);
  });

  // Whatever the traffic, bytes are never left unread for longer than the idle period,
  // and never for longer than the active period once a read has metered some.
  it('property: the gap between reads is bounded', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ link: fc.nat({ max: 20_000 }), bytes: fc.nat({ max: 50_000 }), urgent: fc.boolean() }), { minLength: 1, maxLength: 300 }), (steps) => {
        const p = new MeterPace(O);
        let link = 0;
        let lastRead = 0;
        let lastBytes = -Infinity;
        steps.forEach((s, i) => {
          const t = i * 100;
          link += s.link;
          if (p.shouldRead(t, link, s.urgent)) {
            lastRead = t;
            p.metered(t, s.bytes);
            if (s.bytes > 0) lastBytes = t;
          }
          const bound = t - lastBytes < O.quietAfterMs ? O.activeMs : O.idleMs;
          expect(t - lastRead).toBeLessThan(bound);
        });
      }),
    );
  });
});
