// Errors of the native helper backend. All are local: the helper is our own process.
// HelperDeadError and HelperTimeoutError mean "the helper is gone, use noble";
// callers test `err instanceof HelperUnavailableError` to fall back.
import { LocalError } from '../core/errors.js';

export abstract class HelperUnavailableError extends LocalError {}

/** The helper exited, was killed, closed its pipes, or was never running. */
export class HelperDeadError extends HelperUnavailableError {
  constructor(message: string) {
    super('helper-dead', message);
  }
}

/** The helper did not answer in time; the client killed it. */
export class HelperTimeoutError extends HelperUnavailableError {
  constructor(message: string) {
    super('helper-timeout', message);
  }
}

/** The helper sent bytes that break the protocol; the client killed it. */
export class HelperProtocolError extends LocalError {
  constructor(message: string) {
    super('helper-protocol', message);
  }
}

/** The helper refused one request (e.g. a secret key out of range): that call only. */
export class HelperRejectedError extends LocalError {
  constructor(
    readonly status: string,
    message: string,
  ) {
    super(`helper-${status}`, message);
  }
}

/** A caller passed a wrongly sized argument; nothing was sent. */
export class HelperArgumentError extends LocalError {
  constructor(message: string) {
    super('helper-bad-argument', message);
  }
}
