import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Transaction } from '@scure/btc-signer';
import { hex } from '@scure/base';
import {
  COMMITMENT_SEQUENCE,
  buildCommitmentTx,
  buildPayeeClose,
  commitmentSplit,
  fundingPrevout,
  signCommitment,
  verifyCommitment,
  type CommitmentState,
} from './commitment.js';
import { DUST_SAT, feeForVsize, payeeCloseVsize } from './fees.js';
import { TxBuildError, TxRejectedError } from './tx-errors.js';
import { SIGHASH, SIGHASH_NONE_ANYONECANPAY, SIGHASH_SINGLE_ANYONECANPAY, signSighash, taprootSighash } from './tx-taproot.js';
import { verifyWithBitcore } from './testing/bitcore-verify.js';
import { crypto, fromBtcSigner, seededRandom, testTerms } from './testing/fixtures.js';
import { encodeTx } from './btc/tx.js';

const CAP = 100_000n;

describe('commitmentSplit', () => {
  it('pays the payee floor(msat/1000) and never more than owed', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 1000n, max: 10n ** 9n }), fc.bigInt({ min: 0n, max: 10n ** 12n }), (cap, paidRaw) => {
        const paid = paidRaw % (cap * 1000n + 1n);
        const s = commitmentSplit(cap, paid);
        expect(s.payeeSat * 1000n <= paid).toBe(true);
        expect(paid - s.payeeSat * 1000n < 1000n).toBe(true);
        expect(s.payeeSat + s.changeSat).toBe(cap);
        expect(s.hasChange).toBe(s.changeSat >= DUST_SAT);
        expect(s.hashType).toBe(s.hasChange ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_NONE_ANYONECANPAY);
      }),
    );
  });

  it('drops the change exactly below 330 sat', () => {
    expect(commitmentSplit(CAP, (CAP - 330n) * 1000n).hasChange).toBe(true);
    expect(commitmentSplit(CAP, (CAP - 330n) * 1000n + 1n).hasChange).toBe(true); // floor keeps 330
    expect(commitmentSplit(CAP, (CAP - 329n) * 1000n).hasChange).toBe(false);
  });

  it('rejects paid amounts outside the channel', () => {
    expect(() => commitmentSplit(CAP, -1n)).toThrow(TxBuildError);
    expect(() => commitmentSplit(CAP, CAP * 1000n + 1n)).toThrow(TxBuildError);
    expect(() => commitmentSplit(0n, 0n)).toThrow(TxBuildError);
  });
});

describe('commitment tx', () => {
  const { terms, payer } = testTerms(CAP);
  it('has the shape DESIGN §6 fixes', () => {
    const { tx } = buildCommitmentTx(terms, 12_345_678n);
    expect(tx.version).toBe(2);
    expect(tx.lockTime).toBe(0);
    expect(tx.inputs.length).toBe(1);
    expect(tx.inputs[0]!.sequence).toBe(COMMITMENT_SEQUENCE);
    expect(tx.inputs[0]!.txid).toBe(terms.fundingOutpoint.txid);
    expect(tx.outputs[0]!.amount).toBe(CAP - 12_345n);
    expect(hex.encode(tx.outputs[0]!.script)).toBe(hex.encode(terms.payerScript));
    void payer;
  });
});

describe('signCommitment / verifyCommitment', () => {
  const { terms, payer, payee } = testTerms(CAP);
  const rand = seededRandom('commitment');

  it('a state verifies for its amount and no other', () => {
    const st = signCommitment(crypto, terms, 5_000_000n, payer.sk, rand());
    expect(st.payerSig.length).toBe(65);
    expect(st.payerSig[64]).toBe(SIGHASH_SINGLE_ANYONECANPAY);
    expect(verifyCommitment(crypto, terms, st)).toBe(true);
    expect(verifyCommitment(crypto, terms, { ...st, paidMsat: 6_000_000n })).toBe(false);
    // Same whole-sat amount: the signature covers sats, so msat below a sat do not matter.
    expect(verifyCommitment(crypto, terms, { ...st, paidMsat: 5_000_999n })).toBe(true);
  });

  it('rejects a signature by the wrong key, a wrong sighash byte, junk', () => {
    const st = signCommitment(crypto, terms, 5_000_000n, payee.sk, rand());
    expect(verifyCommitment(crypto, terms, st)).toBe(false);
    const good = signCommitment(crypto, terms, 5_000_000n, payer.sk, rand());
    const sig = Uint8Array.from(good.payerSig);
    sig[64] = SIGHASH_NONE_ANYONECANPAY;
    expect(verifyCommitment(crypto, terms, { ...good, payerSig: sig })).toBe(false);
    expect(verifyCommitment(crypto, terms, { ...good, payerSig: good.payerSig.subarray(0, 64) })).toBe(false);
    expect(verifyCommitment(crypto, terms, { ...good, payerSig: new Uint8Array(3) })).toBe(false);
    expect(verifyCommitment(crypto, terms, { ...good, paidMsat: -5n })).toBe(false);
  });

  it('a state signed for one channel does not verify for another', () => {
    const other = testTerms(CAP + 1n);
    const st = signCommitment(crypto, terms, 5_000_000n, payer.sk, rand());
    expect(verifyCommitment(crypto, other.terms, st)).toBe(false);
  });

  it('never verifies a tampered signature (fuzz)', () => {
    const st = signCommitment(crypto, terms, 7_000_000n, payer.sk, rand());
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 64 }), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const sig = Uint8Array.from(st.payerSig);
        sig[i] = sig[i]! ^ x;
        return !verifyCommitment(crypto, terms, { ...st, payerSig: sig });
      }),
      { numRuns: 40 },
    );
  });
});

