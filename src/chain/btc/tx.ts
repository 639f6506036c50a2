// Bitcoin transactions as plain values, and their consensus encoding (BIP144 when any
// input has a witness). Only what the agent builds and reads: no script
// interpretation here. A decoder for bytes from outside (Esplora, a PSBT) that refuses
// anything it cannot re-encode to the same bytes.
import { sha256 } from '@noble/hashes/sha2.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { TxRejectedError } from '../tx-errors.js';

export interface TxInput {
  /** The spent transaction's id, display (Esplora) hex order. */
  readonly txid: string;
  readonly vout: number;
  readonly sequence: number;
  readonly scriptSig: Uint8Array;
  readonly witness: readonly Uint8Array[];
}

export interface TxOutput {
  readonly amount: bigint;
  readonly script: Uint8Array;
}

export interface Tx {
  readonly version: number;
  readonly lockTime: number;
  readonly inputs: readonly TxInput[];
  readonly outputs: readonly TxOutput[];
}

const EMPTY = new Uint8Array(0);
const MAX_AMOUNT = 21_000_000n * 100_000_000n;
/** Larger than any standard transaction (400k weight units); bounds what we parse. */
export const MAX_TX_BYTES = 400_000;

/** An unsigned input: empty scriptSig and witness. */
export function txInput(txid: string, vout: number, sequence: number): TxInput {
  return { txid, vout, sequence, scriptSig: EMPTY, witness: [] };
}

/** The same transaction with input `index`'s witness replaced. */
export function withWitness(tx: Tx, index: number, witness: readonly Uint8Array[]): Tx {
  return { ...tx, inputs: tx.inputs.map((inp, i) => (i === index ? { ...inp, witness: [...witness] } : inp)) };
}

/** Little-endian writer growing in chunks; one pass, no intermediate arrays per field. */
export class ByteWriter {
  #buf = new Uint8Array(256);
  #len = 0;

