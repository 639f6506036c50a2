import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.js';

describe('event queue', () => {
  it('pops in time order, equal times first-in first-out', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 200 }), (times) => {
        const q = new EventQueue<number>();
        times.forEach((t, i) => q.push(t, i));
        const out: { at: number; item: number }[] = [];
        for (let e = q.pop(); e; e = q.pop()) out.push({ at: e.at, item: e.item });
        const expected = times.map((t, i) => ({ at: t, item: i })).sort((a, b) => a.at - b.at || a.item - b.item);
        expect(out).toEqual(expected);
        expect(q.size).toBe(0);
      }),
    );
  });

  it('interleaves pushes and pops, never running an event before an earlier one', () => {
    const q = new EventQueue<string>();
    q.push(10, 'a');
    q.push(5, 'b');
    expect(q.peekTime()).toBe(5);
    expect(q.pop()).toMatchObject({ at: 5, item: 'b' });
    q.push(7, 'c');
    expect(q.pop()?.item).toBe('c');
    expect(q.pop()?.item).toBe('a');
    expect(q.pop()).toBeUndefined();
  });

  it('refuses a time that is not finite', () => {
    expect(() => new EventQueue().push(NaN, 1)).toThrow(RangeError);
  });
});
