import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Transaction } from '@scure/btc-signer';
import { hex } from '@scure/base';
import { buildCooperativeClose, cooperativeSplit, finalizeCooperativeClose } from './close-cooperative.js';
import { fundingPrevout } from './commitment.js';
import { DUST_SAT, cooperativeCloseVsize, feeForVsize } from './fees.js';
import { musigAggregate, musigNonceGen, musigPartialSign } from './musig.js';
import { TxBuildError, TxRejectedError } from './tx-errors.js';
import { verifyWithBitcore } from './testing/bitcore-verify.js';
import { crypto, seededRandom, testTerms } from './testing/fixtures.js';

const CAP = 200_000n;

describe('cooperativeSplit', () => {
  it('conserves value and never leaves a dust output', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: CAP * 1000n }), fc.bigInt({ min: 0n, max: 5_000n }), (paid, fee) => {
        let s;
        try {
          s = cooperativeSplit(CAP, paid, fee);
        } catch (e) {
          expect(e).toBeInstanceOf(TxBuildError);
          return;
        }
        const payeeShare = paid / 1000n;
        for (const v of [s.payerSat, s.payeeSat]) expect(v === 0n || v >= DUST_SAT).toBe(true);
        expect(s.payerSat + s.payeeSat <= CAP - fee).toBe(true);
        // nobody gets more than their share
        expect(s.payeeSat <= payeeShare).toBe(true);
        expect(s.payerSat <= CAP - payeeShare).toBe(true);
        // when both outputs exist the fee is split and nothing else is lost
        if (s.payerSat > 0n && s.payeeSat > 0n) expect(s.payerSat + s.payeeSat).toBe(CAP - fee);
      }),
    );
  });
});

describe('cooperative close (MuSig2 key path), checked by bitcore', () => {
  const { terms, payer, payee, payeeWallet } = testTerms(CAP, { payerParity: 'odd', payeeParity: 'even' });
  const prevouts = [fundingPrevout(terms)];
  const rand = seededRandom('coop');

  function sign(paidMsat: bigint, feeSat: bigint) {
    // Each side builds the tx independently from the terms; they must agree.
    const a = buildCooperativeClose({ terms, paidMsat, payeeScript: payeeWallet.script, feeSat });
    const b = buildCooperativeClose({ terms, paidMsat, payeeScript: payeeWallet.script, feeSat });
    expect(hex.encode(a.sighash)).toBe(hex.encode(b.sighash));
    const ctx = terms.funding.musig;
    const np = musigNonceGen(ctx, payer.sk, a.sighash, rand());
    const nq = musigNonceGen(ctx, payee.sk, b.sighash, rand());
    const nonces = [np.publicNonce, nq.publicNonce];
    const sp = musigPartialSign(ctx, np.secretNonce, payer.sk, nonces, a.sighash);
    const sq = musigPartialSign(ctx, nq.secretNonce, payee.sk, nonces, b.sighash);
    return { close: a, sig: musigAggregate(ctx, nonces, [sp, sq], a.sighash) };
  }

  it('pays both sides and verifies', () => {
    const fee = feeForVsize(3, cooperativeCloseVsize([34, 34]));
    const { close, sig } = sign(123_456_789n, fee);
    const signed = finalizeCooperativeClose(crypto, close, sig);
    expect(verifyWithBitcore(signed.hex, prevouts)).toEqual({ ok: true, errors: [] });
    expect(signed.fee).toBe(fee);
    expect(close.payeeSat + close.payerSat).toBe(CAP - fee);
    expect(cooperativeCloseVsize([34, 34])).toBeGreaterThanOrEqual(signed.vsize);
  });

  it('with nothing paid, the payer alone is paid', () => {
    const { close, sig } = sign(0n, 200n);
    const signed = finalizeCooperativeClose(crypto, close, sig);
    expect(close.payeeSat).toBe(0n);
    expect(close.payerSat).toBe(CAP - 200n);
    expect(verifyWithBitcore(signed.hex, prevouts).ok).toBe(true);
  });

  it('refuses an aggregate signature that does not verify', () => {
    const { close, sig } = sign(5_000_000n, 300n);
    const bad = Uint8Array.from(sig);
    bad[5] = bad[5]! ^ 1;
    expect(() => finalizeCooperativeClose(crypto, close, bad)).toThrow(TxRejectedError);
  });

  it('tampered versions are rejected', () => {
    const { close, sig } = sign(50_000_000n, 300n);
    const signed = finalizeCooperativeClose(crypto, close, sig);
    const parse = () => Transaction.fromRaw(hex.decode(signed.hex), { allowUnknownOutputs: true, disableScriptCheck: true });
    const outputChanged = parse();
    outputChanged.updateOutput(1, { amount: close.payeeSat + 1n }, true);
    const seqChanged = parse();
    seqChanged.updateInput(0, { sequence: 0xfffffffe }, true);
    const raw = hex.decode(signed.hex);
    raw[raw.length - 1] = 0x01; // nLockTime
    for (const txHex of [outputChanged.hex, seqChanged.hex, hex.encode(raw)]) {
      const v = verifyWithBitcore(txHex, prevouts);
      expect(v.ok).toBe(false);
      expect(v.errors.join()).toMatch(/^input 0: /); // key path: bitcore sets no errstr
    }
    expect(verifyWithBitcore(signed.hex, [{ script: terms.funding.script, amount: CAP - 1n }]).ok).toBe(false);
    // a signature by one party's key alone is not the aggregate key's
    const single = crypto.schnorrSign(close.sighash, payer.sk, rand());
    const lone = parse();
    lone.updateInput(0, { finalScriptWitness: [single] }, true);
    expect(verifyWithBitcore(lone.hex, prevouts).ok).toBe(false);
  });
});
