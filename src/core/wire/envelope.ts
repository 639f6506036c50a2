// Signed envelopes: BIP340 Schnorr over taggedHash(`bitmesh/<TYPE>`, bodyBytes).
// The tag binds a signature to one message type, so a signed HELLO can never be
// replayed as an AWARD even if the bodies happened to share a layout.
import type { Crypto } from '../../crypto/facade.js';
import { SIGNATURE_TAG_PREFIX, SIGNED_TYPES, type MessageType } from './constants.js';
import type { DecodedDatagram, Result, WireCodec } from './codec.js';
import { WireError } from './errors.js';
import type { Body, Message } from './messages.js';
import type { ReplayGuard } from './replay.js';

export interface Signer {
  readonly crypto: Crypto;
  readonly secretKey: Uint8Array;
  /** 32 fresh random bytes per signature (BIP340 aux_rand); injected, never read from a global. */
  readonly auxRand: () => Uint8Array;
}

export function signatureDigest(crypto: Crypto, type: MessageType, bodyBytes: Uint8Array): Uint8Array {
  return crypto.taggedHash(SIGNATURE_TAG_PREFIX + type, bodyBytes);
}

/** Encodes a message; signs it when its type is a signed one. */
export function encodeMessage<T extends MessageType>(
  codec: WireCodec,
  type: T,
  body: Body<T>,
  signer?: Signer,
): Uint8Array {
  const bodyBytes = codec.encodeBody(type, body);
  if (!SIGNED_TYPES.has(type)) return codec.encodeEnvelope(type, bodyBytes);
  if (!signer) throw new WireError('missing_signature', `${type} needs a signer`);
  const digest = signatureDigest(signer.crypto, type, bodyBytes);
  const sig = signer.crypto.schnorrSign(digest, signer.secretKey, signer.auxRand());
  return codec.encodeEnvelope(type, bodyBytes, sig);
}

type SignedBody = { sender: Uint8Array; ts: number; nonce: Uint8Array };

function signedHeader(m: Message): SignedBody | undefined {
  return SIGNED_TYPES.has(m.type) ? (m.body as unknown as SignedBody) : undefined;
}

/**
 * Admits a decoded datagram: for signed types, timestamp window and replay first
 * (cheap), then the signature (costly), and only then records the nonce, so forged
 * messages cannot fill the replay cache.
 */
export function authenticate(
  crypto: Crypto,
  replay: ReplayGuard,
  d: DecodedDatagram,
  now: number,
): Result<Message> {
  const h = signedHeader(d.message);
  if (!h) return { ok: true, value: d.message };
  const stale = replay.check(h.sender, h.nonce, h.ts, now);
  if (stale) return { ok: false, error: stale };
  const digest = signatureDigest(crypto, d.message.type, d.bodyBytes);
  if (!d.sig || !crypto.schnorrVerify(d.sig, digest, h.sender)) {
    return { ok: false, error: new WireError('bad_signature', `${d.message.type} signature does not verify`) };
  }
  replay.record(h.sender, h.nonce, h.ts, now);
  return { ok: true, value: d.message };
}
