// Reports: one client's probe evidence against a gateway, shared with the clients that
// could not gather it themselves.
//
// Why: a gateway that claims three times its uplink keeps every client whose mesh path
// is slower than what its real uplink leaves them. It serves them as well as anyone
// could, so no measurement of theirs can catch it; only a client with a faster path,
// whose capacity probe came back far short, can. That client signs a REPORT and floods
// it; a client hearing reports against a gateway from `banCount` distinct reporters
// within `banMs` leaves it and keeps it out of its auctions for `banMs`.
//
// Why it is not cheap to forge: a REPORT carries the gateway's own signed ACCEPT of a
// channel, and the channel id is taggedHash("bitmesh/channel-id", reporter ‖ salt),
// which the payer chose when it opened the channel (the payee takes any 32-byte id, so
// this needs nothing from it). So a report comes from a node that had a channel
// accepted by the gateway, funded and recent (`maxProofAgeMs`): every made-up identity
// costs a funding transaction, and an ACCEPT overheard from another client's channel
// cannot be re-used under another key. One vote per reporter, however many channels.
import type { Crypto } from '../../crypto/facade.js';
import { bytesEqual } from '../channel/hash-chain.js';
import type { WireCodec } from '../wire/codec.js';
import { signatureDigest } from '../wire/envelope.js';
import type { AcceptBody, ReportBody } from '../wire/messages.js';
import { nodeIdHex } from '../wire/node-id.js';
import { ReportError } from './errors.js';
import { LruMap } from './lru-map.js';

export const CHANNEL_ID_TAG = 'bitmesh/channel-id';

/** The channel id a payer derives from its own key and a fresh 32-byte salt. */
export function channelIdFor(crypto: Crypto, payer: Uint8Array, salt: Uint8Array): Uint8Array {
  return crypto.taggedHash(CHANNEL_ID_TAG, payer, salt);
}

/** What a client keeps of a gateway's ACCEPT to prove later that it had a channel there. */
export interface AcceptProof {
  readonly accept: AcceptBody;
  readonly sig: Uint8Array;
  readonly salt: Uint8Array;
}

/** The REPORT body's fields after the signed header. */
export function reportFields(proof: AcceptProof, deliveredKbps: number, targetKbps: number): Omit<ReportBody, 'sender' | 'ts' | 'nonce'> {
  const a = proof.accept;
  return {
    gateway: a.sender,
    deliveredKbps: Math.max(0, Math.floor(deliveredKbps)),
    targetKbps: Math.max(0, Math.floor(targetKbps)),
    channelId: a.channelId,
    channelSalt: proof.salt,
    acceptTs: a.ts,
    acceptNonce: a.nonce,
    creditBytes: a.creditBytes,
    lossTolerancePermille: a.lossTolerancePermille,
    zeroConfCapSat: a.zeroConfCapSat,
    acceptSig: proof.sig,
  };
}

export interface ReportCheckOptions {
  /** An ACCEPT older than this proves nothing about the reporter's channel today. */
  readonly maxProofAgeMs: number;
  /** Clock difference tolerated for the ACCEPT's timestamp (as for signed messages). */
  readonly skewMs: number;
}

/** A channel accepted within this long: the reporter opened it for the award it probed. */
export const DEFAULT_REPORT_PROOF_MAX_AGE_MS = 60 * 60_000;

/**
 * Checks a REPORT's proof; the REPORT's own signature is `authenticate`'s job. Cheap
 * checks first, the ACCEPT's signature (one BIP340 verification) last.
 */
export function checkReport(crypto: Crypto, codec: WireCodec, r: ReportBody, now: number, o: ReportCheckOptions): ReportError | undefined {
  if (nodeIdHex(r.gateway) === nodeIdHex(r.sender)) return new ReportError('report_self', 'a gateway cannot report itself');
  if (!(r.targetKbps > 0) || r.deliveredKbps >= r.targetKbps) {
    return new ReportError('report_values', `delivered ${r.deliveredKbps} of a ${r.targetKbps} kbit/s target is no shortfall`);
  }
  if (!bytesEqual(channelIdFor(crypto, r.sender, r.channelSalt), r.channelId)) {
    return new ReportError('report_channel', 'the channel id is not derived from the reporter’s key');
  }
  if (r.acceptTs < now - o.maxProofAgeMs || r.acceptTs > now + o.skewMs) {
    return new ReportError('report_proof_age', `ACCEPT stamped ${r.acceptTs}, ${now - r.acceptTs} ms before now`);
  }
  const accept: AcceptBody = {
    sender: r.gateway,
    ts: r.acceptTs,
    nonce: r.acceptNonce,
    channelId: r.channelId,
    creditBytes: r.creditBytes,
    lossTolerancePermille: r.lossTolerancePermille,
    zeroConfCapSat: r.zeroConfCapSat,
  };
  const digest = signatureDigest(crypto, 'ACCEPT', codec.encodeBody('ACCEPT', accept));
  if (!crypto.schnorrVerify(r.acceptSig, digest, r.gateway)) {
    return new ReportError('report_accept_signature', 'the ACCEPT is not signed by the reported gateway');
  }
  return undefined;
}

export interface ReportTallyOptions {
  /** Distinct reporters within `banMs` that get a gateway banned; 0 = reports never ban. */
  readonly banCount: number;
  readonly banMs: number;
  /** Gateways tracked at once (oldest tally dropped first). */
  readonly maxGateways: number;
}

/** Most reporters remembered per gateway: the ban needs `banCount` of them, far fewer. */
const MAX_REPORTERS_PER_GATEWAY = 16;

/**
 * Distinct reporters per gateway over a sliding `banMs`. `add` says whether this report
 * brought the gateway to `banCount` distinct reporters. Bounded: `maxGateways` tallies of
 * at most MAX_REPORTERS_PER_GATEWAY reporters each.
 */
export class ReportTally {
  readonly #o: ReportTallyOptions;
  /** Per gateway: reporter → when it last reported. */
  readonly #byGateway: LruMap<string, LruMap<string, number>>;

  constructor(o: ReportTallyOptions) {
    this.#o = o;
    this.#byGateway = new LruMap(Math.max(1, o.maxGateways));
  }

  add(gateway: string, reporter: string, now: number): boolean {
    if (!(this.#o.banCount > 0)) return false;
    const seen = this.#byGateway.get(gateway) ?? new LruMap<string, number>(MAX_REPORTERS_PER_GATEWAY);
    for (const [who, at] of seen.entries()) if (now - at > this.#o.banMs) seen.delete(who);
    seen.set(reporter, now);
    this.#byGateway.set(gateway, seen);
    return seen.size >= this.#o.banCount;
  }

  /** Distinct reporters of `gateway` within `banMs` of `now`. */
  reporters(gateway: string, now: number): number {
    let n = 0;
    for (const [, at] of this.#byGateway.peek(gateway)?.entries() ?? []) if (now - at <= this.#o.banMs) n++;
    return n;
  }
}
