// Inputs and effects of the channel machines (DESIGN.md §2: inputs carry `now`
// separately; effects are drained with poll()). Shared vocabulary for payer and payee.
import type { Message } from '../wire/messages.js';
import type { ChannelError } from './errors.js';

/** A peer message, already decoded, authenticated and addressed to this channel's peer. */
export interface MessageInput {
  readonly kind: 'message';
  readonly message: Message;
}
/**
 * Bytes counted since the previous report (a delta, so counter resets on an adapter
 * restart need no care here). Payee: bytes it forwarded for this client, both
 * directions. Payer: bytes it received through this gateway, both directions.
 */
export interface MeteredInput {
  readonly kind: 'metered';
  readonly bytes: number;
}
export interface ChainHeightInput {
  readonly kind: 'chainHeight';
  readonly height: number;
}
/** The adapter wrote snapshot `version` (or a newer one) to flash. */
export interface PersistedInput {
  readonly kind: 'persisted';
  readonly version: number;
}
export interface CloseRequestedInput {
  readonly kind: 'closeRequested';
  /** Free-form reason code carried in CLOSE. */
  readonly reason: number;
}

export type CommonInput = MessageInput | MeteredInput | ChainHeightInput | PersistedInput | CloseRequestedInput;

export interface SendEffect {
  readonly kind: 'send';
  /** Signed types carry sender/ts/nonce filled in; the adapter's codec adds the signature. */
  readonly message: Message;
}
export interface PersistEffect<S> {
  readonly kind: 'persist';
  readonly version: number;
  /** Money-critical (a reservation or a new best state): emitted at once, not held back by persistIntervalMs. */
  readonly critical: boolean;
  readonly snapshot: S;
}
export interface ErrorEffect {
  readonly kind: 'error';
  /** The refused input; the machine is unchanged. Count it per peer. */
  readonly error: ChannelError;
}

export interface ChannelDepsBase {
  /** Our node id (x-only key), the `sender` of the signed messages we make. */
  readonly self: Uint8Array;
  /** 8 fresh random bytes for a signed message's nonce. */
  readonly nonce: () => Uint8Array;
  readonly sha256: (data: Uint8Array) => Uint8Array;
}

/** The adapter keeps one real timer per machine: deadline = pollTimeout(). */
export interface TimerView<N extends string> {
  readonly name: N;
  readonly at: number;
}
