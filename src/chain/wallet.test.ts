import { describe, it, expect } from 'vitest';
import { Transaction } from '@scure/btc-signer';
import { hex } from '@scure/base';
import { channelFunding } from './funding.js';
import { DUST_SAT, feeForVsize, walletSpendVsize } from './fees.js';
import { Wallet } from './wallet.js';
import { TxBuildError } from './tx-errors.js';
import { BadAddressError } from './script-address.js';
import { SIGHASH, signSighash, taprootSighash } from './tx-taproot.js';
import { verifyWithBitcore } from './testing/bitcore-verify.js';
import { crypto, fakeTxid, fromBtcSigner, seededRandom, testKey } from './testing/fixtures.js';

function fundedWallet(label: string, values: number[], parity: 'even' | 'odd' = 'odd') {
  const w = new Wallet(crypto, testKey(label, parity).sk, 'regtest');
  values.forEach((value, i) => w.utxos.add({ txid: fakeTxid(`${label}/${i}`), vout: i, value, status: { confirmed: true, block_height: 100 + i } }));
  return w;
}

describe('Wallet: channel funding, checked by bitcore', () => {
  const payer = testKey('payer');
  const payee = testKey('payee');
  const funding = channelFunding({ payerX: payer.x, payeeX: payee.x, expiryHeight: 900_000, network: 'regtest' });

  it('pays the funding output at vout 0, change back to itself, valid signatures', () => {
    const w = fundedWallet('funder', [30_000, 80_000, 5_000]);
    const res = w.fundChannel(funding, 100_000n, { feeRate: 2, rand: seededRandom('fund') });
    expect(verifyWithBitcore(res.signed.hex, res.prevouts)).toEqual({ ok: true, errors: [] });
    const tx = Transaction.fromRaw(hex.decode(res.signed.hex), { allowUnknownOutputs: true });
    expect(hex.encode(tx.getOutput(0).script!)).toBe(hex.encode(funding.script));
    expect(tx.getOutput(0).amount).toBe(100_000n);
    expect(res.fundingOutpoint).toEqual({ txid: res.signed.txid, vout: 0 });
    expect(res.signed.fee).toBe(feeForVsize(2, walletSpendVsize(2, [34, 34])));
    expect(res.signed.vsize).toBeLessThanOrEqual(walletSpendVsize(2, [34, 34]));
    // coins: both large ones spent, the change is tracked as unconfirmed
    expect(w.utxos.balance()).toEqual({ confirmedSat: 5_000n, unconfirmedSat: 110_000n - 100_000n - res.signed.fee });
  });

  it('abandon() returns the coins', () => {
    const w = fundedWallet('abandon', [200_000]);
    const before = w.utxos.balance();
    const res = w.fundChannel(funding, 100_000n, { feeRate: 1, rand: seededRandom('ab') });
    w.abandon(res);
    expect(w.utxos.balance()).toEqual(before);
  });

  it('tampered funding txs are rejected', () => {
    const w = fundedWallet('tamper', [60_000, 70_000], 'even');
    const res = w.fundChannel(funding, 100_000n, { feeRate: 1, rand: seededRandom('t') });
    const parse = () => Transaction.fromRaw(hex.decode(res.signed.hex), { allowUnknownOutputs: true, disableScriptCheck: true });
    const out = parse();
    out.updateOutput(0, { amount: 100_001n }, true);
    const seq = parse();
    seq.updateInput(1, { sequence: 0 }, true);
    const raw = hex.decode(res.signed.hex);
    raw[raw.length - 2] = 0x01; // nLockTime
    for (const txHex of [out.hex, seq.hex, hex.encode(raw)]) expect(verifyWithBitcore(txHex, res.prevouts).ok).toBe(false);
    const wrongAmount = res.prevouts.map((p, i) => (i === 1 ? { ...p, amount: p.amount - 1n } : p));
    expect(verifyWithBitcore(res.signed.hex, wrongAmount).ok).toBe(false);
    // a key other than the wallet's: same tx signed by another wallet's key over the same coins
    const other = new Wallet(crypto, testKey('intruder').sk, 'regtest');
    const forged = parse();
    const sighash = taprootSighash(fromBtcSigner(forged), 0, res.prevouts, SIGHASH.DEFAULT);
    const sig = signSighash(crypto, sighash, other.key.tweakedSecretKey, new Uint8Array(32), SIGHASH.DEFAULT);
    forged.updateInput(0, { finalScriptWitness: [sig] }, true);
    expect(verifyWithBitcore(forged.hex, res.prevouts).ok).toBe(false);
  });
});

describe('Wallet.send', () => {
  it('sends to an address, spending only confirmed coins when asked', () => {
    const w = fundedWallet('sender', [40_000]);
    w.utxos.add({ txid: fakeTxid('mempool'), vout: 0, value: 900_000, status: { confirmed: false } });
    const dest = new Wallet(crypto, testKey('dest').sk, 'regtest');
    const res = w.send(dest.address, 20_000n, { feeRate: 1, rand: seededRandom('s'), filter: { minConfirmations: 1, tipHeight: 200 } });
    expect(res.spent).toEqual([{ txid: fakeTxid('sender/0'), vout: 0 }]);
    expect(verifyWithBitcore(res.signed.hex, res.prevouts).ok).toBe(true);
    const tx = Transaction.fromRaw(hex.decode(res.signed.hex), { allowUnknownOutputs: true });
    expect(hex.encode(tx.getOutput(0).script!)).toBe(hex.encode(dest.script));
    // redirected or inflated outputs are rejected
    const redirected = Transaction.fromRaw(hex.decode(res.signed.hex), { allowUnknownOutputs: true, disableScriptCheck: true });
    redirected.updateOutput(0, { script: w.script }, true);
    const inflated = Transaction.fromRaw(hex.decode(res.signed.hex), { allowUnknownOutputs: true, disableScriptCheck: true });
    inflated.updateOutput(0, { amount: 20_001n }, true);
    for (const t of [redirected, inflated]) expect(verifyWithBitcore(t.hex, res.prevouts).ok).toBe(false);
  });

  it('refuses dust, wrong-network addresses and overspending', () => {
    const w = fundedWallet('poor', [10_000]);
    const dest = new Wallet(crypto, testKey('dest').sk, 'regtest').address;
    const opts = { feeRate: 1, rand: seededRandom('p') };
    expect(() => w.send(dest, DUST_SAT - 1n, opts)).toThrow(TxBuildError);
    expect(() => w.send(new Wallet(crypto, testKey('dest').sk, 'mainnet').address, 1000n, opts)).toThrow(BadAddressError);
    expect(() => w.send(dest, 10_000n, opts)).toThrow(TxBuildError);
    expect(w.utxos.balance().confirmedSat).toBe(10_000n);
  });
});
