// The message set of DESIGN.md §4: each type's body is a CBOR array of fields in the
// order listed here. The tables are the single source of truth: the TypeScript body
// types are derived from them, and the codec validates every field against them.
import type { MessageType } from './constants.js';

/** Field kinds. Sizes are exact: a 31-byte key is a bad body, not a short key. */
export type FieldKind =
  | 'uint' // unsigned safe integer (≤ 2^53-1)
  | 'bytes8'
  | 'bytes32'
  | 'bytes64'
  | 'bytes0or32' // optional 32-byte id: empty when absent
  | 'text'; // UTF-8, at most MAX_TEXT_CHARS

export const MAX_TEXT_CHARS = 200;

type FieldSpec = readonly [name: string, kind: FieldKind];
type KindValue<K extends FieldKind> = K extends 'uint' ? number : K extends 'text' ? string : Uint8Array;
export type BodyOf<S extends readonly FieldSpec[]> = {
  -readonly [F in S[number] as F[0]]: KindValue<F[1]>;
};

/** Signed bodies start with who signed, when, and a nonce against replay. */
const SIGNED_HEADER = [
  ['sender', 'bytes32'],
  ['ts', 'uint'],
  ['nonce', 'bytes8'],
] as const;

export const BODY_SCHEMAS = {
  /** Discovery beacon. roles: bit 0 gateway, bit 1 client. */
  HELLO: [...SIGNED_HEADER, ['roles', 'uint'], ['seq', 'uint']],
  /** A gateway's standing offer: price, what it measured it can carry, and its terms. */
  OFFER: [
    ...SIGNED_HEADER,
    ['seq', 'uint'],
    ['priceMsatPerKiB', 'uint'],
    ['capacityKbps', 'uint'],
    ['spareKbps', 'uint'],
    ['confidencePermille', 'uint'],
    ['latencyMs', 'uint'],
    ['lossPermille', 'uint'],
    ['tickKiB', 'uint'],
    ['creditKiB', 'uint'],
    ['maxCreditMsat', 'uint'],
    ['minChannelSat', 'uint'],
    ['maxChannelSat', 'uint'],
    ['zeroConfCapSat', 'uint'],
  ],
  /** A client asks for quotes. Unsigned: a spoofed RFQ only earns the spoofed node bids. */
  RFQ: [
    ['sender', 'bytes32'],
    ['rfqId', 'bytes8'],
    ['wantedKbps', 'uint'],
    ['maxPriceMsatPerKiB', 'uint'],
    ['ts', 'uint'],
  ],
  /** A gateway's sealed bid, addressed to one client. */
  BID: [
    ...SIGNED_HEADER,
    ['rfqId', 'bytes8'],
    ['client', 'bytes32'],
    ['priceMsatPerKiB', 'uint'],
    ['capacityKbps', 'uint'],
    ['confidencePermille', 'uint'],
    ['latencyMs', 'uint'],
    ['termMs', 'uint'],
  ],
  /** The client's award: winner and the quality-adjusted second price it will pay. */
  AWARD: [
    ...SIGNED_HEADER,
    ['rfqId', 'bytes8'],
    ['gateway', 'bytes32'],
    ['priceMsatPerKiB', 'uint'],
    ['termMs', 'uint'],
  ],
  /** Payer proposes a channel and commits to its hash-chain anchor W0. */
  OPEN: [
    ...SIGNED_HEADER,
    ['channelId', 'bytes32'],
    ['payee', 'bytes32'],
    ['capacitySat', 'uint'],
    ['expiryHeight', 'uint'],
    ['anchor', 'bytes32'],
    ['chainLength', 'uint'],
    ['tickKiB', 'uint'],
    ['priceMsatPerKiB', 'uint'],
  ],
  /** Payee accepts, stating the credit and loss tolerance it grants. */
  ACCEPT: [
    ...SIGNED_HEADER,
    ['channelId', 'bytes32'],
    ['creditBytes', 'uint'],
    ['lossTolerancePermille', 'uint'],
    ['zeroConfCapSat', 'uint'],
  ],
  /** Funding outpoint; unsigned because the chain itself vouches for it. */
  FUNDED: [
    ['channelId', 'bytes32'],
    ['txid', 'bytes32'],
    ['vout', 'uint'],
    ['capacitySat', 'uint'],
  ],
  /** Reveals hash-chain element `index`; one SHA-256 authenticates it. */
  TICK: [
    ['channelId', 'bytes32'],
    ['index', 'uint'],
    ['preimage', 'bytes32'],
  ],
  /** A new channel state: the payer's Bitcoin signature over the commitment tx. */
  COMMIT: [
    ['channelId', 'bytes32'],
    ['seq', 'uint'],
    ['paidMsat', 'uint'],
    ['sig', 'bytes64'],
  ],
  CLOSE: [...SIGNED_HEADER, ['channelId', 'bytes32'], ['reason', 'uint'], ['paidMsat', 'uint']],
  ERROR: [
    ['channelId', 'bytes0or32'],
    ['code', 'uint'],
    ['message', 'text'],
  ],
  /**
   * A client's signed report that a gateway delivered far below its claim in a capacity
   * probe. Its proof is the gateway's own signed ACCEPT of a channel the reporter opened
   * (fields accept*, channelId, creditBytes…), whose id the reporter derived from its
   * key and `channelSalt`: only a node that had a channel accepted by the gateway can
   * report it, once per channel (src/core/market/report.ts).
   */
  REPORT: [
    ...SIGNED_HEADER,
    ['gateway', 'bytes32'],
    ['deliveredKbps', 'uint'],
    ['targetKbps', 'uint'],
    ['channelId', 'bytes32'],
    ['channelSalt', 'bytes32'],
    ['acceptTs', 'uint'],
    ['acceptNonce', 'bytes8'],
    ['creditBytes', 'uint'],
    ['lossTolerancePermille', 'uint'],
    ['zeroConfCapSat', 'uint'],
    ['acceptSig', 'bytes64'],
  ],
} as const satisfies Record<MessageType, readonly FieldSpec[]>;

type Schemas = typeof BODY_SCHEMAS;
export type Body<T extends MessageType> = BodyOf<Schemas[T]>;

export type HelloBody = Body<'HELLO'>;
export type OfferBody = Body<'OFFER'>;
export type RfqBody = Body<'RFQ'>;
export type BidBody = Body<'BID'>;
export type AwardBody = Body<'AWARD'>;
export type OpenBody = Body<'OPEN'>;
export type AcceptBody = Body<'ACCEPT'>;
export type FundedBody = Body<'FUNDED'>;
export type TickBody = Body<'TICK'>;
export type CommitBody = Body<'COMMIT'>;
export type CloseBody = Body<'CLOSE'>;
export type ErrorBody = Body<'ERROR'>;
export type ReportBody = Body<'REPORT'>;

/** A message as the core sees it: discriminated by type. */
export type Message = { [T in MessageType]: { readonly type: T; readonly body: Body<T> } }[MessageType];
export type MessageOf<T extends MessageType> = Extract<Message, { type: T }>;

export const ROLE_GATEWAY = 1;
export const ROLE_CLIENT = 2;
