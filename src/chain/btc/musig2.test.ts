// BIP327 vectors (testing/vectors/bip327-*.json, copied from bitcoin/bips; see that
// folder's README) plus a differential property against @scure/btc-signer's musig2,
// an independent implementation kept as a devDependency for exactly this.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { hex } from '@scure/base';
import * as secp from '@noble/secp256k1';
import * as ref from '@scure/btc-signer/musig2.js';
import '../../crypto/noble.js'; // wires secp.hashes.sha256 for the sync schnorr.verify below
import keyAggVectors from '../testing/vectors/bip327-key_agg_vectors.json' with { type: 'json' };
import tweakVectors from '../testing/vectors/bip327-tweak_vectors.json' with { type: 'json' };
import signVectors from '../testing/vectors/bip327-sign_verify_vectors.json' with { type: 'json' };
import {
  IndividualPubkey,
  InvalidContributionError,
  Session,
  keyAggExport,
  keyAggregate,
  nonceAggregate,
  nonceGen,
} from './musig2.js';

const h = (s: string): Uint8Array => hex.decode(s.toLowerCase());
const H = (b: Uint8Array): string => hex.encode(b).toUpperCase();
const N = secp.Point.CURVE().n;
const pick = <T>(list: readonly T[], idx: readonly number[]): T[] => idx.map((i) => list[i]!);

type VectorError =
  | { type: 'invalid_contribution'; signer: number | null; contrib: string }
  | { type: 'value'; message: string };

