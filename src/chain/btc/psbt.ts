// A strict BIP174 (PSBT version 0) codec for one job: funding a channel from an outside
// wallet. We write a PSBT holding only an unsigned tx; we read back what the wallet
// added and signed, finalize the two common single-key input types, and extract the
// network transaction. No signing, no signature checks (the chain does those), no
// PSBT v2, no combining; unknown keys are skipped (wallets add BIP32 paths and more).
import { ripemd160 } from '@noble/hashes/legacy.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { TxBuildError, TxRejectedError } from '../tx-errors.js';
import { ByteReader, ByteWriter, decodeTx, encodeTx, hasWitness, txid, type Tx, type TxInput, type TxOutput } from './tx.js';
import { bytesEqual } from '../../core/channel/hash-chain.js';

/** Upper bound on a PSBT we parse; a funding tx is a few kB at most. */
export const MAX_PSBT_BYTES = 100_000;
const MAGIC = Uint8Array.of(0x70, 0x73, 0x62, 0x74, 0xff); // "psbt" 0xff
const EMPTY = new Uint8Array(0);

export interface PsbtInput {
  readonly nonWitnessUtxo?: Tx;
  readonly witnessUtxo?: TxOutput;
  readonly partialSigs: readonly { readonly pubkey: Uint8Array; readonly sig: Uint8Array }[];
  readonly sighashType?: number;
  readonly redeemScript?: Uint8Array;
  readonly witnessScript?: Uint8Array;
  readonly finalScriptSig?: Uint8Array;
  readonly finalScriptWitness?: readonly Uint8Array[];
  readonly tapKeySig?: Uint8Array;
  readonly tapInternalKey?: Uint8Array;
}

/** We read no output fields; the map is only checked and skipped. */
export type PsbtOutput = Readonly<Record<string, never>>;

export interface Psbt {
  readonly unsignedTx: Tx;
  readonly inputs: readonly PsbtInput[];
  readonly outputs: readonly PsbtOutput[];
}

const bad = (msg: string): never => {
  throw new TxRejectedError('tx.bad-psbt', `psbt: ${msg}`);
};
const notFinal = (i: number): never => {
  throw new TxRejectedError('tx.psbt-not-final', `input ${i} is not signed or is of a type we cannot finalize (finalize it in your wallet)`);
};

/** The PSBT (v0) for an unsigned tx: the tx, then an empty map per input and output. */
export function encodePsbt(unsignedTx: Tx): Uint8Array {
  if (unsignedTx.inputs.some((i) => i.scriptSig.length > 0 || i.witness.length > 0)) {
    throw new TxBuildError('tx.bad-param', 'psbt: the transaction must be unsigned');
  }
  const w = new ByteWriter().bytes(MAGIC);
  w.varint(1).u8(0x00).varBytes(encodeTx(unsignedTx, { witness: false })).u8(0); // PSBT_GLOBAL_UNSIGNED_TX
  for (let i = 0; i < unsignedTx.inputs.length + unsignedTx.outputs.length; i++) w.u8(0);
  return w.finish();
}

/** Bounded reader; every failure is tx.bad-psbt. */
class Reader extends ByteReader {
  constructor(b: Uint8Array) {
    super(b, bad);
  }
  end(what: string): void {
    if (!this.done) bad(`trailing bytes in ${what}`);
  }
}

/** One key-value map up to its 0x00 separator; duplicate keys refused. */
function readMap(r: Reader, what: string): { type: number; data: Uint8Array; value: Uint8Array }[] {
  const seen = new Set<string>();
  const out = [];
  for (let key = r.varBytes(); key.length > 0; key = r.varBytes()) {
    const k = Buffer.from(key).toString('hex');
    if (seen.has(k)) bad(`${what}: duplicate key ${k}`);
    seen.add(k);
    const kr = new Reader(key);
    const type = kr.varint();
    out.push({ type, data: key.subarray(kr.off), value: r.varBytes() });
  }
  return out;
}

