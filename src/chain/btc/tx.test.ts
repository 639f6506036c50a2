// Our transaction codec against btc-signer (an independent implementation, dev only)
// and against hostile bytes.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RawTx, Transaction } from '@scure/btc-signer';
import { hex } from '@scure/base';
import vectors from '../testing/vectors/bip341-wallet-test-vectors.json' with { type: 'json' };
import { TxRejectedError } from '../tx-errors.js';
import { decodeTx, decodeTxHex, encodeTx, txid, vsize, weight, type Tx } from './tx.js';
import { arbTx } from '../testing/arb-tx.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

describe('encodeTx / decodeTx', () => {
  it('round-trips and agrees byte for byte with btc-signer, txid and weight included', () => {
    fc.assert(
      fc.property(arbTx, (tx) => {
        const raw = encodeTx(tx);
        expect(decodeTx(raw)).toEqual({ ...tx, inputs: tx.inputs.map((i) => ({ ...i, witness: tx.inputs.some((x) => x.witness.length) ? i.witness : [] })) });
        const theirs = Transaction.fromRaw(raw, { allowUnknownOutputs: true, allowUnknownInputs: true, disableScriptCheck: true, allowLegacyWitnessUtxo: true });
        expect(hex.encode(theirs.toBytes(true, true))).toBe(hex.encode(raw));
        expect(txid(tx)).toBe(theirs.id);
        const theirWeight = 3 * theirs.toBytes(true, false).length + raw.length; // BIP141
        expect(weight(tx)).toBe(theirWeight);
        expect(vsize(tx)).toBe(Math.ceil(theirWeight / 4));
      }),
      { numRuns: 300 },
    );
  });

  it('reads the BIP341 vector transaction', () => {
    const full = vectors.keyPathSpending[0]!.auxiliary.fullySignedTx;
    const tx = decodeTxHex(full);
    expect(tx.inputs).toHaveLength(9);
    expect(hex.encode(encodeTx(tx))).toBe(full);
  });

  it('refuses what it cannot re-encode to the same bytes, with a typed error', () => {
    const tx: Tx = { version: 2, lockTime: 0, inputs: [{ txid: '11'.repeat(32), vout: 0, sequence: 0, scriptSig: new Uint8Array(0), witness: [] }], outputs: [] };
    const raw = encodeTx(tx);
    const bad = (b: Uint8Array, why: RegExp) => expect(() => decodeTx(b)).toThrow(why);
    bad(Uint8Array.from([...raw, 0]), /trailing/);
    bad(raw.subarray(0, raw.length - 1), /truncated/);
    // the input count 1 written as fd 01 00
    bad(Uint8Array.from([...raw.subarray(0, 4), 0xfd, 0x01, 0x00, ...raw.subarray(5)]), /non-minimal/);
    // segwit marker with every witness empty
    bad(Uint8Array.from([...raw.subarray(0, 4), 0x00, 0x01, ...raw.subarray(4, raw.length - 4), 0x00, ...raw.subarray(raw.length - 4)]), /without witness/);
    expect(() => decodeTxHex('zz')).toThrow(TxRejectedError);
  });

  it('any mutation of valid bytes decodes or fails with tx.malformed, never otherwise', () => {
    fc.assert(
      fc.property(arbTx, fc.nat(), fc.integer({ min: 0, max: 255 }), fc.boolean(), (tx, at, value, truncate) => {
        const raw = encodeTx(tx);
        const i = at % raw.length;
        const mutated = truncate ? raw.subarray(0, i) : Uint8Array.from(raw, (b, k) => (k === i ? value : b));
        try {
          const back = decodeTx(mutated);
          expect(hex.encode(encodeTx(back))).toBe(hex.encode(mutated)); // one spelling per tx
        } catch (e) {
          expect(e).toBeInstanceOf(TxRejectedError);
          expect((e as TxRejectedError).code).toBe('tx.malformed');
        }
      }),
      { numRuns: 2000 },
    );
    fc.assert(
      fc.property(bytes(0, 200), (b) => {
        try {
          decodeTx(b);
        } catch (e) {
          expect((e as TxRejectedError).code).toBe('tx.malformed');
        }
      }),
    );
  });

  it('the legacy form is what RawTx (btc-signer) reads without witness', () => {
    fc.assert(
      fc.property(arbTx, (tx) => {
        const legacy = encodeTx(tx, { witness: false });
        expect(RawTx.decode(legacy).segwitFlag).toBe(false);
      }),
      { numRuns: 50 },
    );
  });
});
