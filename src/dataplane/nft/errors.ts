// Typed errors of the nft data plane. Bad names or addresses handed to the backend are
// our caller's bug (local); what the nft tool prints or fails to do is outside our code.

import { LocalError, RemoteError } from '../../core/errors.js';

/** A channel id, address, interface name or byte count that cannot go into nft text. */
export class NftInputError extends LocalError {
  static readonly CODE = 'NFT_BAD_INPUT';
  constructor(
    readonly field: string,
    detail: string,
  ) {
    super(NftInputError.CODE, `${field}: ${detail}`);
  }
}

/** Two channels claim the same client address. */
export class NftAddressInUseError extends LocalError {
  static readonly CODE = 'NFT_ADDRESS_IN_USE';
  constructor(
    readonly address: string,
    readonly ownerChannelId: string,
  ) {
    super(NftAddressInUseError.CODE, `address ${address} already belongs to channel ${ownerChannelId.slice(0, 16)}`);
  }
}

/** nft ran the command and refused it (its error text is kept). */
export class NftCommandError extends RemoteError {
  static readonly CODE = 'NFT_COMMAND_FAILED';
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(NftCommandError.CODE, `nft refused \`${command.length > 200 ? `${command.slice(0, 200)}…` : command}\`: ${stderr.trim()}`);
  }
}

export type NftProcessFailure = 'spawn' | 'exited' | 'timeout' | 'closed' | 'oversize';

/** The nft child could not answer at all. */
export class NftProcessError extends RemoteError {
  static readonly CODE = 'NFT_PROCESS';
  constructor(
    readonly reason: NftProcessFailure,
    detail: string,
  ) {
    super(NftProcessError.CODE, `nft ${reason}: ${detail}`);
  }
}

/** `nft -j` printed JSON that does not have the documented shape. */
export class NftDecodeError extends RemoteError {
  static readonly CODE = 'NFT_BAD_JSON';
  constructor(
    readonly path: string,
    detail: string,
  ) {
    super(NftDecodeError.CODE, `nft json at ${path}: ${detail}`);
  }
}

/** A call the backend's lifecycle does not allow (grant before start, after stop). */
export class NftStateError extends LocalError {
  static readonly CODE = 'NFT_STATE';
  constructor(detail: string) {
    super(NftStateError.CODE, detail);
  }
}
