// The proxy relay's password for a channel: the payer proves it holds the channel's
// payer key. password = ts (8 bytes, ms, big-endian) ‖ BIP340 signature over
// taggedHash("bitmesh/relay", channelId ‖ gatewayId ‖ ts). Accepted within a window
// around the gateway's clock; one signature covers every connection in that window.
import type { Crypto } from '../crypto/facade.js';

export const RELAY_CREDENTIAL_TAG = 'bitmesh/relay';
export const RELAY_CREDENTIAL_WINDOW_MS = 5 * 60_000;

function digest(crypto: Crypto, channelId: Uint8Array, gatewayId: Uint8Array, ts: Uint8Array): Uint8Array {
  return crypto.taggedHash(RELAY_CREDENTIAL_TAG, channelId, gatewayId, ts);
}

function tsBytes(ts: number): Uint8Array {
  const b = new Uint8Array(8);
  new DataView(b.buffer).setBigUint64(0, BigInt(ts));
  return b;
}

export function makeRelayCredential(
  crypto: Crypto,
  payerSecretKey: Uint8Array,
  channelId: Uint8Array,
  gatewayId: Uint8Array,
  now: number,
  aux: Uint8Array,
): Uint8Array {
  const ts = tsBytes(Math.floor(now));
  const sig = crypto.schnorrSign(digest(crypto, channelId, gatewayId, ts), payerSecretKey, aux);
  const out = new Uint8Array(72);
  out.set(ts, 0);
  out.set(sig, 8);
  return out;
}

/** Is `password` the payer's credential for this channel, fresh at `now`? */
export function verifyRelayCredential(
  crypto: Crypto,
  payerX: Uint8Array,
  channelId: Uint8Array,
  gatewayId: Uint8Array,
  password: Uint8Array,
  now: number,
  windowMs = RELAY_CREDENTIAL_WINDOW_MS,
): boolean {
  if (password.length !== 72) return false;
  const ts = password.subarray(0, 8);
  const when = Number(new DataView(ts.buffer, ts.byteOffset, 8).getBigUint64(0));
  if (Math.abs(when - now) > windowMs) return false;
  return crypto.schnorrVerify(password.subarray(8), digest(crypto, channelId, gatewayId, ts), payerX);
}
