// BIP341/342 sighashes: the published key-path vectors are in ../tx-taproot.test.ts;
// here every hash type, key and script path, against btc-signer on random transactions.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Transaction } from '@scure/btc-signer';
import { hex } from '@scure/base';
import { TxBuildError } from '../tx-errors.js';
import { arbTx } from '../testing/arb-tx.js';
import { taprootSighash } from './sighash.js';
import { tapLeafHash, TAPSCRIPT_LEAF_VERSION } from './taproot.js';
import { encodeTx, type Tx } from './tx.js';

const HASH_TYPES = [0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83];
const prevoutsFor = (tx: Tx) =>
  fc.array(fc.record({ script: fc.uint8Array({ maxLength: 40 }), amount: fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n }) }), {
    minLength: tx.inputs.length,
    maxLength: tx.inputs.length,
  });

describe('taprootSighash', () => {
  it('equals btc-signer for every hash type, key path and script path', () => {
    const arb = arbTx.chain((tx) =>
      fc.record({
        tx: fc.constant(tx),
        prevouts: prevoutsFor(tx),
        index: fc.nat({ max: tx.inputs.length - 1 }),
        hashType: fc.constantFrom(...HASH_TYPES),
        leaf: fc.option(fc.uint8Array({ maxLength: 80 }), { nil: undefined }),
      }),
    );
    fc.assert(
      fc.property(arb, ({ tx, prevouts, index, hashType, leaf }) => {
        const single = (hashType & 3) === 3;
        if (single && index >= tx.outputs.length) {
          expect(() => taprootSighash(tx, index, prevouts, hashType)).toThrow(TxBuildError);
          return;
        }
        const theirs = Transaction.fromRaw(encodeTx(tx, { witness: false }), { allowUnknownOutputs: true, allowUnknownInputs: true, disableScriptCheck: true });
        const expected = theirs.preimageWitnessV1(
          index,
          prevouts.map((p) => p.script),
          hashType,
          prevouts.map((p) => p.amount),
          -1,
          leaf,
          leaf ? TAPSCRIPT_LEAF_VERSION : undefined,
        );
        const ours = taprootSighash(tx, index, prevouts, hashType, leaf ? { leafHash: tapLeafHash(leaf) } : undefined);
        expect(hex.encode(ours)).toBe(hex.encode(expected));
      }),
      { numRuns: 400 },
    );
  });

  it('refuses an invalid hash type, a missing prevout and an input that does not exist', () => {
    const tx: Tx = { version: 2, lockTime: 0, inputs: [{ txid: '22'.repeat(32), vout: 1, sequence: 0, scriptSig: new Uint8Array(0), witness: [] }], outputs: [] };
    const p = [{ script: new Uint8Array(34), amount: 1000n }];
    for (const t of [0x04, 0x80, 0x84]) expect(() => taprootSighash(tx, 0, p, t)).toThrow(/invalid sighash type/);
    expect(() => taprootSighash(tx, 0, [], 0)).toThrow(/prevouts/);
    expect(() => taprootSighash(tx, 1, p, 0)).toThrow(/does not exist/);
  });
});
