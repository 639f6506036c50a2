// Block-level encodings of the devchain: coinbase transactions (BIP34 height in the
// scriptSig so every coinbase txid differs), the transaction Merkle root and an 80-byte
// header whose double SHA-256 is the block hash. No proof of work: blocks are made on
// request, so the header only has to identify the block.
import { RawTx } from '@scure/btc-signer';
import { hex } from '@scure/base';
import type { Crypto } from '../../crypto/facade.js';

const HEADER_VERSION = 0x20000000;
/** Regtest's minimum-difficulty compact target, so the header looks like regtest's. */
const REGTEST_BITS = 0x207fffff;
const COINBASE_TAG = new TextEncoder().encode('bitmesh devchain');

export function sha256d(crypto: Crypto, data: Uint8Array): Uint8Array {
  return crypto.sha256(crypto.sha256(data));
}

/** Display-order (reversed) hex of a double SHA-256: how txids and block hashes are shown. */
export function displayHash(crypto: Crypto, data: Uint8Array): string {
  return hex.encode(sha256d(crypto, data).reverse());
}

function scriptNumPush(n: number): Uint8Array {
  if (n === 0) return Uint8Array.of(0x00);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.push(v % 256);
  if ((bytes[bytes.length - 1]! & 0x80) !== 0) bytes.push(0);
  return Uint8Array.of(bytes.length, ...bytes);
}

export function coinbaseTx(height: number, valueSat: bigint, script: Uint8Array): Uint8Array {
  const scriptSig = Uint8Array.of(...scriptNumPush(height), COINBASE_TAG.length, ...COINBASE_TAG);
  return RawTx.encode({
    version: 2,
    segwitFlag: false,
    inputs: [{ txid: new Uint8Array(32), index: 0xffffffff, finalScriptSig: scriptSig, sequence: 0xffffffff }],
    outputs: [{ amount: valueSat, script }],
    witnesses: undefined,
    lockTime: 0,
  });
}

/** Bitcoin's Merkle root (last node duplicated on odd levels) over display-order txids. */
export function merkleRoot(crypto: Crypto, txids: readonly string[]): Uint8Array {
  if (txids.length === 0) return new Uint8Array(32);
  let level = txids.map((t) => hex.decode(t).reverse());
  while (level.length > 1) {
    const next: Uint8Array[] = [];
    for (let i = 0; i < level.length; i += 2) {
      const a = level[i]!;
      const b = level[i + 1] ?? a;
      const buf = new Uint8Array(64);
      buf.set(a, 0);
      buf.set(b, 32);
      next.push(sha256d(crypto, buf));
    }
    level = next;
  }
  return level[0]!;
}

export function blockHash(crypto: Crypto, prevHash: string, txids: readonly string[], time: number): string {
  const header = new Uint8Array(80);
  const view = new DataView(header.buffer);
  view.setInt32(0, HEADER_VERSION, true);
  header.set(hex.decode(prevHash).reverse(), 4);
  header.set(merkleRoot(crypto, txids), 36);
  view.setUint32(68, time, true);
  view.setUint32(72, REGTEST_BITS, true);
  view.setUint32(76, 0, true);
  return displayHash(crypto, header);
}