  #room(n: number): void {
    if (this.#len + n <= this.#buf.length) return;
    const next = new Uint8Array(Math.max(this.#buf.length * 2, this.#len + n));
    next.set(this.#buf.subarray(0, this.#len));
    this.#buf = next;
  }

  bytes(b: Uint8Array): this {
    this.#room(b.length);
    this.#buf.set(b, this.#len);
    this.#len += b.length;
    return this;
  }

  u8(n: number): this {
    this.#room(1);
    this.#buf[this.#len++] = n;
    return this;
  }

  u32(n: number): this {
    this.#room(4);
    for (let i = 0; i < 4; i++) this.#buf[this.#len++] = (n >>> (8 * i)) & 0xff;
    return this;
  }

  u64(n: bigint): this {
    this.#room(8);
    for (let i = 0n; i < 8n; i++) this.#buf[this.#len++] = Number((n >> (8n * i)) & 0xffn);
    return this;
  }

  /** Bitcoin's CompactSize. */
  varint(n: number): this {
    if (n < 0xfd) return this.u8(n);
    if (n <= 0xffff) return this.u8(0xfd).u8(n & 0xff).u8(n >>> 8);
    return this.u8(0xfe).u32(n);
  }

  /** A CompactSize length, then the bytes. */
  varBytes(b: Uint8Array): this {
    return this.varint(b.length).bytes(b);
  }

  finish(): Uint8Array {
    return this.#buf.slice(0, this.#len);
  }
}

/** Display hex txid → the 32 bytes in wire (little-endian) order. */
export function txidToWire(txid: string): Uint8Array {
  if (!/^[0-9a-f]{64}$/.test(txid)) throw new TxRejectedError('tx.malformed', `txid: expected 64 lowercase hex chars`);
  return hexToBytes(txid).reverse();
}

const wireToTxid = (b: Uint8Array): string => bytesToHex(b.slice().reverse());

export function writeOutpoint(w: ByteWriter, txid: string, vout: number): ByteWriter {
  return w.bytes(txidToWire(txid)).u32(vout);
}

export function writeOutput(w: ByteWriter, o: TxOutput): ByteWriter {
  return w.u64(o.amount).varBytes(o.script);
}

export function hasWitness(tx: Tx): boolean {
  return tx.inputs.some((i) => i.witness.length > 0);
}

/** Consensus bytes; `witness: false` gives the legacy form the txid hashes. */
export function encodeTx(tx: Tx, opts: { witness?: boolean } = {}): Uint8Array {
  const segwit = (opts.witness ?? true) && hasWitness(tx);
  const w = new ByteWriter().u32(tx.version);
  if (segwit) w.u8(0).u8(1);
  w.varint(tx.inputs.length);
  for (const i of tx.inputs) writeOutpoint(w, i.txid, i.vout).varBytes(i.scriptSig).u32(i.sequence);
  w.varint(tx.outputs.length);
  for (const o of tx.outputs) writeOutput(w, o);
  if (segwit) {
    for (const i of tx.inputs) {
      w.varint(i.witness.length);
      for (const item of i.witness) w.varBytes(item);
    }
  }
  return w.u32(tx.lockTime).finish();
}

/** The txid in display hex: double SHA-256 of the legacy form, reversed. */
export function txid(tx: Tx): string {
  return wireToTxid(sha256(sha256(encodeTx(tx, { witness: false }))));
}

export function txHex(tx: Tx): string {
  return bytesToHex(encodeTx(tx));
}

/** BIP141 weight: 3 × legacy size + full size. */
export function weight(tx: Tx): number {
  return 3 * encodeTx(tx, { witness: false }).length + encodeTx(tx).length;
}

export function vsize(tx: Tx): number {
  return Math.ceil(weight(tx) / 4);
}

/** Bounded little-endian reader; `fail` turns each problem into the caller's typed error. */
export class ByteReader {
  off = 0;
  constructor(
    readonly bytes: Uint8Array,
    readonly fail: (msg: string) => never = (msg) => {
      throw new TxRejectedError('tx.malformed', msg);
    },
  ) {}

  get done(): boolean {
    return this.off === this.bytes.length;
  }

  take(n: number): Uint8Array {
    if (this.off + n > this.bytes.length) this.fail(`truncated at byte ${this.off}`);
    return this.bytes.slice(this.off, (this.off += n));
  }

  u8(): number {
    return this.take(1)[0]!;
  }

  u32(): number {
    const b = this.take(4);
    return (b[0]! | (b[1]! << 8) | (b[2]! << 16) | (b[3]! << 24)) >>> 0;
  }

  u64(): bigint {
    const b = this.take(8);
    let n = 0n;
    for (let i = 7; i >= 0; i--) n = (n << 8n) | BigInt(b[i]!);
    return n;
  }

  /** CompactSize, shortest form only, bounded by what is left to read. */
  varint(): number {
    const first = this.u8();
    if (first < 0xfd) return first;
    if (first === 0xff) return this.fail('CompactSize beyond 32 bits');
    const n = first === 0xfd ? this.u8() | (this.u8() << 8) : this.u32();
    if (n < (first === 0xfd ? 0xfd : 0x10000)) this.fail('non-minimal CompactSize');
    if (n > this.bytes.length - this.off) this.fail(`count ${n} exceeds the data`);
    return n;
  }

  varBytes(): Uint8Array {
    return this.take(this.varint());
  }

  /** A transaction output; amounts beyond 21M BTC are refused. */
  output(): TxOutput {
    const amount = this.u64();
    if (amount > MAX_AMOUNT) this.fail('amount beyond 21M BTC');
    return { amount, script: this.varBytes() };
  }
}

/**
 * Parse consensus bytes (with or without witness). Refuses trailing bytes, amounts
 * beyond 21M BTC, and a segwit marker with no witness (it would re-encode differently).
 * `legacy` reads the witness-less form only, where a tx may have no inputs (a PSBT's
 * unsigned tx; in the segwit form "no inputs" reads as the marker).
 */
export function decodeTx(bytes: Uint8Array, opts: { legacy?: boolean; fail?: (msg: string) => never } = {}): Tx {
  const r = new ByteReader(bytes, opts.fail);
  if (!(bytes instanceof Uint8Array) || bytes.length > MAX_TX_BYTES) r.fail(`transaction: expected at most ${MAX_TX_BYTES} bytes`);
  const version = r.u32();
  let nIn = r.varint();
  let segwit = false;
  if (nIn === 0 && !opts.legacy) {
    if (r.u8() !== 1) r.fail('bad segwit flag');
    segwit = true;
    nIn = r.varint();
    if (nIn === 0) r.fail('no inputs');
  }
  const raw: { txid: string; vout: number; scriptSig: Uint8Array; sequence: number }[] = [];
  for (let i = 0; i < nIn; i++) {
    const id = wireToTxid(r.take(32));
    const vout = r.u32();
    const scriptSig = r.varBytes();
    raw.push({ txid: id, vout, scriptSig, sequence: r.u32() });
  }
  const nOut = r.varint();
  const outputs: TxOutput[] = [];
  for (let i = 0; i < nOut; i++) outputs.push(r.output());
  const witnesses: Uint8Array[][] = raw.map(() => []);
  if (segwit) {
    for (const w of witnesses) {
      const n = r.varint();
      for (let k = 0; k < n; k++) w.push(r.varBytes());
    }
    if (witnesses.every((w) => w.length === 0)) r.fail('segwit marker without witness data');
  }
  const lockTime = r.u32();
  if (!r.done) r.fail('trailing bytes after the transaction');
  return { version, lockTime, inputs: raw.map((i, k) => ({ ...i, witness: witnesses[k]! })), outputs };
}

export function decodeTxHex(h: string): Tx {
  if (typeof h !== 'string' || h.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(h)) {
    throw new TxRejectedError('tx.malformed', 'transaction: expected hex');
  }
  return decodeTx(Uint8Array.from(Buffer.from(h, 'hex')));
}
