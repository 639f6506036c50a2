// BIP341 key-path vectors: testing/vectors/bip341-wallet-test-vectors.json, copied from
// bitcoin/bips (see testing/vectors/README.md).
import { describe, it, expect } from 'vitest';
import { decodeTx } from './btc/tx.js';
import { hex } from '@scure/base';
import vectors from './testing/vectors/bip341-wallet-test-vectors.json' with { type: 'json' };
import { TxRejectedError } from './tx-errors.js';
import { decodeTaprootSig, signSighash, taprootSighash } from './tx-taproot.js';
import { walletKeyFromTweak } from './testing/tweak.js';
import { verifyWithBitcore } from './testing/bitcore-verify.js';
import { crypto } from './testing/fixtures.js';

const spend = vectors.keyPathSpending[0]!;
const tx = decodeTx(hex.decode(spend.given.rawUnsignedTx));
const prevouts = spend.given.utxosSpent.map((u) => ({ script: hex.decode(u.scriptPubKey), amount: BigInt(u.amountSats) }));

describe('taprootSighash + signSighash against BIP341 keyPathSpending', () => {
  it.each(spend.inputSpending)('input $given.txinIndex, hashType $given.hashType', (v) => {
    const sighash = taprootSighash(tx, v.given.txinIndex, prevouts, v.given.hashType);
    expect(hex.encode(sighash)).toBe(v.intermediary.sigHash);
    const sk = walletKeyFromTweak(hex.decode(v.given.internalPrivkey), v.given.merkleRoot ? hex.decode(v.given.merkleRoot) : undefined);
    expect(hex.encode(sk)).toBe(v.intermediary.tweakedPrivkey);
    // The BIP's signatures use an all-zero aux_rand.
    const sig = signSighash(crypto, sighash, sk, new Uint8Array(32), v.given.hashType);
    expect(hex.encode(sig)).toBe(v.expected.witness[0]);
  });

  it('bitcore accepts the fully signed vector tx and rejects it with one amount changed', () => {
    const full = spend.auxiliary.fullySignedTx;
    expect(verifyWithBitcore(full, prevouts)).toEqual({ ok: true, errors: [] });
    const wrong = prevouts.map((p, i) => (i === 0 ? { ...p, amount: p.amount + 1n } : p));
    expect(verifyWithBitcore(full, wrong).ok).toBe(false);
  });
});

describe('decodeTaprootSig', () => {
  it('accepts 64 bytes (DEFAULT) and 65 with a valid type', () => {
    expect(decodeTaprootSig(new Uint8Array(64)).hashType).toBe(0);
    const s = new Uint8Array(65);
    s[64] = 0x83;
    expect(decodeTaprootSig(s).hashType).toBe(0x83);
  });
  it.each([0, 63, 66])('rejects length %i', (n) => {
    expect(() => decodeTaprootSig(new Uint8Array(n))).toThrow(TxRejectedError);
  });
  it.each([0x00, 0x04, 0x80, 0x84, 0xff])('rejects sighash byte %i', (b) => {
    const s = new Uint8Array(65);
    s[64] = b;
    expect(() => decodeTaprootSig(s)).toThrow(TxRejectedError);
  });
});
