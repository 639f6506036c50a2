// Building scripts: minimal data pushes and CScriptNum numbers (BIP62 minimal form,
// which tapscript requires), plus the few opcodes our channel leaves use.
import { TxBuildError } from '../tx-errors.js';

export const OP = Object.freeze({
  0: 0x00,
  PUSHDATA1: 0x4c,
  1: 0x51,
  DUP: 0x76,
  DROP: 0x75,
  EQUAL: 0x87,
  EQUALVERIFY: 0x88,
  HASH160: 0xa9,
  CHECKSIG: 0xac,
  CHECKSIGVERIFY: 0xad,
  CHECKLOCKTIMEVERIFY: 0xb1,
});

/** A script item: an opcode byte (as `{ op }`), data to push, or a number to push. */
export type ScriptItem = { readonly op: number } | Uint8Array | number;

/** CScriptNum bytes: little-endian magnitude, sign in the top bit of the last byte. */
export function scriptNum(n: number): Uint8Array {
  if (!Number.isSafeInteger(n)) throw new TxBuildError('tx.bad-param', `script number ${n} is not an integer`);
  const out: number[] = [];
  let abs = Math.abs(n);
  while (abs > 0) {
    out.push(abs & 0xff);
    abs = Math.floor(abs / 256);
  }
  if (out.length > 0 && (out[out.length - 1]! & 0x80) !== 0) out.push(n < 0 ? 0x80 : 0x00);
  else if (n < 0) out[out.length - 1]! |= 0x80;
  return Uint8Array.from(out);
}

function pushData(out: number[], data: Uint8Array): void {
  // Minimal push (BIP62): a direct length byte up to 75, PUSHDATA1 up to 255.
  if (data.length <= 75) out.push(data.length);
  else if (data.length <= 255) out.push(OP.PUSHDATA1, data.length);
  else throw new TxBuildError('tx.bad-param', `push of ${data.length} bytes: we never build one over 255`);
  for (const b of data) out.push(b);
}

export function encodeScript(items: readonly ScriptItem[]): Uint8Array {
  const out: number[] = [];
  for (const item of items) {
    if (item instanceof Uint8Array) pushData(out, item);
    else if (typeof item === 'number') {
      // 0 and 1..16 have their own opcodes (minimal form); -1 is OP_1NEGATE.
      if (item === 0) out.push(OP[0]);
      else if (item >= 1 && item <= 16) out.push(OP[1] + item - 1);
      else if (item === -1) out.push(0x4f);
      else pushData(out, scriptNum(item));
    } else out.push(item.op);
  }
  return Uint8Array.from(out);
}

/** A segwit output script: OP_n <program>. */
export function witnessScript(version: number, program: Uint8Array): Uint8Array {
  return encodeScript([version, program]);
}
