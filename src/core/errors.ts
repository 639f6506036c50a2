// Errors typed by blame, each with a stable `code` that counters and logs key on.
// RemoteError: the peer (or a file, or an operator) sent something wrong; we drop it and count it.
// LocalError: our own bug or misuse of an API; it should never happen in production.

export type Blame = 'remote' | 'local';

export abstract class BitmeshError extends Error {
  abstract readonly blame: Blame;
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class RemoteError extends BitmeshError {
  readonly blame = 'remote' as const;
}

export class LocalError extends BitmeshError {
  readonly blame = 'local' as const;
}
