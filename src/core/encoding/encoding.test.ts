// bech32/bech32m and base58check: the BIP173/BIP350 example strings, then @scure/base
// (an independent implementation, dev only) on random input.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { bech32, bech32m, createBase58check } from '@scure/base';
import { sha256 } from '@noble/hashes/sha2.js';
import { Base58Error, base58checkDecode, base58checkEncode } from './base58check.js';
import { Bech32Error, bech32Decode, bech32Encode, fromWords, toWords } from './bech32.js';

describe('bech32 / bech32m', () => {
  it('accepts the valid strings of BIP173 and BIP350, with the right variant', () => {
    const valid: [string, string][] = [
      ['A12UEL5L', 'bech32'],
      ['a12uel5l', 'bech32'],
      ['an83characterlonghumanreadablepartthatcontainsthenumber1andtheexcludedcharactersbio1tt5tgs', 'bech32'],
      ['abcdef1qpzry9x8gf2tvdw0s3jn54khce6mua7lmqqqxw', 'bech32'],
      ['split1checkupstagehandshakeupstreamerranterredcaperred2y9e3w', 'bech32'],
      ['?1ezyfcl', 'bech32'],
      ['A1LQFN3A', 'bech32m'],
      ['a1lqfn3a', 'bech32m'],
      ['abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx', 'bech32m'],
      ['split1checkupstagehandshakeupstreamerranterredcaperredlc445v', 'bech32m'],
      ['?1v759aa', 'bech32m'],
    ];
    for (const [text, variant] of valid) {
      const d = bech32Decode(text);
      expect(d.variant, text).toBe(variant);
      expect(bech32Encode(d.hrp, d.words, d.variant)).toBe(text.toLowerCase());
    }
  });

  it('refuses mixed case, bad characters, a missing separator, a short checksum and a bad one', () => {
    for (const bad of ['A12uEL5L', 'a12ueL5l', 'pzry9x0s0muk', '1pzry9x0s0muk', 'x1b4n0q5v', 'li1dgmt3', 'a12uel5x', ' 1nwldj5', '\x7f1axkwrx', 'de1lg7wt\xff', 'A1G7SGD8']) {
      expect(() => bech32Decode(bad), bad).toThrow(Bech32Error);
    }
  });

  it('agrees with @scure/base on random prefixes and data, both ways', () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[a-z0-9]{1,10}$/),
        fc.uint8Array({ maxLength: 40 }),
        fc.constantFrom('bech32' as const, 'bech32m' as const),
        (hrp, data, variant) => {
          const coder = variant === 'bech32' ? bech32 : bech32m;
          const words = toWords(data);
          expect(words).toEqual(coder.toWords(data));
          const text = bech32Encode(hrp, words, variant);
          expect(text).toBe(coder.encode(hrp, words, 90));
          const d = bech32Decode(text);
          expect([d.hrp, d.variant]).toEqual([hrp, variant]);
          expect(fromWords(d.words)).toEqual(data);
        },
      ),
    );
  });

  it('any mutation of a valid string is refused or decodes to what @scure/base decodes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 32 }), fc.nat(), fc.integer({ min: 0x21, max: 0x7e }), (data, at, code) => {
        const text = bech32Encode('bm', toWords(data), 'bech32m');
        const i = at % text.length;
        const mutated = text.slice(0, i) + String.fromCharCode(code) + text.slice(i + 1);
        let ours;
        try {
          ours = bech32Decode(mutated);
        } catch (e) {
          expect(e).toBeInstanceOf(Bech32Error);
          return;
        }
        const theirs = (ours.variant === 'bech32' ? bech32 : bech32m).decode(mutated as `${string}1${string}`);
        expect([ours.hrp, ours.words]).toEqual([theirs.prefix, theirs.words]);
      }),
      { numRuns: 1000 },
    );
  });

  it('fromWords refuses excess or non-zero padding', () => {
    expect(() => fromWords([31])).toThrow(Bech32Error); // 5 bits: excess padding
    expect(() => fromWords([0, 1])).toThrow(Bech32Error); // 10 bits: 2 left over, not zero
    expect(() => fromWords([32])).toThrow(Bech32Error);
  });
});

describe('base58check', () => {
  const theirs = createBase58check(sha256);
  it('encodes a known address payload', () => {
    // The P2PKH address of hash160 zero on mainnet.
    expect(base58checkEncode(new Uint8Array(21))).toBe('1111111111111111111114oLvT2');
  });
  it('agrees with @scure/base, leading zeros included', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 4 }).map((z) => z.fill(0)), fc.uint8Array({ maxLength: 40 }), (zeros, rest) => {
        const payload = Uint8Array.from([...zeros, ...rest]);
        const text = base58checkEncode(payload);
        expect(text).toBe(theirs.encode(payload));
        expect(base58checkDecode(text)).toEqual(payload);
      }),
    );
  });
  it('refuses a bad checksum, foreign characters and overlong text', () => {
    const good = base58checkEncode(Uint8Array.of(0, 1, 2, 3));
    const flipped = good.slice(0, -1) + (good.endsWith('2') ? '3' : '2');
    for (const bad of [flipped, `${good}0`, 'O', '', 'z'.repeat(200)]) expect(() => base58checkDecode(bad), bad).toThrow(Base58Error);
  });
});