/** The unsigned tx must be in legacy form: BIP174 says so, and with no inputs the segwit form is ambiguous. */
function readUnsignedTx(b: Uint8Array): Tx {
  let tx: Tx;
  try {
    tx = decodeTx(b, { legacy: true, fail: (msg) => bad(`unsigned tx: ${msg}`) });
  } catch (e) {
    // Say why when it is a signed tx in segwit form; else report the legacy parse's error.
    const signed = (() => { try { return hasWitness(decodeTx(b)); } catch { return false; } })(); // prettier-ignore
    if (signed) bad('the unsigned tx carries witnesses (it must be unsigned)');
    throw e;
  }
  tx.inputs.forEach((inp, i) => inp.scriptSig.length > 0 && bad(`unsigned tx: input ${i} has a scriptSig`));
  return tx;
}

function embeddedTx(b: Uint8Array, i: number): Tx {
  try {
    return decodeTx(b);
  } catch (e) {
    return bad(`input ${i}: non_witness_utxo: ${(e as Error).message}`);
  }
}

function readInput(r: Reader, txIn: TxInput, i: number): PsbtInput {
  const sigs: { pubkey: Uint8Array; sig: Uint8Array }[] = [];
  const inp: { -readonly [K in keyof PsbtInput]: PsbtInput[K] } = { partialSigs: sigs };
  for (const { type, data, value } of readMap(r, `input ${i}`)) {
    const vr = new Reader(value);
    const single = (f: () => unknown) => {
      if (data.length > 0) bad(`input ${i}: key type ${type} takes no key data`);
      f();
      vr.end(`input ${i} key type ${type}`);
    };
    const sized = (lens: number[]) => (lens.includes(value.length) ? vr.take(value.length) : bad(`input ${i}: key type ${type} has a bad length`));
    // prettier-ignore
    switch (type) {
      case 0x00: single(() => (inp.nonWitnessUtxo = embeddedTx(vr.take(value.length), i))); break;
      case 0x01: single(() => (inp.witnessUtxo = vr.output())); break;
      case 0x02:
        if (!(data.length === 33 && (data[0] === 2 || data[0] === 3)) && !(data.length === 65 && data[0] === 4)) bad(`input ${i}: bad partial-signature pubkey`);
        if (value.length === 0) bad(`input ${i}: empty partial signature`);
        sigs.push({ pubkey: data, sig: value });
        break;
      case 0x03: single(() => (inp.sighashType = vr.u32())); break;
      case 0x04: single(() => (inp.redeemScript = vr.take(value.length))); break;
      case 0x05: single(() => (inp.witnessScript = vr.take(value.length))); break;
      case 0x07: single(() => (inp.finalScriptSig = vr.take(value.length))); break;
      case 0x08: single(() => (inp.finalScriptWitness = Array.from({ length: vr.varint() }, () => vr.varBytes()))); break;
      case 0x13: single(() => (inp.tapKeySig = sized([64, 65]))); break;
      case 0x17: single(() => (inp.tapInternalKey = sized([32]))); break;
    }
  }
  const prev = inp.nonWitnessUtxo;
  if (prev) {
    // The spent tx must be the one the input names, else its amounts could be anything.
    if (txid(prev) !== txIn.txid) bad(`input ${i}: non_witness_utxo is not the spent transaction`);
    const o = prev.outputs[txIn.vout] ?? bad(`input ${i}: non_witness_utxo has no output ${txIn.vout}`);
    const w = inp.witnessUtxo;
    if (w && (w.amount !== o.amount || !bytesEqual(w.script, o.script))) bad(`input ${i}: witness_utxo disagrees with non_witness_utxo`);
  }
  return inp;
}

