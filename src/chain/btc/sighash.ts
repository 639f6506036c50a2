// BIP341 signature hash (SigMsg, then the "TapSighash" tagged hash) for key-path and
// BIP342 tapscript spends. Every input's spent output is needed unless ANYONECANPAY.
// No annex and no OP_CODESEPARATOR: we never create either.
import { sha256 } from '@noble/hashes/sha2.js';
import { nobleBackend } from '../../crypto/noble.js';
import { TaggedHasher } from '../../crypto/tagged-hash.js';
import { TxBuildError } from '../tx-errors.js';
import { ByteWriter, writeOutpoint, writeOutput, type Tx, type TxOutput } from './tx.js';

export const SIGHASH_DEFAULT = 0x00;
export const SIGHASH_ALL = 0x01;
export const SIGHASH_NONE = 0x02;
export const SIGHASH_SINGLE = 0x03;
export const SIGHASH_ANYONECANPAY = 0x80;

const VALID_HASH_TYPES = new Set([0x00, 0x01, 0x02, 0x03, 0x81, 0x82, 0x83]);
const tagged = new TaggedHasher(() => nobleBackend);

export function isTaprootHashType(hashType: number): boolean {
  return VALID_HASH_TYPES.has(hashType);
}

/** What a tapscript signature commits to beyond the key path: the leaf it runs in. */
export interface ScriptPath {
  readonly leafHash: Uint8Array;
}

function sha(fill: (w: ByteWriter) => void): Uint8Array {
  const w = new ByteWriter();
  fill(w);
  return sha256(w.finish());
}

export function taprootSighash(
  tx: Tx,
  index: number,
  prevouts: readonly TxOutput[],
  hashType: number,
  scriptPath?: ScriptPath,
): Uint8Array {
  if (!VALID_HASH_TYPES.has(hashType)) throw new TxBuildError('tx.bad-param', `invalid sighash type ${hashType}`);
  if (prevouts.length !== tx.inputs.length) {
    throw new TxBuildError('tx.bad-param', `prevouts: expected ${tx.inputs.length}, got ${prevouts.length}`);
  }
  const input = tx.inputs[index];
  if (input === undefined) throw new TxBuildError('tx.bad-param', `input ${index} does not exist`);
  const outType = hashType === SIGHASH_DEFAULT ? SIGHASH_ALL : hashType & 0x03;
  const anyoneCanPay = (hashType & SIGHASH_ANYONECANPAY) !== 0;
  if (outType === SIGHASH_SINGLE && index >= tx.outputs.length) {
    throw new TxBuildError('tx.bad-param', `SIGHASH_SINGLE for input ${index} with only ${tx.outputs.length} outputs`);
  }
  const w = new ByteWriter().u8(0x00).u8(hashType).u32(tx.version).u32(tx.lockTime);
  if (!anyoneCanPay) {
    w.bytes(sha((h) => tx.inputs.forEach((i) => writeOutpoint(h, i.txid, i.vout))));
    w.bytes(sha((h) => prevouts.forEach((p) => h.u64(p.amount))));
    w.bytes(sha((h) => prevouts.forEach((p) => h.varBytes(p.script))));
    w.bytes(sha((h) => tx.inputs.forEach((i) => h.u32(i.sequence))));
  }
  if (outType === SIGHASH_ALL) w.bytes(sha((h) => tx.outputs.forEach((o) => writeOutput(h, o))));
  w.u8(scriptPath ? 2 : 0); // spend_type = ext_flag * 2, no annex
  if (anyoneCanPay) {
    const p = prevouts[index]!;
    writeOutpoint(w, input.txid, input.vout).u64(p.amount).varBytes(p.script).u32(input.sequence);
  } else {
    w.u32(index);
  }
  if (outType === SIGHASH_SINGLE) w.bytes(sha((h) => writeOutput(h, tx.outputs[index]!)));
  if (scriptPath) w.bytes(scriptPath.leafHash).u8(0x00).u32(0xffffffff); // key_version 0, no codeseparator
  return tagged.hash('TapSighash', w.finish());
}
