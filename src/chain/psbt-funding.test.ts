import { describe, it, expect } from 'vitest';
import { Transaction, p2tr, p2wpkh } from '@scure/btc-signer';
import { pubECDSA, pubSchnorr } from '@scure/btc-signer/utils.js';
import { base64, hex } from '@scure/base';
import { channelFunding } from './funding.js';
import { acceptFundingPsbt, fundingPsbt } from './psbt-funding.js';
import { btcNetwork } from './network.js';
import { TxRejectedError } from './tx-errors.js';
import { verifyWithBitcore } from './testing/bitcore-verify.js';
import { fakeTxid, testKey } from './testing/fixtures.js';

const payer = testKey('payer');
const payee = testKey('payee');
const funding = channelFunding({ payerX: payer.x, payeeX: payee.x, expiryHeight: 900_000, network: 'regtest' });
const CAP = 150_000n;

// An "outside wallet": btc-signer signing its own P2WPKH and P2TR coins.
const segwitKey = testKey('outside-segwit').sk;
const trKey = testKey('outside-tr').sk;
const net = btcNetwork('regtest');
const segwitOut = p2wpkh(pubECDSA(segwitKey), net);
const trOut = p2tr(pubSchnorr(trKey), undefined, net);

function outsideWalletSigns(psbt: string, opts: { capacity?: bigint; sign?: boolean; extraFunding?: boolean } = {}): string {
  const tx = Transaction.fromPSBT(base64.decode(psbt), { allowUnknownOutputs: true });
  tx.addInput({ txid: fakeTxid('ext/0'), index: 0, witnessUtxo: { script: segwitOut.script, amount: 100_000n } });
  tx.addInput({ txid: fakeTxid('ext/1'), index: 2, witnessUtxo: { script: trOut.script, amount: 80_000n }, tapInternalKey: trOut.tapInternalKey });
  if (opts.capacity !== undefined) tx.updateOutput(0, { amount: opts.capacity });
  if (opts.extraFunding) tx.addOutput({ script: funding.script, amount: 1000n });
  tx.addOutput({ script: segwitOut.script, amount: 180_000n - CAP - 500n });
  if (opts.sign !== false) {
    tx.signIdx(segwitKey, 0);
    tx.signIdx(trKey, 1);
  }
  return base64.encode(tx.toPSBT());
}

describe('funding from an outside wallet (PSBT)', () => {
  it('hands out a PSBT with only the funding output', () => {
    const tx = Transaction.fromPSBT(base64.decode(fundingPsbt(funding, CAP)), { allowUnknownOutputs: true });
    expect(tx.inputsLength).toBe(0);
    expect(tx.outputsLength).toBe(1);
    expect(hex.encode(tx.getOutput(0).script!)).toBe(hex.encode(funding.script));
    expect(tx.getOutput(0).amount).toBe(CAP);
  });

  it('accepts the signed PSBT, finalizes it, and the tx verifies', () => {
    const acc = acceptFundingPsbt(outsideWalletSigns(fundingPsbt(funding, CAP)), funding, CAP);
    expect(acc.fundingOutpoint).toEqual({ txid: acc.txid, vout: 0 });
    expect(acc.fee).toBe(500n);
    expect(verifyWithBitcore(acc.hex, acc.prevouts!)).toEqual({ ok: true, errors: [] });
  });

  it('rejects a PSBT that pays a different amount, pays twice, or is unsigned', () => {
    const base = fundingPsbt(funding, CAP);
    const wrong = (p: string, code: string) => {
      try {
        acceptFundingPsbt(p, funding, CAP);
        expect.unreachable();
      } catch (e) {
        expect(e).toBeInstanceOf(TxRejectedError);
        expect((e as TxRejectedError).code).toBe(code);
      }
    };
    wrong(outsideWalletSigns(base, { capacity: CAP - 1n }), 'tx.psbt-wrong-output');
    wrong(outsideWalletSigns(base, { extraFunding: true }), 'tx.psbt-wrong-output');
    wrong(outsideWalletSigns(base, { sign: false }), 'tx.psbt-not-final');
    wrong(base, 'tx.psbt-not-final');
    wrong('not base64!', 'tx.bad-psbt');
    wrong(base64.encode(new Uint8Array([1, 2, 3])), 'tx.bad-psbt');
    // a PSBT for another channel's output
    const other = channelFunding({ payerX: payee.x, payeeX: payer.x, expiryHeight: 900_000, network: 'regtest' });
    wrong(outsideWalletSigns(fundingPsbt(other, CAP)), 'tx.psbt-wrong-output');
  });
});
