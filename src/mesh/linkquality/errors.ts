// Typed errors of the link-quality sources. The tools we read (batctl, iw, nmcli)
// are outside our code, so what they print or fail to do is blamed on the remote side.

import { RemoteError } from '../../core/errors.js';

/** Which tool output a parser was reading. */
export type LinkQualityFormat =
  | 'batctl-originators'
  | 'batctl-neighbors'
  | 'batctl-gateways'
  | 'iw-station'
  | 'wifi-scan';

/** Tool output that does not have the documented shape. */
export class LinkQualityParseError extends RemoteError {
  static readonly CODE = 'LINK_QUALITY_PARSE';
  constructor(
    readonly format: LinkQualityFormat,
    readonly detail: string,
  ) {
    super(LinkQualityParseError.CODE, `${format}: ${detail}`);
  }
}

export type UnavailableReason =
  /** The program is not installed (ENOENT) or the library cannot load. */
  | 'missing'
  /** The program did not finish within its time limit. */
  | 'timeout'
  /** The program exited non-zero or was killed (no mesh interface, not root, ...). */
  | 'failed'
  /** The program printed more than we are willing to read. */
  | 'oversize'
  /** This platform or host cannot do it (no Wi-Fi, no NetworkManager). */
  | 'unsupported';

/** The tool behind a source could not give an answer at all. */
export class LinkQualityUnavailableError extends RemoteError {
  static readonly CODE = 'LINK_QUALITY_UNAVAILABLE';
  constructor(
    readonly reason: UnavailableReason,
    detail: string,
  ) {
    super(LinkQualityUnavailableError.CODE, `${reason}: ${detail}`);
  }
}

/** A source was configured with something it cannot use (bad interface name, unknown kind). */
export class LinkQualityConfigError extends RemoteError {
  static readonly CODE = 'LINK_QUALITY_CONFIG';
  constructor(detail: string) {
    super(LinkQualityConfigError.CODE, detail);
  }
}
