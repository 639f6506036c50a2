import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { hashChainSync, verifyChainStepSync } from './helper-async-backend.js';
import { HelperArgumentError } from './helper-errors.js';

function iterate(x: Uint8Array, times: number): Uint8Array {
  let cur = x;
  for (let i = 0; i < times; i++) cur = sha256(cur);
  return cur;
}

describe('hashChainSync', () => {
  it('anchor is sha256 applied n times to the seed; checkpoints are W_k, W_2k, ...', () => {
    const seed = new Uint8Array(32).fill(7);
    const r = hashChainSync(seed, 10, 3);
    expect(r.anchor).toEqual(iterate(seed, 10));
    expect(r.checkpoints.map((c) => c.index)).toEqual([3, 6, 9]);
    for (const c of r.checkpoints) expect(c.value).toEqual(iterate(seed, 10 - c.index));
  });

  it('a chain of length 0 is the seed itself, and every=0 means no checkpoints', () => {
    const seed = new Uint8Array(32).fill(1);
    expect(hashChainSync(seed, 0, 0)).toEqual({ anchor: seed, checkpoints: [] });
    expect(hashChainSync(seed, 5, 0).checkpoints).toEqual([]);
    expect(hashChainSync(seed, 4, 4).checkpoints).toEqual([{ index: 4, value: seed }]);
  });

  it.each([
    ['short seed', new Uint8Array(31), 1, 0],
    ['negative length', new Uint8Array(32), -1, 0],
    ['fractional length', new Uint8Array(32), 1.5, 0],
    ['too many checkpoints', new Uint8Array(32), 40000, 1],
  ])('refuses %s', (_n, seed, len, every) => {
    expect(() => hashChainSync(seed, len, every)).toThrow(HelperArgumentError);
  });
});

describe('verifyChainStepSync', () => {
  it('finds the distance from any later chain element back to the anchor', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 1, max: 64 }), (w, d) => {
        const anchor = iterate(w, d);
        expect(verifyChainStepSync(anchor, w, 64)).toBe(d);
        expect(verifyChainStepSync(anchor, w, d)).toBe(d);
        if (d > 1) expect(verifyChainStepSync(anchor, w, d - 1)).toBeNull();
      }),
      { numRuns: 50 },
    );
  });

  it('does not accept the anchor itself (a replayed tick)', () => {
    const a = sha256(new Uint8Array(32));
    expect(verifyChainStepSync(a, a, 64)).toBeNull();
  });

  it.each([0, 65, 2.5])('refuses maxDistance %s', (m) => {
    expect(() => verifyChainStepSync(new Uint8Array(32), new Uint8Array(32), m)).toThrow(HelperArgumentError);
  });
});