function parse(bytes: Uint8Array): Psbt {
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_PSBT_BYTES) return bad(`expected at most ${MAX_PSBT_BYTES} bytes`);
  const r = new Reader(bytes);
  if (!bytesEqual(r.take(MAGIC.length), MAGIC)) bad('bad magic (not a PSBT)');
  let unsignedTx: Tx | undefined;
  for (const { type, data, value } of readMap(r, 'global')) {
    if ((type === 0x00 || type === 0xfb) && data.length > 0) bad(`global key type ${type} takes no key data`);
    if (type === 0x00) unsignedTx = readUnsignedTx(value);
    if (type === 0xfb && (value.length !== 4 || new Reader(value).u32() !== 0)) bad('only PSBT version 0 is supported');
  }
  if (!unsignedTx) return bad('no unsigned transaction (PSBT v2 is not supported)');
  const inputs = unsignedTx.inputs.map((txIn, i) => readInput(r, txIn, i));
  const outputs = unsignedTx.outputs.map((_, i) => (readMap(r, `output ${i}`), {}));
  r.end('the PSBT (more maps than the transaction has inputs and outputs?)');
  return { unsignedTx, inputs, outputs };
}

/** Parse a PSBT v0. Any failure, including in embedded transactions, is tx.bad-psbt. */
export function decodePsbt(bytes: Uint8Array): Psbt {
  try {
    return parse(bytes);
  } catch (e) {
    if (e instanceof TxRejectedError && e.code === 'tx.bad-psbt') throw e;
    // tx.malformed from an embedded tx, or anything unforeseen: still the PSBT's fault.
    throw new TxRejectedError('tx.bad-psbt', `psbt: cannot decode (${e instanceof Error ? e.message : String(e)})`);
  }
}

/** The output an input spends, when the PSBT says. */
export function spentOutput(psbt: Psbt, index: number): TxOutput | undefined {
  const inp = psbt.inputs[index];
  const vout = psbt.unsignedTx.inputs[index]?.vout;
  return inp?.witnessUtxo ?? (vout === undefined ? undefined : inp?.nonWitnessUtxo?.outputs[vout]);
}

const isFinal = (inp: PsbtInput) => inp.finalScriptSig !== undefined || inp.finalScriptWitness !== undefined;

/**
 * Finalize input `index` if it is a P2TR key-path or P2WPKH spend with its signature
 * present (what wallets leave unfinalized); anything else must arrive final.
 */
export function finalizeInput(psbt: Psbt, index: number): Psbt {
  const inp = psbt.inputs[index];
  if (!inp) throw new RangeError(`psbt has no input ${index}`);
  if (isFinal(inp)) return psbt;
  const script = spentOutput(psbt, index)?.script ?? notFinal(index);
  let witness: Uint8Array[] | undefined;
  if (inp.tapKeySig && script.length === 34 && script[0] === 0x51 && script[1] === 0x20) {
    witness = [inp.tapKeySig];
  } else if (script.length === 22 && script[0] === 0x00 && script[1] === 0x14 && inp.partialSigs.length === 1) {
    const { pubkey, sig } = inp.partialSigs[0]!;
    if (pubkey.length === 33 && bytesEqual(ripemd160(sha256(pubkey)), script.subarray(2))) witness = [sig, pubkey];
  }
  if (!witness) return notFinal(index);
  const finalized: PsbtInput = { ...inp, finalScriptWitness: witness };
  return { ...psbt, inputs: psbt.inputs.map((x, i) => (i === index ? finalized : x)) };
}

/** The network transaction; every input must be final. */
export function extractTx(psbt: Psbt): Tx {
  const inputs = psbt.unsignedTx.inputs.map((txIn, i) => {
    const inp = psbt.inputs[i]!;
    if (!isFinal(inp)) notFinal(i);
    return { ...txIn, scriptSig: inp.finalScriptSig ?? EMPTY, witness: inp.finalScriptWitness ?? [] };
  });
  return { ...psbt.unsignedTx, inputs };
}
