import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NeighbourTable } from './neighbour-table.js';

const id = (n: number) => new Uint8Array(32).fill(n);

describe('neighbour table', () => {
  it('records, refreshes and expires neighbours by last heard time', () => {
    const t = new NeighbourTable({ expiryMs: 5000, maxEntries: 10 });
    expect(t.heard(id(1), '10.0.0.1', 4270, 1, 0, 0)).toBe(true);
    expect(t.heard(id(2), '10.0.0.2', 4270, 2, 0, 1000)).toBe(true);
    expect(t.heard(id(1), '10.0.0.9', 4270, 1, 1, 4000)).toBe(false);
    expect(t.get(Buffer.from(id(1)).toString('hex'))?.address).toBe('10.0.0.9');
    expect(t.nextExpiry()).toBe(1000 + 5000 + 1);
    expect(t.expire(6000).map((n) => n.address)).toEqual([]);
    expect(t.expire(6001).map((n) => n.address)).toEqual(['10.0.0.2']);
    expect(t.list().map((n) => n.hellos)).toEqual([2]);
  });

  it('finds a neighbour by the endpoint it speaks from, and forgets it with the neighbour', () => {
    const t = new NeighbourTable({ expiryMs: 5000, maxEntries: 2 });
    t.heard(id(1), '10.0.0.1', 4270, 1, 0, 0);
    expect(t.byEndpoint('10.0.0.1', 4270)?.id).toBe(Buffer.from(id(1)).toString('hex'));
    t.heard(id(1), '10.0.0.5', 4270, 1, 1, 10); // moved
    expect(t.byEndpoint('10.0.0.1', 4270)).toBeUndefined();
    t.heard(id(2), '10.0.0.2', 4270, 1, 0, 20);
    t.heard(id(3), '10.0.0.3', 4270, 1, 0, 30); // evicts id(1)
    expect(t.byEndpoint('10.0.0.5', 4270)).toBeUndefined();
    t.expire(20 + 5001);
    expect(t.byEndpoint('10.0.0.2', 4270)).toBeUndefined();
    expect(t.byEndpoint('10.0.0.3', 4270)?.address).toBe('10.0.0.3');
  });

  it('never holds more than its cap, evicting the least recently heard', () => {
    fc.assert(
      fc.property(fc.array(fc.nat(50), { maxLength: 300 }), (ids) => {
        const t = new NeighbourTable({ expiryMs: 1e9, maxEntries: 16 });
        ids.forEach((n, now) => {
          t.heard(id(n), 'a', 1, 1, 0, now);
          expect(t.size).toBeLessThanOrEqual(16);
        });
        if (ids.length) expect(t.get(Buffer.from(id(ids.at(-1)!)).toString('hex'))).toBeDefined();
      }),
    );
  });
});
