import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ReputationTable, decodeReputationFile } from './reputation.js';
import { ReputationFileError } from './errors.js';

const id = (n: number) => n.toString(16).padStart(64, '0');

describe('reputation', () => {
  it('an unknown gateway gets the prior', () => {
    const t = new ReputationTable({ prior: 0.8 });
    expect(t.view(id(1), 0)).toEqual({ ratio: 0.8, samples: 0, confidence: 0, discount: 0.8 });
    expect(t.size).toBe(0); // reading creates nothing
  });

  it('an honest gateway keeps a discount near 1; a 3× over-claimer falls below 1/3 within a minute of samples', () => {
    const t = new ReputationTable();
    for (let s = 0; s < 30; s++) {
      t.observe(id(1), 4900, 5000, s * 2000);
      t.observe(id(2), 5000, 15_000, s * 2000);
    }
    expect(t.discount(id(1), 60_000)).toBeGreaterThan(0.95);
    // ratio 1/3, confidence 30/33: discount = 3/33 + (30/33)/9 ≈ 0.192 → effective claim 15000 × 0.192 < 5000.
    expect(t.discount(id(2), 60_000)).toBeCloseTo(3 / 33 + 30 / 33 / 9, 2);
    expect(15_000 * t.discount(id(2), 60_000)).toBeLessThan(5000 * t.discount(id(1), 60_000));
  });

  it('failures count as zero delivery; evidence ages back towards the prior', () => {
    const t = new ReputationTable({ halfLifeMs: 3_600_000 });
    for (let i = 0; i < 10; i++) t.recordFailure(id(1), 0);
    const fresh = t.view(id(1), 0);
    expect(fresh.ratio).toBe(0);
    expect(fresh.discount).toBeCloseTo(3 / 13, 6);
    const later = t.view(id(1), 10 * 3_600_000);
    expect(later.samples).toBeCloseTo(10 / 1024, 6);
    expect(later.discount).toBeGreaterThan(0.99);
  });

  it('a weighted sample counts as that many samples', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.double({ min: 0, max: 2, noNaN: true }), fc.integer({ min: 1, max: 5 })), { maxLength: 10 }), (obs) => {
        const weighted = new ReputationTable();
        const repeated = new ReputationTable();
        obs.forEach(([x, w], i) => {
          weighted.observe(id(1), x, 1, i * 1000, w);
          for (let k = 0; k < w; k++) repeated.observe(id(1), x, 1, i * 1000);
        });
        expect(weighted.view(id(1), obs.length * 1000)).toEqual(repeated.view(id(1), obs.length * 1000));
      }),
    );
    const t = new ReputationTable();
    t.observe(id(1), 1, 3, 0, 4);
    expect(t.view(id(1), 0).samples).toBe(4);
    t.observe(id(2), 1, 3, 0, 1e9); // capped
    expect(t.view(id(2), 0).samples).toBe(16);
  });

  it('samples are clamped to [0, 1] and junk is ignored', () => {
    const t = new ReputationTable();
    t.observe(id(1), 9e9, 10, 0);
    t.observe(id(1), NaN, 10, 0);
    t.observe(id(1), 5, 0, 0);
    expect(t.view(id(1), 0)).toMatchObject({ ratio: 1, samples: 1 });
  });

  it('is bounded: least recently updated entries are evicted', () => {
    const t = new ReputationTable({ maxEntries: 3 });
    for (let n = 1; n <= 5; n++) t.observe(id(n), 1, 2, n);
    t.observe(id(3), 1, 2, 10);
    t.observe(id(6), 1, 2, 11);
    expect(t.size).toBe(3);
    expect(t.toJSON().entries.map((e) => e.gateway)).toEqual([id(5), id(3), id(6)]);
  });

  it('round-trips through JSON text', () => {
    const t = new ReputationTable();
    t.observe(id(1), 1000, 3000, 5_000);
    t.observe(id(2), 3000, 3000, 6_000);
    t.recordFailure(id(1), 7_000);
    const { table, error } = ReputationTable.restore(JSON.stringify(t));
    expect(error).toBeUndefined();
    expect(table.toJSON()).toEqual(t.toJSON());
    expect(table.view(id(1), 9_000)).toEqual(t.view(id(1), 9_000));
  });

  it('keeps the most recently updated entries when the file holds more than the table', () => {
    const t = new ReputationTable();
    for (let n = 1; n <= 5; n++) t.observe(id(n), 1, 1, 100 - n);
    const small = ReputationTable.fromJSON(t.toJSON(), { maxEntries: 2 });
    expect(small.toJSON().entries.map((e) => e.gateway)).toEqual([id(2), id(1)]);
  });

  const good = { gateway: id(1), ratio: 0.5, samples: 2, updatedAt: 5 };
  const hostile: [string, string][] = [
    ['not JSON', 'reputation_not_object'],
    ['[]', 'reputation_not_object'],
    ['null', 'reputation_not_object'],
    ['{"version":2,"entries":[]}', 'reputation_version'],
    ['{"version":1}', 'reputation_not_object'],
    ['{"version":1,"entries":{}}', 'reputation_not_object'],
    [JSON.stringify({ version: 1, entries: [1] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [{ ...good, gateway: id(0xab).toUpperCase() }] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [{ ...good, gateway: 'ab' }] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [{ ...good, ratio: 1.5 }] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [{ ...good, ratio: '0.5' }] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [{ ...good, samples: -1 }] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [{ ...good, samples: 1e300 }] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [{ ...good, updatedAt: 1.5 }] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [{ ...good, updatedAt: -1 }] }), 'reputation_entry'],
    [JSON.stringify({ version: 1, entries: [good, good] }), 'reputation_duplicate'],
    [`{"version":1,"entries":[${'0,'.repeat(65_536)}0]}`, 'reputation_too_many'],
    ['{"version":1,"entries":[{"__proto__":{"ratio":0.5},"gateway":"' + id(1) + '"}]}', 'reputation_entry'],
  ];

  it.each(hostile.map(([text, code]) => [text.slice(0, 80), text, code]))('a hostile file is refused with a typed error and a fresh table: %s', (_name, text, code) => {
    const { table, error } = ReputationTable.restore(text);
    expect(error).toBeInstanceOf(ReputationFileError);
    expect(error?.code).toBe(code);
    expect(error?.blame).toBe('remote');
    expect(table.size).toBe(0);
  });

  it('no file yet: a fresh table, no error', () => {
    expect(ReputationTable.restore(undefined).error).toBeUndefined();
  });

  it('fuzz: the decoder returns entries or throws ReputationFileError, nothing else', () => {
    const field = fc.oneof(fc.double(), fc.integer(), fc.string(), fc.constant(null), fc.constant(id(1)), fc.boolean());
    const entry = fc.dictionary(fc.constantFrom('gateway', 'ratio', 'samples', 'updatedAt', 'x'), field);
    const file = fc.oneof(
      fc.anything(),
      fc.record({ version: fc.oneof(fc.constant(1), fc.anything()), entries: fc.oneof(fc.array(entry), fc.anything()) }),
    );
    fc.assert(
      fc.property(file, (data) => {
        try {
          const f = decodeReputationFile(data);
          for (const e of f.entries) expect(e.ratio >= 0 && e.ratio <= 1).toBe(true);
        } catch (e) {
          expect(e).toBeInstanceOf(ReputationFileError);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('fuzz: any sequence of observations keeps every discount in [0, 1] and the table within bounds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(20), fc.double(), fc.double(), fc.nat(1_000_000)), { maxLength: 200 }),
        (ops) => {
          const t = new ReputationTable({ maxEntries: 8 });
          let now = 0;
          for (const [n, delivered, expected, dt] of ops) {
            now += dt;
            if (n === 0) t.recordFailure(id(n), now);
            else t.observe(id(n), delivered, expected, now);
            const d = t.discount(id(n), now);
            expect(d >= 0 && d <= 1).toBe(true);
          }
          expect(t.size).toBeLessThanOrEqual(8);
          expect(ReputationTable.restore(JSON.stringify(t)).error).toBeUndefined();
        },
      ),
    );
  });
});
