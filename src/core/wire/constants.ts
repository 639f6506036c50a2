// Wire constants. Spec constants (fixed by DESIGN.md §4) apart from tuning defaults.

// --- spec ---
export const PROTOCOL_VERSION = 1;
/** One datagram, never fragmented: fits the IPv6 minimum MTU with headroom. */
export const MAX_DATAGRAM_BYTES = 1200;
export const DEFAULT_PORT = 4270;
export const DISCOVERY_GROUP_V6 = 'ff02::4270';
/** Domain separation for signatures: tag = `bitmesh/<TYPE>`. */
export const SIGNATURE_TAG_PREFIX = 'bitmesh/';

export const MESSAGE_TYPES = [
  'HELLO',
  'OFFER',
  'RFQ',
  'BID',
  'AWARD',
  'OPEN',
  'ACCEPT',
  'FUNDED',
  'TICK',
  'COMMIT',
  'CLOSE',
  'ERROR',
  // Not in DESIGN.md §4's list: docs/deviations.md item 12.
  'REPORT',
] as const;
export type MessageType = (typeof MESSAGE_TYPES)[number];

/** Numeric codes on the wire, 1-based in MESSAGE_TYPES order. */
export const TYPE_CODE: Readonly<Record<MessageType, number>> = Object.fromEntries(
  MESSAGE_TYPES.map((t, i) => [t, i + 1]),
) as Record<MessageType, number>;

/** Types carrying a BIP340 signature, a timestamp and a nonce. */
export const SIGNED_TYPES: ReadonlySet<MessageType> = new Set([
  'HELLO',
  'OFFER',
  'BID',
  'AWARD',
  'OPEN',
  'ACCEPT',
  'CLOSE',
  'REPORT',
]);

// --- tuning defaults (overridable by config) ---
/** Accepted clock difference for signed messages. */
export const DEFAULT_CLOCK_SKEW_MS = 30_000;
export const DEFAULT_REPLAY_CACHE_SIZE = 4096;
/** CBOR nesting and array length caps: far above what any body needs. */
export const MAX_CBOR_DEPTH = 4;
export const MAX_CBOR_ARRAY_LEN = 32;
