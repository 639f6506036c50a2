import { describe, it, expect } from 'vitest';
import { Transaction } from '@scure/btc-signer';
import { hex } from '@scure/base';
import { fundingPrevout } from './commitment.js';
import { feeForVsize, refundVsize } from './fees.js';
import { REFUND_SEQUENCE, buildRefund } from './refund.js';
import { SIGHASH, signSighash, taprootSighash } from './tx-taproot.js';
import { TxBuildError } from './tx-errors.js';
import { verifyWithBitcore } from './testing/bitcore-verify.js';
import { EXPIRY, crypto, fromBtcSigner, seededRandom, testTerms } from './testing/fixtures.js';

const CAP = 80_000n;

describe('refund through leaf B, checked by bitcore', () => {
  const { terms, payer, payee, payerWallet } = testTerms(CAP);
  const prevouts = [fundingPrevout(terms)];
  const rand = seededRandom('refund');
  const fee = feeForVsize(1.5, refundVsize());
  const signed = buildRefund(crypto, { terms, payerSecretKey: payer.sk, toScript: payerWallet.script, feeSat: fee, aux: rand() });

  it('is valid from the block after the expiry height on', () => {
    const tx = Transaction.fromRaw(hex.decode(signed.hex), { allowUnknownOutputs: true });
    expect(tx.lockTime).toBe(EXPIRY);
    expect(tx.getInput(0).sequence).toBe(REFUND_SEQUENCE);
    expect(tx.getOutput(0).amount).toBe(CAP - fee);
    expect(verifyWithBitcore(signed.hex, prevouts, { blockHeight: EXPIRY + 1 })).toEqual({ ok: true, errors: [] });
    expect(refundVsize()).toBeGreaterThanOrEqual(signed.vsize);
    // Before that, consensus (nLockTime finality) keeps it out of blocks.
    expect(verifyWithBitcore(signed.hex, prevouts, { blockHeight: EXPIRY }).ok).toBe(false);
  });

  // Re-sign a modified refund so the signature is valid and only CLTV can object.
  function resigned(lockTime: number, sequence: number, sk = payer.sk) {
    const tx = new Transaction({ version: 2, lockTime, allowUnknownOutputs: true });
    tx.addInput({ txid: hex.decode(terms.fundingOutpoint.txid), index: terms.fundingOutpoint.vout, sequence, witnessUtxo: prevouts[0]! });
    tx.addOutput({ script: payerWallet.script, amount: CAP - fee });
    const leaf = terms.funding.leafB;
    const sig = signSighash(crypto, taprootSighash(fromBtcSigner(tx), 0, prevouts, SIGHASH.DEFAULT, leaf.script), sk, rand(), SIGHASH.DEFAULT);
    tx.updateInput(0, { finalScriptWitness: [sig, leaf.script, leaf.controlBlock] }, true);
    return tx.hex;
  }

  it('the re-signing helper itself produces a valid refund', () => {
    expect(verifyWithBitcore(resigned(EXPIRY, REFUND_SEQUENCE), prevouts).ok).toBe(true);
  });

  it('rejects a locktime below the expiry (CLTV)', () => {
    const v = verifyWithBitcore(resigned(EXPIRY - 1, REFUND_SEQUENCE), prevouts);
    expect(v.ok).toBe(false);
    expect(v.errors.join()).toMatch(/LOCKTIME/);
  });

  it('rejects a final sequence, which would switch nLockTime off (CLTV)', () => {
    const v = verifyWithBitcore(resigned(EXPIRY, 0xffffffff), prevouts);
    expect(v.ok).toBe(false);
    expect(v.errors.join()).toMatch(/LOCKTIME/);
  });

  it('rejects the payee key, a changed output and a wrong amount', () => {
    expect(verifyWithBitcore(resigned(EXPIRY, REFUND_SEQUENCE, payee.sk), prevouts).ok).toBe(false);
    const tx = Transaction.fromRaw(hex.decode(signed.hex), { allowUnknownOutputs: true, disableScriptCheck: true });
    tx.updateOutput(0, { amount: CAP - fee + 1n }, true);
    expect(verifyWithBitcore(tx.hex, prevouts).ok).toBe(false);
    expect(verifyWithBitcore(signed.hex, [{ script: terms.funding.script, amount: CAP + 10n }]).ok).toBe(false);
  });

  it('refuses a fee that leaves dust', () => {
    expect(() => buildRefund(crypto, { terms, payerSecretKey: payer.sk, toScript: payerWallet.script, feeSat: CAP - 100n, aux: rand() })).toThrow(TxBuildError);
  });
});
