// Channel refusals with stable codes. A ChannelError is the peer's fault (or a
// corrupt snapshot's): the input is dropped, counted, and the machine is unchanged.
import { LocalError, RemoteError } from '../errors.js';

export const CHANNEL_ERROR_CODES = [
  'bad_preimage', // TICK element does not hash to the known one
  'tick_gap', // TICK more than MAX_TICK_GAP past the last verified index
  'tick_beyond_chain', // TICK index past the chain length or the capacity
  'bad_commit_sig', // COMMIT signature refused by the injected verifier
  'commit_over_capacity', // COMMIT pays more than the channel holds
  'commit_not_tick_aligned', // COMMIT amount is not a whole number of ticks
  'bad_terms', // OPEN / ACCEPT / FUNDED terms we do not accept
  'wrong_channel', // message for another channel id
  'unexpected_message', // message type not allowed in this state
  'funding_mismatch', // the chain shows another amount than FUNDED claimed
  'bad_snapshot', // a persisted snapshot that does not parse
] as const;
export type ChannelErrorCode = (typeof CHANNEL_ERROR_CODES)[number];

export class ChannelError extends RemoteError {
  declare readonly code: ChannelErrorCode;
  constructor(code: ChannelErrorCode, message: string) {
    super(code, message);
  }
}

/** Our own misuse of a channel API (bad parameters, wrong chain for a snapshot). */
export class ChannelUsageError extends LocalError {}
