import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Crypto } from '../../crypto/facade.js';
import { ChainBuilder, HashChain, buildChain, bytesEqual, verifyReveal } from './hash-chain.js';
import { ChannelError } from './errors.js';
import { MAX_TICK_GAP } from './constants.js';

const crypto = new Crypto();
const sha256 = (d: Uint8Array): Uint8Array => crypto.sha256(d);
const seed = new Uint8Array(32).fill(7);

/** The whole chain as an array, the obvious way. */
function straight(s: Uint8Array, n: number): Uint8Array[] {
  const w: Uint8Array[] = new Array(n + 1);
  w[n] = s;
  for (let i = n; i > 0; i--) w[i - 1] = sha256(w[i]!);
  return w;
}

describe('hash chain', () => {
  it('a 2^16 chain built in chunks equals one built straight, and every reveal verifies', () => {
    const n = 1 << 16;
    const ref = straight(seed, n);
    const b = new ChainBuilder(seed, n, sha256);
    let steps = 0;
    for (;;) {
      const p = b.step(5000);
      steps++;
      expect(p.remaining).toBe(Math.max(0, n - steps * 5000));
      if (p.done) break;
    }
    expect(steps).toBe(Math.ceil(n / 5000));
    const chain = b.finish();
    expect(chain.anchor).toEqual(ref[0]);
    let known = { index: 0, element: chain.anchor };
    const bad: number[] = [];
    for (let i = 1; i <= n; i++) {
      const w = chain.element(i);
      if (!bytesEqual(w, ref[i]!) || verifyReveal(sha256, known, i, w) !== undefined) bad.push(i);
      known = { index: i, element: w };
    }
    expect(bad).toEqual([]);
  });

  it('random access matches the straight chain, lengths not a multiple of the interval included', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.integer({ min: 1, max: 40 }), fc.array(fc.nat(), { maxLength: 30 }), (n, interval, picks) => {
        const ref = straight(seed, n);
        const chain = buildChain(seed, n, sha256, interval);
        for (const p of picks) {
          const i = p % (n + 1);
          expect(chain.element(i)).toEqual(ref[i]);
        }
      }),
    );
  });

  it('keeps checkpoints, not the chain: a reveal hashes at most one interval', () => {
    let count = 0;
    const counting = (d: Uint8Array): Uint8Array => {
      count++;
      return sha256(d);
    };
    const chain = buildChain(seed, 10_000, counting, 1024);
    count = 0;
    chain.element(5000);
    expect(count).toBeLessThanOrEqual(1024);
    count = 0;
    for (let i = 5001; i <= 5120; i++) chain.element(i); // same segment: cached
    expect(count).toBe(0);
  });

  it('skipped ticks verify up to the 64 gap, and a wider gap is a typed refusal before any hashing', () => {
    const chain = buildChain(seed, 1000, sha256);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 900 }), fc.integer({ min: 1, max: 99 }), (j, gap) => {
        const known = { index: j, element: chain.element(j) };
        const r = verifyReveal(sha256, known, j + gap, chain.element(j + gap));
        if (gap <= MAX_TICK_GAP) expect(r).toBeUndefined();
        else expect(r).toMatchObject({ code: 'tick_gap' });
      }),
    );
  });

  it('a wrong preimage at any gap is refused with bad_preimage', () => {
    const chain = buildChain(seed, 200, sha256);
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 100 }), fc.integer({ min: 1, max: MAX_TICK_GAP }), fc.uint8Array({ minLength: 32, maxLength: 32 }), (j, gap, junk) => {
        const known = { index: j, element: chain.element(j) };
        const r = verifyReveal(sha256, known, j + gap, junk);
        expect(r).toBeInstanceOf(ChannelError);
        expect(r?.code).toBe('bad_preimage');
        // The right element one index off is also wrong.
        expect(verifyReveal(sha256, known, j + gap, chain.element(j + gap - 1 + (gap === 1 ? 2 : 0)))?.code).toBe('bad_preimage');
      }),
    );
  });

  it('refuses unfinished builds and bad parameters', () => {
    const b = new ChainBuilder(seed, 10, sha256);
    b.step(3);
    expect(() => b.finish()).toThrow(/left to hash/);
    expect(() => new ChainBuilder(new Uint8Array(31), 10, sha256)).toThrow(/32 bytes/);
    expect(() => new ChainBuilder(seed, 0, sha256)).toThrow(/length/);
    expect(() => buildChain(seed, 10, sha256).element(11)).toThrow(/outside/);
    expect(buildChain(seed, 1, sha256)).toBeInstanceOf(HashChain);
  });
});