/** The BIP's error: InvalidContributionError with the same blame, or the same ValueError text. */
function expectBipError(fn: () => unknown, error: VectorError): void {
  let thrown: unknown;
  try {
    fn();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(Error);
  if (error.type === 'invalid_contribution') {
    expect(thrown).toBeInstanceOf(InvalidContributionError);
    expect((thrown as InvalidContributionError).signer).toBe(error.signer);
    expect((thrown as InvalidContributionError).contrib).toBe(error.contrib);
  } else {
    expect(thrown).not.toBeInstanceOf(InvalidContributionError);
    expect((thrown as Error).message).toBe(error.message);
  }
}

describe('BIP327 key_agg vectors', () => {
  const pks = keyAggVectors.pubkeys.map(h);
  const tweaks = keyAggVectors.tweaks.map(h);
  it.each(keyAggVectors.valid_test_cases)('keys $key_indices', (tc) => {
    expect(H(keyAggExport(keyAggregate(pick(pks, tc.key_indices))))).toBe(tc.expected);
  });
  it.each(keyAggVectors.error_test_cases)('error: $comment', (tc) => {
    expectBipError(
      () => keyAggregate(pick(pks, tc.key_indices), pick(tweaks, tc.tweak_indices), tc.is_xonly),
      tc.error as VectorError,
    );
  });
});

describe('BIP327 tweak vectors', () => {
  const v = tweakVectors;
  const pks = v.pubkeys.map(h);
  const pnonces = v.pnonces.map(h);
  const tweaks = v.tweaks.map(h);
  const [sk, msg, aggnonce] = [h(v.sk), h(v.msg), h(v.aggnonce)];
  it.each(v.valid_test_cases)('$comment', (tc) => {
    const nonces = pick(pnonces, tc.nonce_indices);
    expect(H(nonceAggregate(nonces))).toBe(v.aggnonce);
    const session = new Session(aggnonce, pick(pks, tc.key_indices), msg, pick(tweaks, tc.tweak_indices), tc.is_xonly);
    const psig = session.sign(h(v.secnonce), sk);
    expect(H(psig)).toBe(tc.expected);
    expect(session.partialSigVerify(psig, nonces, tc.signer_index)).toBe(true);
  });
  it.each(v.error_test_cases)('error: $comment', (tc) => {
    expectBipError(
      () => new Session(aggnonce, pick(pks, tc.key_indices), msg, pick(tweaks, tc.tweak_indices), tc.is_xonly).sign(h(v.secnonce), sk),
      tc.error as VectorError,
    );
  });
});

describe('BIP327 sign_verify vectors', () => {
  const v = signVectors;
  const sk = h(v.sk);
  const pks = v.pubkeys.map(h);
  const secnonces = v.secnonces.map(h);
  const pnonces = v.pnonces.map(h);
  const aggnonces = v.aggnonces.map(h);
  const msgs = v.msgs.map(h);
  it('secnonces are 97 bytes: k1 || k2 || pk', () => {
    for (const s of secnonces) expect(s.length).toBe(97);
  });

  it.each(v.valid_test_cases)('sign and verify: keys $key_indices, signer $signer_index, msg $msg_index', (tc) => {
    const nonces = pick(pnonces, tc.nonce_indices);
    expect(H(nonceAggregate(nonces))).toBe(v.aggnonces[tc.aggnonce_index]);
    const session = new Session(aggnonces[tc.aggnonce_index]!, pick(pks, tc.key_indices), msgs[tc.msg_index]!);
    expect(H(session.sign(secnonces[0]!.slice(), sk))).toBe(tc.expected);
    expect(session.partialSigVerify(h(tc.expected), nonces, tc.signer_index)).toBe(true);
  });

  it.each(v.sign_error_test_cases)('sign error: $comment', (tc) => {
    expectBipError(
      () => new Session(aggnonces[tc.aggnonce_index]!, pick(pks, tc.key_indices), msgs[tc.msg_index]!).sign(secnonces[tc.secnonce_index]!.slice(), sk),
      tc.error as VectorError,
    );
  });

  it.each(v.verify_fail_test_cases)('verify fail: $comment', (tc) => {
    const nonces = pick(pnonces, tc.nonce_indices);
    const session = new Session(nonceAggregate(nonces), pick(pks, tc.key_indices), msgs[tc.msg_index]!);
    expect(session.partialSigVerify(h(tc.sig), nonces, tc.signer_index)).toBe(false);
  });

  it.each(v.verify_error_test_cases)('verify error: $comment', (tc) => {
    // PartialSigVerify = NonceAgg + session + PartialSigVerifyInternal; here those are nonceAggregate,
    // the Session constructor and partialSigVerify, so run the same chain.
    const verify = () => {
      const nonces = pick(pnonces, tc.nonce_indices);
      const session = new Session(nonceAggregate(nonces), pick(pks, tc.key_indices), msgs[tc.msg_index]!);
      return session.partialSigVerify(h(tc.sig), nonces, tc.signer_index);
    };
    expectBipError(verify, tc.error as VectorError);
  });

  it('verify error: an invalid pubnonce also throws from an existing session', () => {
    const session = new Session(aggnonces[0]!, pick(pks, [0, 1, 2]), msgs[0]!);
    expectBipError(() => session.partialSigVerify(h(v.valid_test_cases[0]!.expected), pick(pnonces, [4, 1, 2]), 0), {
      type: 'invalid_contribution',
      signer: 0,
      contrib: 'pubnonce',
    });
  });
});

describe('secret nonce handling and partial signature checks', () => {
  const v = signVectors;
  const sk = h(v.sk);
  const pks = pick(v.pubkeys.map(h), [0, 1, 2]);
  const nonces = pick(v.pnonces.map(h), [0, 1, 2]);
  const msg = h(v.msgs[0]!);
  const session = () => new Session(h(v.aggnonces[0]!), pks, msg);

  it('a secret nonce signs once; its k1 || k2 are zeroed and a second use throws', () => {
    const secnonce = h(v.secnonces[0]!);
    const s = session();
    expect(H(s.sign(secnonce, sk))).toBe(v.valid_test_cases[0]!.expected);
    expect(secnonce.subarray(0, 64).every((b) => b === 0)).toBe(true);
    expect(H(secnonce.subarray(64))).toBe(v.pubkeys[0]);
    expect(() => s.sign(secnonce, sk)).toThrow('first secnonce value is out of range.');
    expect(() => session().sign(secnonce, sk)).toThrow('first secnonce value is out of range.');
  });

  it('the secret nonce is consumed even when signing fails', () => {
    const secnonce = h(v.secnonces[0]!);
    const otherSk = new Uint8Array(32).fill(7);
    expect(() => session().sign(secnonce, otherSk)).toThrow('secret key does not match the secret nonce');
    expect(secnonce.subarray(0, 64).every((b) => b === 0)).toBe(true);
  });

  it('refuses a zero or out-of-range k2', () => {
    const secnonce = h(v.secnonces[0]!);
    secnonce.fill(0, 32, 64);
    expect(() => session().sign(secnonce, sk)).toThrow('second secnonce value is out of range.');
    const high = h(v.secnonces[0]!);
    high.set(secp.etc.numberToBytesBE(N), 32);
    expect(() => session().sign(high, sk)).toThrow('second secnonce value is out of range.');
  });

  it('a wrong partial signature fails partialSigVerify', () => {
    const good = h(v.valid_test_cases[0]!.expected);
    const s = session();
    expect(s.partialSigVerify(good, nonces, 0)).toBe(true);
    const plusOne = secp.etc.numberToBytesBE((secp.etc.bytesToNumberBE(good) + 1n) % N);
    expect(s.partialSigVerify(plusOne, nonces, 0)).toBe(false);
    expect(s.partialSigVerify(new Uint8Array(32), nonces, 0)).toBe(false);
    expect(s.partialSigVerify(good, nonces, 2)).toBe(false); // right sig, wrong signer
    // Signer 0's nonce unchanged, but the set does not aggregate to the session's aggnonce.
    expect(s.partialSigVerify(good, pick(v.pnonces.map(h), [0, 1, 3]), 0)).toBe(false);
  });

  it('rejects malformed inputs with errors', () => {
    const s = session();
    expect(() => s.partialSigVerify(new Uint8Array(31), nonces, 0)).toThrow();
    expect(() => s.partialSigVerify(new Uint8Array(32), nonces.slice(0, 2), 0)).toThrow();
    expect(() => s.partialSigVerify(new Uint8Array(32), nonces, 3)).toThrow();
    expect(() => s.sign(new Uint8Array(96), sk)).toThrow();
    expect(() => s.partialSigAgg([new Uint8Array(32)])).toThrow();
    expectBipError(() => s.partialSigAgg([new Uint8Array(32), secp.etc.numberToBytesBE(N), new Uint8Array(32)]), {
      type: 'invalid_contribution',
      signer: 1,
      contrib: 'psig',
    });
    expect(() => new Session(new Uint8Array(65), pks, msg)).toThrow();
    expect(() => keyAggregate([])).toThrow();
    expect(() => keyAggregate(pks, [new Uint8Array(32)], [])).toThrow();
    expect(() => IndividualPubkey(new Uint8Array(32))).toThrow();
    expect(() => nonceGen(pks[0]!, undefined, new Uint8Array(33))).toThrow();
    expect(() => nonceGen(pks[0]!, undefined, undefined, undefined, undefined, new Uint8Array(31))).toThrow();
    expect(() => nonceAggregate([])).toThrow();
  });

  it('nonceGen draws fresh randomness when rand is omitted', () => {
    const a = nonceGen(pks[0]!, sk);
    const b = nonceGen(pks[0]!, sk);
    expect(a.secret.length).toBe(97);
    expect(a.public.length).toBe(66);
    expect(H(a.public)).not.toBe(H(b.public));
  });
});

describe('differential: same bytes as @scure/btc-signer musig2', () => {
  const scalar = fc.bigInt({ min: 1n, max: N - 1n }).map((n) => secp.etc.numberToBytesBE(n));
  const tweak = fc.bigInt({ min: 0n, max: N - 1n }).map((n) => secp.etc.numberToBytesBE(n));
  const bytes32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

  it('key agg, nonces, partial sigs and the aggregate signature match, and the signature verifies', () => {
    fc.assert(
      fc.property(
        fc.record({
          sks: fc.tuple(scalar, fc.option(scalar, { freq: 8 })), // null: both signers share a key
          msg: fc.uint8Array({ maxLength: 80 }),
          tweaks: fc.array(fc.tuple(tweak, fc.boolean()), { maxLength: 3 }),
          rands: fc.tuple(bytes32, bytes32),
          extraIn: fc.uint8Array({ maxLength: 8 }),
          mix: fc.record({ sk: fc.boolean(), aggpk: fc.boolean(), msg: fc.boolean() }),
        }),
        ({ sks: [sk1, sk2], msg, tweaks, rands, extraIn, mix }) => {
          const sks = [sk1, sk2 ?? sk1];
          const pks = sks.map(IndividualPubkey);
          expect(pks.map(H)).toEqual(sks.map((sk) => H(ref.IndividualPubkey(sk))));
          const tw = tweaks.map(([t]) => t);
          const xo = tweaks.map(([, x]) => x);

          const ctx = keyAggregate(pks, tw, xo);
          const refCtx = ref.keyAggregate(pks, tw, xo);
          expect(H(ctx.Q.toBytes(true))).toBe(H(refCtx.aggPublicKey.toBytes(true)));
          expect([ctx.gacc, ctx.tacc]).toEqual([refCtx.gAcc, refCtx.tweakAcc]);
          const outputKey = keyAggExport(ctx);
          expect(H(outputKey)).toBe(H(ref.keyAggExport(refCtx)));

          const nonces = [0, 1].map((i) => {
            const args = [
              pks[i]!,
              mix.sk ? sks[i]! : undefined,
              mix.aggpk ? outputKey : undefined,
              mix.msg ? msg : undefined,
              extraIn,
              rands[i]!,
            ] as const;
            const mine = nonceGen(...args);
            const theirs = ref.nonceGen(...args);
            expect([H(mine.secret), H(mine.public)]).toEqual([H(theirs.secret), H(theirs.public)]);
            return mine;
          });
          const pubNonces = nonces.map((n) => n.public);
          const aggNonce = nonceAggregate(pubNonces);
          expect(H(aggNonce)).toBe(H(ref.nonceAggregate(pubNonces)));

          const session = new Session(aggNonce, pks, msg, tw, xo);
          const refSession = new ref.Session(aggNonce, pks, msg, tw, xo);
          const psigs = [0, 1].map((i) => {
            const psig = session.sign(nonces[i]!.secret.slice(), sks[i]!);
            expect(H(psig)).toBe(H(refSession.sign(nonces[i]!.secret.slice(), sks[i]!)));
            expect(session.partialSigVerify(psig, pubNonces, i)).toBe(true);
            expect(refSession.partialSigVerify(psig, pubNonces, i)).toBe(true);
            return psig;
          });

          const sig = session.partialSigAgg(psigs);
          expect(H(sig)).toBe(H(refSession.partialSigAgg(psigs)));
          expect(secp.schnorr.verify(sig, msg, outputKey)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
