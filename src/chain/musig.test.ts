// BIP327 vectors: testing/vectors/bip327-*.json, copied from bitcoin/bips (see testing/vectors/README.md).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { hex } from '@scure/base';
import * as musig2 from '@scure/btc-signer/musig2.js';
import keyAggVectors from './testing/vectors/bip327-key_agg_vectors.json' with { type: 'json' };
import tweakVectors from './testing/vectors/bip327-tweak_vectors.json' with { type: 'json' };
import {
  channelKeyContext,
  evenSecretKey,
  keyAggXonly,
  musigAggregate,
  musigNonceGen,
  musigPartialSign,
  musigPartialVerify,
  plainFromXonly,
} from './musig.js';
import { TxBuildError, TxRejectedError } from './tx-errors.js';
import { crypto, seededRandom, testKey } from './testing/fixtures.js';

const h = (s: string) => hex.decode(s.toLowerCase());

describe('BIP327 KeyAgg vectors', () => {
  const pks = keyAggVectors.pubkeys.map(h);
  it.each(keyAggVectors.valid_test_cases)('keys $key_indices', (tc) => {
    expect(hex.encode(keyAggXonly(tc.key_indices.map((i) => pks[i]!)))).toBe(tc.expected.toLowerCase());
  });
  it.each(keyAggVectors.error_test_cases)('error: $comment', (tc) => {
    const tweaks = keyAggVectors.tweaks.map(h);
    expect(() =>
      keyAggXonly(
        tc.key_indices.map((i) => pks[i]!),
        tc.tweak_indices.map((i) => tweaks[i]!),
        tc.is_xonly,
      ),
    ).toThrow();
  });
});

describe('BIP327 tweak vectors (ApplyTweak, as used for the TapTweak)', () => {
  const v = tweakVectors;
  it.each(v.valid_test_cases)('$comment', (tc) => {
    const pks = tc.key_indices.map((i) => h(v.pubkeys[i]!));
    const nonces = tc.nonce_indices.map((i) => h(v.pnonces[i]!));
    const tweaks = tc.tweak_indices.map((i) => h(v.tweaks[i]!));
    const aggNonce = musig2.nonceAggregate(nonces);
    expect(hex.encode(aggNonce)).toBe(v.aggnonce.toLowerCase());
    const session = new musig2.Session(aggNonce, pks, h(v.msg), tweaks, tc.is_xonly);
    const sig = session.sign(h(v.secnonce), h(v.sk), true);
    expect(hex.encode(sig)).toBe(tc.expected.toLowerCase());
  });
});

describe('channel MuSig2 (payer, payee) with the taproot tweak', () => {
  const merkleRoot = h('c525714a7f49c28aedbbba78c005931a81c234b2f6c99a73e4d06082adc8bf2b');
  const msg = h('0ce11d3a6c7ff5c5f8f4cd9e7e7f2a1a4b9c0e6f0e3c8b7a6d5c4b3a29180706');

  function run(payer: { sk: Uint8Array; x: Uint8Array }, payee: { sk: Uint8Array; x: Uint8Array }, seed: string) {
    const rand = seededRandom(seed);
    const ctx = channelKeyContext(payer.x, payee.x, merkleRoot);
    const n0 = musigNonceGen(ctx, payer.sk, msg, rand());
    const n1 = musigNonceGen(ctx, payee.sk, msg, rand());
    const nonces = [n0.publicNonce, n1.publicNonce];
    const s0 = musigPartialSign(ctx, n0.secretNonce, payer.sk, nonces, msg);
    const s1 = musigPartialSign(ctx, n1.secretNonce, payee.sk, nonces, msg);
    return { ctx, nonces, s0, s1, sig: musigAggregate(ctx, nonces, [s0, s1], msg), n0 };
  }

  it('aggregates to a BIP340 signature for the tweaked output key, any key parity', () => {
    for (const a of ['even', 'odd'] as const) {
      for (const b of ['even', 'odd'] as const) {
        const { ctx, sig, nonces, s0, s1 } = run(testKey(`p-${a}`, a), testKey(`q-${b}`, b), `${a}${b}`);
        expect(crypto.schnorrVerify(sig, msg, ctx.outputKeyX)).toBe(true);
        expect(musigPartialVerify(ctx, s0, nonces, 'payer', msg)).toBe(true);
        expect(musigPartialVerify(ctx, s1, nonces, 'payee', msg)).toBe(true);
        expect(musigPartialVerify(ctx, s1, nonces, 'payer', msg)).toBe(false);
      }
    }
  });

  it('the internal key is KeyAgg(02||payer, 02||payee), unsorted', () => {
    const p = testKey('payer');
    const q = testKey('payee');
    const ctx = channelKeyContext(p.x, q.x, merkleRoot);
    expect(hex.encode(ctx.internalKeyX)).toBe(hex.encode(keyAggXonly([plainFromXonly(p.x), plainFromXonly(q.x)])));
    expect(hex.encode(ctx.internalKeyX)).not.toBe(hex.encode(keyAggXonly([plainFromXonly(q.x), plainFromXonly(p.x)])));
  });

  it('evenSecretKey maps both parities to the key of the x-only public key', () => {
    const odd = testKey('odd', 'odd');
    const even = evenSecretKey(odd.sk);
    expect(hex.encode(musig2.IndividualPubkey(even))).toBe('02' + hex.encode(odd.x));
  });

  it('refuses to reuse a secret nonce', () => {
    const p = testKey('payer');
    const q = testKey('payee');
    const { ctx, nonces, n0 } = run(p, q, 'reuse');
    expect(() => musigPartialSign(ctx, n0.secretNonce, p.sk, nonces, msg)).toThrow(TxBuildError);
  });

  it('a bad partial signature is caught by partial verification and by the final check', () => {
    const p = testKey('payer');
    const q = testKey('payee');
    const { ctx, nonces, s0, s1 } = run(p, q, 'bad');
    const bad = Uint8Array.from(s1);
    bad[31] = bad[31]! ^ 1;
    expect(musigPartialVerify(ctx, bad, nonces, 'payee', msg)).toBe(false);
    expect(crypto.schnorrVerify(musigAggregate(ctx, nonces, [s0, bad], msg), msg, ctx.outputKeyX)).toBe(false);
  });

  it('hostile nonces and partial signatures are remote errors, never crashes', () => {
    const p = testKey('payer');
    const q = testKey('payee');
    const ctx = channelKeyContext(p.x, q.x, merkleRoot);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 70 }), fc.uint8Array({ minLength: 0, maxLength: 40 }), (nonce, psig) => {
        const good = musigNonceGen(ctx, p.sk, msg, new Uint8Array(32).fill(7)).publicNonce;
        expect(musigPartialVerify(ctx, psig, [good, nonce], 'payee', msg)).toBe(false);
        try {
          musigAggregate(ctx, [good, nonce], [new Uint8Array(32).fill(1), psig], msg);
        } catch (e) {
          expect(e).toBeInstanceOf(TxRejectedError);
        }
      }),
      { numRuns: 30 },
    );
  });
});