describe('buildPayeeClose, checked by bitcore', () => {
  const { terms, payer, payee, payeeWallet } = testTerms(CAP);
  const rand = seededRandom('payee-close');
  const prevouts = [fundingPrevout(terms)];

  function close(state: CommitmentState, feeSat = 500n) {
    return buildPayeeClose(crypto, { terms, state, payeeSecretKey: payee.sk, payeeScript: payeeWallet.script, feeSat, aux: rand() });
  }

  it('with change: valid, output 0 untouched, payee gets share − fee', () => {
    const st = signCommitment(crypto, terms, 40_000_123n, payer.sk, rand());
    const signed = close(st, 400n);
    expect(verifyWithBitcore(signed.hex, prevouts)).toEqual({ ok: true, errors: [] });
    const tx = Transaction.fromRaw(hex.decode(signed.hex), { allowUnknownOutputs: true });
    expect(tx.getOutput(0).amount).toBe(CAP - 40_000n);
    expect(tx.getOutput(1).amount).toBe(40_000n - 400n);
    expect(signed.fee).toBe(400n);
    // witness order for leaf A: payer sig, payee sig, script, control block
    const w = tx.getInput(0).finalScriptWitness!;
    expect(w.length).toBe(4);
    expect(hex.encode(w[0]!)).toBe(hex.encode(st.payerSig));
    expect(hex.encode(w[2]!)).toBe(hex.encode(terms.funding.leafA.script));
    // the fee estimate covers the real size
    expect(payeeCloseVsize(true)).toBeGreaterThanOrEqual(signed.vsize);
    expect(payeeCloseVsize(true) - signed.vsize).toBeLessThanOrEqual(1);
  });

  it('without change (NONE|ANYONECANPAY): valid, payee takes the capacity − fee', () => {
    const st = signCommitment(crypto, terms, (CAP - 100n) * 1000n, payer.sk, rand());
    expect(st.payerSig[64]).toBe(SIGHASH_NONE_ANYONECANPAY);
    const signed = close(st, 300n);
    expect(verifyWithBitcore(signed.hex, prevouts).ok).toBe(true);
    const tx = Transaction.fromRaw(hex.decode(signed.hex), { allowUnknownOutputs: true });
    expect(tx.outputsLength).toBe(1);
    expect(tx.getOutput(0).amount).toBe(CAP - 300n);
    expect(payeeCloseVsize(false)).toBeGreaterThanOrEqual(signed.vsize);
  });

  it('NONE variant: tampering with the payee output, the funding amount or the payer key is rejected', () => {
    const st = signCommitment(crypto, terms, (CAP - 10n) * 1000n, payer.sk, rand());
    const signed = close(st, 300n);
    const tx = Transaction.fromRaw(hex.decode(signed.hex), { allowUnknownOutputs: true, disableScriptCheck: true });
    tx.updateOutput(0, { amount: CAP - 299n }, true);
    expect(verifyWithBitcore(tx.hex, prevouts).ok).toBe(false);
    expect(verifyWithBitcore(signed.hex, [{ script: terms.funding.script, amount: CAP - 1n }]).ok).toBe(false);
    const byPayee = signCommitment(crypto, terms, (CAP - 10n) * 1000n, payee.sk, rand());
    expect(() => close(byPayee, 300n)).toThrow(TxRejectedError);
  });

  it('works for every key parity combination', () => {
    for (const payerParity of ['even', 'odd'] as const) {
      for (const payeeParity of ['even', 'odd'] as const) {
        const t = testTerms(CAP, { payerParity, payeeParity });
        const st = signCommitment(crypto, t.terms, 50_000_000n, t.payer.sk, rand());
        const signed = buildPayeeClose(crypto, {
          terms: t.terms,
          state: st,
          payeeSecretKey: t.payee.sk,
          payeeScript: t.payeeWallet.script,
          feeSat: feeForVsize(2, payeeCloseVsize(true)),
          aux: rand(),
        });
        expect(verifyWithBitcore(signed.hex, [fundingPrevout(t.terms)]).ok).toBe(true);
      }
    }
  });

  it('refuses a bad state and an output below dust', () => {
    const st = signCommitment(crypto, terms, 40_000_000n, payer.sk, rand());
    expect(() => close({ ...st, paidMsat: 41_000_000n })).toThrow(TxRejectedError);
    const small = signCommitment(crypto, terms, 700_000n, payer.sk, rand());
    expect(() => close(small, 400n)).toThrow(TxBuildError);
  });

  describe('tampered closes are rejected by bitcore', () => {
    const st = signCommitment(crypto, terms, 40_000_000n, payer.sk, rand());
    const good = close(st, 400n);
    const base = () => Transaction.fromRaw(hex.decode(good.hex), { allowUnknownOutputs: true, disableScriptCheck: true });
    const reject = (tx: Transaction, pv = prevouts) => {
      const v = verifyWithBitcore(tx.hex, pv);
      expect(v.ok).toBe(false);
      expect(v.errors.join('\n')).toMatch(/input 0: SCRIPT_ERR_/);
      return v.errors;
    };

    it('payer change output lowered', () => {
      const tx = base();
      tx.updateOutput(0, { amount: CAP - 40_001n }, true);
      reject(tx);
    });
    it('payee output raised (also spends more than the input)', () => {
      const tx = base();
      tx.updateOutput(1, { amount: 40_000n }, true);
      reject(tx);
    });
    it('payee output redirected', () => {
      const tx = base();
      tx.updateOutput(1, { script: terms.payerScript }, true);
      reject(tx);
    });
    it('wrong locktime', () => {
      const raw = hex.decode(good.hex);
      raw[raw.length - 4] = 1; // nLockTime is the last 4 bytes
      expect(verifyWithBitcore(hex.encode(raw), prevouts).ok).toBe(false);
    });
    it('wrong sequence', () => {
      const tx = base();
      tx.updateInput(0, { sequence: 0xffffffff }, true);
      reject(tx);
    });
    it('wrong funding amount', () => {
      reject(base(), [{ script: terms.funding.script, amount: CAP + 1n }]);
    });
    it('payee signature from the wrong key', () => {
      const wrong = buildPayeeClose(crypto, { terms, state: st, payeeSecretKey: payer.sk, payeeScript: payeeWallet.script, feeSat: 400n, aux: rand() });
      expect(verifyWithBitcore(wrong.hex, prevouts).ok).toBe(false);
    });
    it('payee lowers the payer change and signs its own part afresh: the payer signature fails', () => {
      // Built with btc-signer, an implementation independent of ours.
      const tx = Transaction.fromRaw(encodeTx(buildCommitmentTx(terms, 40_000_000n).tx), { allowUnknownOutputs: true });
      tx.updateOutput(0, { amount: CAP - 50_000n }, true);
      tx.addOutput({ script: payeeWallet.script, amount: 49_600n });
      const leaf = terms.funding.leafA;
      const payeeSig = signSighash(crypto, taprootSighash(fromBtcSigner(tx), 0, prevouts, SIGHASH.DEFAULT, leaf.script), payee.sk, rand(), SIGHASH.DEFAULT);
      tx.updateInput(0, { finalScriptWitness: [st.payerSig, payeeSig, leaf.script, leaf.controlBlock] }, true);
      reject(tx);
      // …while the same construction with the change as signed is accepted.
      const ok = Transaction.fromRaw(encodeTx(buildCommitmentTx(terms, 40_000_000n).tx), { allowUnknownOutputs: true });
      ok.addOutput({ script: payeeWallet.script, amount: 39_600n });
      const sig2 = signSighash(crypto, taprootSighash(fromBtcSigner(ok), 0, prevouts, SIGHASH.DEFAULT, leaf.script), payee.sk, rand(), SIGHASH.DEFAULT);
      ok.updateInput(0, { finalScriptWitness: [st.payerSig, sig2, leaf.script, leaf.controlBlock] }, true);
      expect(verifyWithBitcore(ok.hex, prevouts).ok).toBe(true);
    });
    it('witness elements swapped', () => {
      const tx = base();
      const w = tx.getInput(0).finalScriptWitness!;
      tx.updateInput(0, { finalScriptWitness: [w[1]!, w[0]!, w[2]!, w[3]!] }, true);
      reject(tx);
    });
  });
});
