// Every way a datagram can be refused, with a stable code. Counted per peer and
// reported by `bitmesh status`; never thrown into the receive loop.
import { RemoteError } from '../errors.js';

export const WIRE_ERROR_CODES = [
  'oversize', // longer than MAX_DATAGRAM_BYTES
  'malformed_cbor', // not well-formed CBOR, or a form we never send (tags, maps, floats, indefinite lengths)
  'non_canonical', // an integer or length not in its shortest form
  'trailing_bytes', // bytes after the envelope
  'bad_envelope', // not [version, type, body, sig?]
  'unknown_version',
  'unknown_type',
  'bad_body', // wrong field count, type, length or range
  'missing_signature',
  'unexpected_signature',
  'bad_signature',
  'stale_timestamp', // outside the ±skew window
  'replay', // the same (sender, nonce) again, or older than what the cache can vouch for
] as const;
export type WireErrorCode = (typeof WIRE_ERROR_CODES)[number];

export class WireError extends RemoteError {
  declare readonly code: WireErrorCode;
  constructor(code: WireErrorCode, message: string) {
    super(code, message);
  }
}
