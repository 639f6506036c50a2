// Market errors by blame. A bad reputation file is the file's fault (RemoteError): the
// agent counts it and starts fresh. A REPORT whose proof does not hold is its sender's
// (RemoteError): counted and ignored. Misusing a market API is ours (LocalError).
import { LocalError, RemoteError } from '../errors.js';

export const REPUTATION_FILE_ERROR_CODES = [
  'reputation_not_object', // not a JSON object of the expected shape
  'reputation_version', // unknown format version
  'reputation_entry', // an entry with a missing, mistyped or out-of-range field
  'reputation_duplicate', // the same gateway twice
  'reputation_too_many', // more entries than any table we write could hold
] as const;
export type ReputationFileErrorCode = (typeof REPUTATION_FILE_ERROR_CODES)[number];

export class ReputationFileError extends RemoteError {
  declare readonly code: ReputationFileErrorCode;
  constructor(code: ReputationFileErrorCode, message: string) {
    super(code, message);
  }
}

/** A transition the client market's table does not allow: a bug in the machine. */
export class MarketStateError extends LocalError {
  constructor(message: string) {
    super('market_bad_transition', message);
  }
}

/** An option outside its documented range. */
export class MarketOptionError extends LocalError {
  constructor(message: string) {
    super('bad_option', message);
  }
}

export const REPORT_ERROR_CODES = [
  'report_self', // a gateway reported by itself
  'report_values', // no target, or delivered at least the target: not a shortfall
  'report_channel', // the channel id is not the reporter's own (taggedHash(reporter ‖ salt))
  'report_proof_age', // the ACCEPT is older than maxProofAgeMs, or from the future
  'report_accept_signature', // the ACCEPT is not the gateway's
] as const;
export type ReportErrorCode = (typeof REPORT_ERROR_CODES)[number];

/** A REPORT whose proof does not hold: the sender's fault. */
export class ReportError extends RemoteError {
  declare readonly code: ReportErrorCode;
  constructor(code: ReportErrorCode, message: string) {
    super(code, message);
  }
}
