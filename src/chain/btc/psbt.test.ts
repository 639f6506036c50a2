import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { sha256 } from '@noble/hashes/sha2.js';
import { Transaction, p2tr, p2wpkh, NETWORK } from '@scure/btc-signer';
import { pubECDSA, pubSchnorr } from '@scure/btc-signer/utils.js';
import { hex } from '@scure/base';
import { TxRejectedError } from '../tx-errors.js';
import { decodePsbt, encodePsbt, extractTx, finalizeInput, type Psbt } from './psbt.js';
import { ByteWriter, encodeTx, txInput, txid, type Tx } from './tx.js';

const te = new TextEncoder();
const h = (b: Uint8Array) => hex.encode(b);
const fakeTxid = (label: string) => h(sha256(te.encode(`psbt-test/txid/${label}`)));
const key = (label: string) => sha256(te.encode(`psbt-test/key/${label}`));

const segwitKey = key('segwit');
const trKey = key('taproot');
const segwitOut = p2wpkh(pubECDSA(segwitKey), NETWORK);
const trOut = p2tr(pubSchnorr(trKey), undefined, NETWORK);
const FUND_SCRIPT = Uint8Array.from([0x51, 0x20, ...sha256(te.encode('funding'))]);

const fundingTx: Tx = { version: 2, lockTime: 0, inputs: [], outputs: [{ amount: 150_000n, script: FUND_SCRIPT }] };

// A previous tx paying segwitOut at vout 1, for a non_witness_utxo input.
const prevTx: Tx = {
  version: 2,
  lockTime: 0,
  inputs: [{ ...txInput(fakeTxid('grandparent'), 0, 0xffffffff), witness: [Uint8Array.of(1)] }],
  outputs: [
    { amount: 1_000n, script: trOut.script },
    { amount: 50_000n, script: segwitOut.script },
  ],
};

/** btc-signer as the outside wallet: adds P2WPKH, P2TR and non_witness_utxo inputs and change, signs. */
function walletSigns(psbt: Uint8Array, opts: { finalize?: boolean; sign?: boolean } = {}): { psbt: Uint8Array; wallet: Transaction } {
  const tx = Transaction.fromPSBT(psbt, { allowUnknownOutputs: true });
  tx.addInput({ txid: fakeTxid('a'), index: 0, witnessUtxo: { script: segwitOut.script, amount: 100_000n } });
  tx.addInput({ txid: fakeTxid('b'), index: 2, witnessUtxo: { script: trOut.script, amount: 80_000n }, tapInternalKey: trOut.tapInternalKey });
  tx.addInput({ txid: txid(prevTx), index: 1, nonWitnessUtxo: encodeTx(prevTx), sequence: 0xfffffffd });
  tx.addOutput({ script: segwitOut.script, amount: 79_000n });
  if (opts.sign !== false) {
    tx.signIdx(segwitKey, 0);
    tx.signIdx(trKey, 1);
    tx.signIdx(segwitKey, 2);
  }
  if (opts.finalize) tx.finalize();
  return { psbt: tx.toPSBT(), wallet: tx };
}

function finalizeAll(p: Psbt): Psbt {
  return p.inputs.reduce((acc, _, i) => finalizeInput(acc, i), p);
}

function rejects(f: () => unknown, code: string, message?: RegExp): void {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(TxRejectedError);
    expect((e as TxRejectedError).code).toBe(code);
    if (message) expect((e as Error).message).toMatch(message);
    return;
  }
  expect.unreachable('expected a rejection');
}

// Hand-built PSBTs: [key, value] pairs per map.
type Pair = [Uint8Array, Uint8Array];
function build(global: Pair[], ...maps: Pair[][]): Uint8Array {
  const w = new ByteWriter().bytes(Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff));
  for (const m of [global, ...maps]) {
    for (const [k, v] of m) w.varBytes(k).varBytes(v);
    w.u8(0);
  }
  return w.finish();
}
const k = (...b: number[]) => Uint8Array.from(b);
const unsignedIn: Tx = { version: 2, lockTime: 0, inputs: [txInput(fakeTxid('x'), 0, 0xffffffff)], outputs: [{ amount: 5n, script: k(0x6a) }] };
const utx = (tx: Tx): Pair => [k(0), encodeTx(tx, { witness: false })];
const output = (amount: bigint, script: Uint8Array) => new ByteWriter().u64(amount).varBytes(script).finish();

