// Taproot signing glue shared by every transaction we build: compute the BIP341
// sighash (btc/sighash.ts), sign it through the project's Crypto facade (so the native
// helper can take over), and encode the signature with its sighash byte.
import type { Crypto } from '../crypto/facade.js';
import { taprootSighash as sigMsgHash, isTaprootHashType } from './btc/sighash.js';
import { tapLeafHash, TAPSCRIPT_LEAF_VERSION } from './btc/taproot.js';
import { txid, txHex, vsize, type Tx } from './btc/tx.js';
import { TxBuildError, TxRejectedError } from './tx-errors.js';

/** BIP341 hash types. DEFAULT (0) is encoded as a bare 64-byte signature. */
export const SIGHASH = Object.freeze({
  DEFAULT: 0x00,
  ALL: 0x01,
  NONE: 0x02,
  SINGLE: 0x03,
  ANYONECANPAY: 0x80,
});
export const SIGHASH_NONE_ANYONECANPAY = SIGHASH.NONE | SIGHASH.ANYONECANPAY;
export const SIGHASH_SINGLE_ANYONECANPAY = SIGHASH.SINGLE | SIGHASH.ANYONECANPAY;

export { TAPSCRIPT_LEAF_VERSION };

/** An output being spent: what the Taproot sighash commits to for every input. */
export interface Prevout {
  readonly script: Uint8Array;
  readonly amount: bigint;
}

/** A transaction output reference, txid in display (Esplora) hex order. */
export interface Outpoint {
  readonly txid: string;
  readonly vout: number;
}

export function checkBytes(name: string, value: Uint8Array, length: number): Uint8Array {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    const got = value instanceof Uint8Array ? `length=${value.length}` : typeof value;
    throw new TxBuildError('tx.bad-param', `"${name}" expected Uint8Array of length ${length}, got ${got}`);
  }
  return value;
}

export function checkOutpoint(name: string, o: Outpoint): Outpoint {
  if (typeof o.txid !== 'string' || !/^[0-9a-f]{64}$/.test(o.txid)) {
    throw new TxBuildError('tx.bad-param', `"${name}.txid" expected 64 lowercase hex chars`);
  }
  if (!Number.isInteger(o.vout) || o.vout < 0 || o.vout > 0xffffffff) {
    throw new TxBuildError('tx.bad-param', `"${name}.vout" expected a u32, got ${o.vout}`);
  }
  return o;
}

/**
 * BIP341 signature hash of input `idx`. `prevouts` lists every input's spent output
 * (consensus needs them all unless ANYONECANPAY). With `leafScript` it is a BIP342
 * script-path hash for that tapscript leaf.
 */
export function taprootSighash(
  tx: Tx,
  idx: number,
  prevouts: readonly Prevout[],
  hashType: number,
  leafScript?: Uint8Array,
): Uint8Array {
  return sigMsgHash(tx, idx, prevouts, hashType, leafScript ? { leafHash: tapLeafHash(leafScript) } : undefined);
}

/** Schnorr-sign a sighash through the facade; append the hash type unless DEFAULT. */
export function signSighash(
  crypto: Crypto,
  sighash: Uint8Array,
  secretKey: Uint8Array,
  aux: Uint8Array,
  hashType: number,
): Uint8Array {
  checkBytes('secretKey', secretKey, 32);
  checkBytes('aux', aux, 32);
  const sig = crypto.schnorrSign(sighash, secretKey, aux);
  if (hashType === SIGHASH.DEFAULT) return sig;
  const out = new Uint8Array(65);
  out.set(sig, 0);
  out[64] = hashType;
  return out;
}

/** Split a Taproot witness signature into its 64-byte body and hash type (remote input). */
export function decodeTaprootSig(sig: Uint8Array): { body: Uint8Array; hashType: number } {
  if (!(sig instanceof Uint8Array) || (sig.length !== 64 && sig.length !== 65)) {
    throw new TxRejectedError('tx.bad-signature', 'taproot signature must be 64 or 65 bytes');
  }
  if (sig.length === 64) return { body: sig, hashType: SIGHASH.DEFAULT };
  const hashType = sig[64]!;
  // A 65-byte signature with an explicit 0x00 is invalid by consensus (BIP341).
  if (hashType === SIGHASH.DEFAULT || !isTaprootHashType(hashType)) {
    throw new TxRejectedError('tx.bad-signature', `invalid sighash byte ${hashType}`);
  }
  return { body: sig.subarray(0, 64), hashType };
}

/** A fully signed transaction ready to broadcast. */
export interface SignedTx {
  readonly hex: string;
  readonly txid: string;
  readonly vsize: number;
  /** Sum of spent prevouts minus sum of outputs, in sats. */
  readonly fee: bigint;
}

/** A transaction with every witness in place, with what a broadcaster needs to know. */
export function signedTx(tx: Tx, prevouts: readonly Prevout[]): SignedTx {
  const outs = tx.outputs.reduce((s, o) => s + o.amount, 0n);
  const ins = prevouts.reduce((s, p) => s + p.amount, 0n);
  return { hex: txHex(tx), txid: txid(tx), vsize: vsize(tx), fee: ins - outs };
}
