// Node ids: the 32-byte x-only public key, shown as bech32m with prefix `bm`.
import { bech32m } from '@scure/base';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { RemoteError } from '../errors.js';

export const NODE_ID_PREFIX = 'bm';

export function nodeIdToBech32(id: Uint8Array): string {
  if (id.length !== 32) throw new RemoteError('bad_node_id', `node id must be 32 bytes, got ${id.length}`);
  return bech32m.encode(NODE_ID_PREFIX, bech32m.toWords(id));
}

/** Accepts `bm1…` or 64 hex characters. */
export function parseNodeId(text: string): Uint8Array {
  const t = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(t)) return hexToBytes(t.toLowerCase());
  let decoded;
  try {
    decoded = bech32m.decode(t as `${string}1${string}`);
  } catch (e) {
    throw new RemoteError('bad_node_id', `not a node id (bm1… or 64 hex): ${(e as Error).message}`);
  }
  if (decoded.prefix !== NODE_ID_PREFIX) throw new RemoteError('bad_node_id', `prefix '${decoded.prefix}', expected 'bm'`);
  const bytes = bech32m.fromWords(decoded.words);
  if (bytes.length !== 32) throw new RemoteError('bad_node_id', `node id must be 32 bytes, got ${bytes.length}`);
  return bytes;
}

export function nodeIdHex(id: Uint8Array): string {
  return bytesToHex(id);
}
