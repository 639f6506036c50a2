import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { LruMap } from './lru-map.js';

describe('LruMap', () => {
  it('evicts the least recently used entry past the cap; get refreshes, peek does not', () => {
    const m = new LruMap<string, number>(2);
    m.set('a', 1);
    m.set('b', 2);
    m.get('a');
    m.set('c', 3);
    expect([...m.entries()].map(([k]) => k)).toEqual(['a', 'c']);
    m.peek('a');
    m.set('d', 4);
    expect([...m.entries()].map(([k]) => k)).toEqual(['c', 'd']);
    expect(m.evictions).toBe(2);
    expect(() => new LruMap(0)).toThrow(/maxEntries/);
  });

  it('never holds more than its cap and keeps the most recent write (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.array(fc.tuple(fc.nat(30), fc.nat())), (cap, ops) => {
        const m = new LruMap<number, number>(cap);
        for (const [k, v] of ops) {
          m.set(k, v);
          expect(m.size).toBeLessThanOrEqual(cap);
          expect(m.peek(k)).toBe(v);
        }
      }),
    );
  });
});
