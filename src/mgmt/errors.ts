// Every way a management command is refused, with a stable code that goes into the
// cmd/result message and the log. All of them blame the sender (RemoteError).
import { RemoteError } from '../core/errors.js';

export const MGMT_ERROR_CODES = [
  'oversize', // payload longer than MAX_COMMAND_BYTES
  'malformed', // not JSON, or not the command shape
  'unsigned', // no signature
  'wrong_target', // signed for another node
  'unknown_operator', // signer not in `list operator`
  'bad_signature', // BIP340 verification failed
  'expired', // past its expiry, lifetime too long, or issued too far in the future
  'replay', // this (operator, nonce) was seen, or predates what the cache can vouch for
  'unknown_command',
  'bad_args', // arguments missing, extra, of the wrong type or out of range
  'refused', // authentic and well-formed, but the node would not do it (e.g. option not whitelisted)
  'failed', // the node tried and failed
] as const;
export type MgmtErrorCode = (typeof MGMT_ERROR_CODES)[number];

export class MgmtError extends RemoteError {
  declare readonly code: MgmtErrorCode;
  constructor(code: MgmtErrorCode, message: string) {
    super(code, message);
  }
}