describe('PSBT v0 codec', () => {
  it('writes a PSBT btc-signer reads, byte for byte what btc-signer writes, and reads it back', () => {
    for (const tx of [fundingTx, unsignedIn]) {
      const bytes = encodePsbt(tx);
      const theirs = Transaction.fromPSBT(bytes, { allowUnknownOutputs: true });
      expect(theirs.inputsLength).toBe(tx.inputs.length);
      expect(theirs.outputsLength).toBe(tx.outputs.length);
      expect(h(theirs.unsignedTx)).toBe(h(encodeTx(tx, { witness: false })));
      expect(h(theirs.toPSBT(0))).toBe(h(bytes));
      const back = decodePsbt(bytes);
      expect(back.unsignedTx).toEqual(tx);
      expect(back.outputs).toHaveLength(tx.outputs.length);
      expect(back.inputs.map((i) => i.partialSigs)).toEqual(tx.inputs.map(() => []));
    }
  });

  for (const finalize of [false, true]) {
    it(`reads what a wallet signed (${finalize ? 'finalized by the wallet' : 'left for us to finalize'}) and extracts btc-signer's tx`, () => {
      const { psbt, wallet } = walletSigns(encodePsbt(fundingTx), { finalize });
      const p = decodePsbt(psbt);
      expect(p.inputs[0]!.witnessUtxo!.amount).toBe(100_000n);
      expect(p.inputs[2]!.nonWitnessUtxo).toEqual(prevTx);
      if (!finalize) {
        expect(p.inputs[0]!.partialSigs).toHaveLength(1);
        expect(p.inputs[1]!.tapKeySig).toHaveLength(64);
        expect(h(p.inputs[1]!.tapInternalKey!)).toBe(h(trOut.tapInternalKey));
        expect(() => extractTx(p)).toThrow(/input 0 is not signed/);
        wallet.finalize();
      } else {
        expect(p.inputs.every((i) => i.finalScriptWitness)).toBe(true);
      }
      const tx = extractTx(finalizeAll(p));
      expect(h(encodeTx(tx))).toBe(h(wallet.extract()));
      expect(txid(tx)).toBe(wallet.id);
    });
  }

  it('skips unknown and proprietary keys, and keeps no output fields', () => {
    const prop = k(0xfc, 3, 0x61, 0x62, 0x63, 7);
    const bytes = build([utx(unsignedIn), [k(0x01, 9, 9), k(1)], [prop, k(1, 2)]], [[k(0x06, 2, 3), k(4)], [prop, k()]], [[k(0x02, 1), k(5)]]);
    const p = decodePsbt(bytes);
    expect(p.unsignedTx).toEqual(unsignedIn);
    expect(p.outputs).toEqual([{}]);
  });

  it('refuses hostile or malformed PSBTs with tx.bad-psbt', () => {
    const good = encodePsbt(unsignedIn);
    const bad = (b: Uint8Array, m: RegExp) => rejects(() => decodePsbt(b), 'tx.bad-psbt', m);
    bad(Uint8Array.from([...good.slice(0, 4), 0xfe, ...good.slice(5)]), /magic/);
    bad(build([utx(unsignedIn), utx(unsignedIn)], [], []), /duplicate key/);
    bad(build([utx(unsignedIn)], [[k(1), output(1n, k(0x6a))], [k(1), output(2n, k(0x6a))]], []), /input 0: duplicate key/);
    bad(build([utx(unsignedIn)], []), /truncated/); // one map short
    bad(build([utx(unsignedIn)], [], [], []), /trailing bytes/); // one map too many
    bad(build([utx(fundingTx)], [], []), /trailing bytes/); // an input map for a tx with none
    bad(build([]), /no unsigned transaction/);
    for (let n = 0; n < good.length; n++) bad(good.slice(0, n), /truncated|magic/);
    bad(Uint8Array.from([...good, 0]), /trailing bytes/);
    const signed: Tx = { ...unsignedIn, inputs: [{ ...unsignedIn.inputs[0]!, scriptSig: k(1, 2) }] };
    bad(build([utx(signed)], [], []), /has a scriptSig/);
    const witnessed: Tx = { ...unsignedIn, inputs: [{ ...unsignedIn.inputs[0]!, witness: [k(1)] }] };
    bad(build([[k(0), encodeTx(witnessed)]], [], []), /carries witnesses/);
    bad(build([[k(0, 0), encodeTx(unsignedIn)]], [], []), /no key data/);
    bad(build([utx(unsignedIn), [k(0xfb), k(2, 0, 0, 0)]], [], []), /version 0/);
    bad(build([utx(unsignedIn)], [[k(1, 5), output(1n, k())]], []), /no key data/);
    bad(build([utx(unsignedIn)], [[k(1), Uint8Array.from([...output(1n, k()), 0])]], []), /trailing bytes/);
    bad(build([utx(unsignedIn)], [[k(2, 2, ...new Uint8Array(31)), k(1)]], []), /pubkey/);
    bad(build([utx(unsignedIn)], [[k(0x17), new Uint8Array(31)]], []), /bad length/);
    bad(build([utx(unsignedIn)], [[k(0), encodeTx(prevTx)]], []), /not the spent transaction/);
    bad(build([utx(unsignedIn)], [[k(0), k(1, 2, 3)]], []), /non_witness_utxo/);
    // non-minimal CompactSize: the global map's first key length written as 0xfd 0x01 0x00
    bad(Uint8Array.from([...good.slice(0, 5), 0xfd, 1, 0, ...good.slice(6)]), /non-minimal/);
    bad(new Uint8Array(100_001), /at most/);
    const onPrev: Tx = { ...unsignedIn, inputs: [txInput(txid(prevTx), 1, 0)] };
    bad(build([utx(onPrev)], [[k(0), encodeTx(prevTx)], [k(1), output(50_001n, segwitOut.script)]], []), /disagrees/);
    expect(decodePsbt(build([utx(onPrev)], [[k(0), encodeTx(prevTx)], [k(1), output(50_000n, segwitOut.script)]], [])).inputs).toHaveLength(1);
  });

  it('finalizes only signed P2WPKH and P2TR key-path inputs; extraction needs all final', () => {
    const { psbt } = walletSigns(encodePsbt(fundingTx), { sign: false });
    const p = decodePsbt(psbt);
    for (let i = 0; i < 3; i++) rejects(() => finalizeInput(p, i), 'tx.psbt-not-final', new RegExp(`input ${i} is not signed`));
    rejects(() => extractTx(p), 'tx.psbt-not-final');
    // A partial signature from a key that does not own the P2WPKH output.
    const other = pubECDSA(key('other'));
    const wrongKey: Psbt = { ...p, inputs: [{ ...p.inputs[0]!, partialSigs: [{ pubkey: other, sig: k(1) }] }, ...p.inputs.slice(1)] };
    rejects(() => finalizeInput(wrongKey, 0), 'tx.psbt-not-final');
    // No spent output known: nothing to finalize against.
    const unknown = decodePsbt(encodePsbt(unsignedIn));
    rejects(() => finalizeInput(unknown, 0), 'tx.psbt-not-final');
    expect(() => finalizeInput(unknown, 1)).toThrow(RangeError);
  });

  it('on any truncation, bit flip or random bytes: decodes, or throws tx.bad-psbt only', () => {
    const signed = walletSigns(encodePsbt(fundingTx)).psbt;
    const mutated = fc.oneof(
      fc.nat({ max: signed.length }).map((n) => signed.slice(0, n)),
      fc.tuple(fc.nat({ max: signed.length * 8 - 1 }), fc.nat({ max: 3 })).map(([bit, extra]) => {
        const b = signed.slice();
        b[bit >> 3]! ^= 1 << (bit & 7);
        if (extra > 0) b[(bit * 7919 + extra) % b.length]! ^= extra; // sometimes a second flip
        return b;
      }),
      fc.uint8Array({ maxLength: 300 }),
      fc.uint8Array({ maxLength: 300 }).map((b) => Uint8Array.from([0x70, 0x73, 0x62, 0x74, 0xff, ...b])),
    );
    fc.assert(
      fc.property(mutated, (bytes) => {
        let p: Psbt;
        try {
          p = decodePsbt(bytes);
        } catch (e) {
          return e instanceof TxRejectedError && e.code === 'tx.bad-psbt';
        }
        try {
          extractTx(finalizeAll(p)); // what we accept must also finalize or refuse cleanly
        } catch (e) {
          return e instanceof TxRejectedError && e.code === 'tx.psbt-not-final';
        }
        return true;
      }),
      { numRuns: 3000 },
    );
  });
});
