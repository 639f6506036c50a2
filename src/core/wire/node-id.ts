// Node ids: the 32-byte x-only public key, shown as bech32m with prefix `bm`.
import { bech32Decode, bech32Encode, fromWords, toWords } from '../encoding/bech32.js';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { RemoteError } from '../errors.js';

export const NODE_ID_PREFIX = 'bm';

export function nodeIdToBech32(id: Uint8Array): string {
  if (id.length !== 32) throw new RemoteError('bad_node_id', `node id must be 32 bytes, got ${id.length}`);
  return bech32Encode(NODE_ID_PREFIX, toWords(id), 'bech32m');
}

/** Accepts `bm1…` or 64 hex characters. */
export function parseNodeId(text: string): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return hexToBytes(t.toLowerCase());
  let decoded;
  try {
    decoded = bech32Decode(t);
    if (decoded.variant !== 'bech32m') throw new Error('bech32 checksum, expected bech32m');
  } catch (e) {
    throw new RemoteError('bad_node_id', `not a node id (bm1… or 64 hex): ${(e as Error).message}`);
  }
  if (decoded.hrp !== NODE_ID_PREFIX) throw new RemoteError('bad_node_id', `prefix '${decoded.hrp}', expected 'bm'`);
  let bytes: Uint8Array;
  try {
    bytes = fromWords(decoded.words);
  } catch (e) {
    throw new RemoteError('bad_node_id', `not a node id: ${(e as Error).message}`);
  }
  if (bytes.length !== 32) throw new RemoteError('bad_node_id', `node id must be 32 bytes, got ${bytes.length}`);
  return bytes;
}

export function nodeIdHex(id: Uint8Array): string {
  return bytesToHex(id);
}
