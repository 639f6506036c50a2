// The gateway side of the market: answer RFQs with sealed bids and hold awards.
//
// Rules:
// - Bid only when it can win and serve: the uplink has room for this client
//   (spare, plus what this client already uses), the client's max price covers our
//   ask, the RFQ is ours to answer (not our own, stamped within ±rfqSkewMs).
// - The bid is truthful by construction: price = the configured ask (our cost);
//   capacity = min(measured capacity, spare + this client's current load), never
//   more than the estimate says, whatever the client wants.
// - Reclaiming: when that leaves less than the client wants, and the capacity of
//   occupants paying less than the client's max price would cover the rest, we bid
//   that capacity too, at one msat/KiB above the highest of their prices: what
//   carrying the client would really cost us, since we give up their payments. The
//   occupants taken are the lowest-paying ones, and only ones with traffic. If the
//   client awards the bid, their awards end and each gets a re-quote (effect
//   `reclaimed`) so that it re-auctions at once, carried meanwhile. Why: capacity goes
//   to whoever came first otherwise; an occupant's price is its auction's second price,
//   what this gateway is worth to it over its next best, so the client who outbids it
//   gains more from the capacity than the occupant loses by moving (docs/benchmarks.md,
//   Simulator). Prices at a full gateway rise this way until no one outbids them.
// - An AWARD is accepted only for a bid we made (same client, same rfqId, within
//   `bidValidityMs`), naming us, paying at least our ask, for no longer than our term.
//   Anything else is refused with a reason the agent counts.
// - Reservation: an accepted award holds min(wanted, half the capacity bid) of our spare
//   until that client's load shows in the data plane, for at most `reserveMs`; bids to
//   others meanwhile offer only what is left. Without it every client that auctions
//   within one estimate period is told the same spare, and the uplink is oversold. At
//   most half: a client that wants all it can get shares the uplink with the next one
//   (as TCP flows would), it does not claim it for itself.
// - Accepted awards are tracked per client until their term ends (awardEnded); a new
//   award from the same client replaces its old one. Tables are bounded.
// The gateway market has no lifecycle of its own (it only responds), so it keeps
// tables rather than a state enum; each award is either in force or gone.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { AwardBody, BidBody, RfqBody } from '../wire/messages.js';
import { nodeIdHex } from '../wire/node-id.js';
import type { CapabilityEstimate } from './capability.js';
import {
  DEFAULT_BID_VALIDITY_MS,
  DEFAULT_MAX_AWARDS,
  DEFAULT_MAX_OUTSTANDING_BIDS,
  DEFAULT_RESERVE_MS,
  DEFAULT_RFQ_SKEW_MS,
  DEFAULT_TERM_MS,
} from './constants.js';
import { MarketOptionError } from './errors.js';
import { LruMap } from './lru-map.js';

export interface GatewayMarketOptions {
  /** Our own node id (hex). */
  readonly self: string;
  /** Our ask = our cost, in msat per KiB (config `price_msat_per_kib`). */
  readonly priceMsatPerKiB: number;
  readonly termMs: number;
  readonly bidValidityMs: number;
  readonly maxOutstandingBids: number;
  readonly maxAwards: number;
  readonly rfqSkewMs: number;
  /** How long an accepted award's reservation waits for the client's load; 0 = none. */
  readonly reserveMs: number;
  /** Bid for a client we have no room for with the capacity of lower-paying occupants (see Reclaiming). */
  readonly reclaim: boolean;
}

export const DEFAULT_GATEWAY_MARKET_OPTIONS: Omit<GatewayMarketOptions, 'self' | 'priceMsatPerKiB'> = {
  termMs: DEFAULT_TERM_MS,
  bidValidityMs: DEFAULT_BID_VALIDITY_MS,
  maxOutstandingBids: DEFAULT_MAX_OUTSTANDING_BIDS,
  maxAwards: DEFAULT_MAX_AWARDS,
  rfqSkewMs: DEFAULT_RFQ_SKEW_MS,
  reserveMs: DEFAULT_RESERVE_MS,
  reclaim: true,
};

export type GatewayMarketInput =
  /** The latest capability estimate (capability.ts). */
  | { readonly type: 'estimate'; readonly estimate: CapabilityEstimate }
  /** What a client (hex id) currently uses through us, kbit/s, from the data plane. */
  | { readonly type: 'clientLoad'; readonly client: string; readonly kbps: number }
  | { readonly type: 'rfq'; readonly rfq: RfqBody }
  /** An authenticated AWARD (signature, window and replay checked by the agent). */
  | { readonly type: 'award'; readonly award: AwardBody }
  /** The operator changed the ask, or paused/resumed selling (no bids while paused). */
  | { readonly type: 'ask'; readonly priceMsatPerKiB: number; readonly selling: boolean };

export type NoBidReason = 'own_rfq' | 'stale_rfq' | 'price_above_max' | 'no_capacity' | 'paused';
export type AwardRefusal = 'not_for_us' | 'unknown_rfq' | 'underpaid' | 'term_too_long';

export type GatewayMarketEffect =
  /** Send a signed BID to client `to` (hex); the agent adds the signed header. */
  | { readonly type: 'sendBid'; readonly to: string; readonly body: Omit<BidBody, 'sender' | 'ts' | 'nonce'> }
  /** Serve `client` at this price until `until` (accept its OPEN on these terms). */
  | {
      readonly type: 'awardAccepted';
      readonly client: string;
      readonly priceMsatPerKiB: number;
      readonly termMs: number;
      readonly until: number;
    }
  | { readonly type: 'awardRefused'; readonly client: string; readonly reason: AwardRefusal }
  | { readonly type: 'awardEnded'; readonly client: string }
  /**
   * A client paying more took this client's capacity: its award is over. Send it `body`
   * at once, a re-quote (a BID for that award's rfqId offering capacity 0), so that it
   * re-auctions while it is still carried.
   */
  | { readonly type: 'reclaimed'; readonly client: string; readonly body: Omit<BidBody, 'sender' | 'ts' | 'nonce'> };

export interface GatewayAward {
  readonly client: string;
  readonly rfqId: Uint8Array;
  readonly priceMsatPerKiB: number;
  readonly since: number;
  readonly until: number;
}

interface OutstandingBid {
  readonly client: string;
  /** What an award on this bid reserves: min(wanted, capacity bid). */
  readonly reserveKbps: number;
  readonly priceMsatPerKiB: number;
  readonly termMs: number;
  readonly expiresAt: number;
  /** Occupants whose capacity the bid offers: reclaimed if it is awarded. */
  readonly reclaim?: readonly string[];
}

export class GatewayMarket {
  readonly #o: GatewayMarketOptions;
  #price: number;
  #selling = true;
  #estimate: CapabilityEstimate | undefined;
  readonly #loads: LruMap<string, number>;
  readonly #bids: LruMap<string, OutstandingBid>;
  readonly #awards: LruMap<string, GatewayAward>;
  readonly #reserved: LruMap<string, { readonly kbps: number; readonly until: number }>;
  #effects: GatewayMarketEffect[] = [];
  readonly counters = { bids: 0, reclaimBids: 0, reclaimed: 0, noBid: {} as Partial<Record<NoBidReason, number>>, accepted: 0, refused: {} as Partial<Record<AwardRefusal, number>> };

  constructor(opts: Partial<GatewayMarketOptions> & Pick<GatewayMarketOptions, 'self' | 'priceMsatPerKiB'>) {
    this.#o = { ...DEFAULT_GATEWAY_MARKET_OPTIONS, ...opts };
    if (!Number.isSafeInteger(this.#o.priceMsatPerKiB) || this.#o.priceMsatPerKiB < 0) {
      throw new MarketOptionError(`priceMsatPerKiB must be a non-negative integer, got ${this.#o.priceMsatPerKiB}`);
    }
    if (!(Number.isSafeInteger(this.#o.termMs) && this.#o.termMs > 0)) throw new MarketOptionError('termMs must be a positive integer');
    this.#price = this.#o.priceMsatPerKiB;
    this.#loads = new LruMap(this.#o.maxAwards);
    this.#bids = new LruMap(this.#o.maxOutstandingBids);
    this.#awards = new LruMap(this.#o.maxAwards);
    this.#reserved = new LruMap(this.#o.maxAwards);
  }

  /** Awards in force, least recently granted first. */
  awards(): GatewayAward[] {
    return [...this.#awards.entries()].map(([, a]) => a);
  }

  handle(input: GatewayMarketInput, now: number): void {
    switch (input.type) {
      case 'estimate':
        this.#estimate = input.estimate;
        return;
      case 'clientLoad':
        if (Number.isFinite(input.kbps) && input.kbps >= 0) this.#loads.set(input.client, input.kbps);
        return;
      case 'rfq':
        return this.#onRfq(input.rfq, now);
      case 'award':
        return this.#onAward(input.award, now);
      case 'ask':
        if (!Number.isSafeInteger(input.priceMsatPerKiB) || input.priceMsatPerKiB < 0) return;
        this.#price = input.priceMsatPerKiB;
        this.#selling = input.selling;
        return;
    }
  }

  pollTimeout(): number | undefined {
    let due: number | undefined;
    for (const [, a] of this.#awards.entries()) if (due === undefined || a.until < due) due = a.until;
    return due;
  }

  handleTimeout(now: number): void {
    for (const [client, a] of [...this.#awards.entries()]) {
      if (a.until <= now) {
        this.#awards.delete(client);
        this.#effects.push({ type: 'awardEnded', client });
      }
    }
  }

  poll(): GatewayMarketEffect[] {
    const out = this.#effects;
    this.#effects = [];
    return out;
  }

  #onRfq(rfq: RfqBody, now: number): void {
    const client = nodeIdHex(rfq.sender);
    let capacity = this.#bidCapacity(client, now);
    let price = this.#price;
    let reclaim: string[] | undefined;
    if (this.#o.reclaim && this.#estimate && capacity < rfq.wantedKbps && client !== this.#o.self) {
      const r = this.#reclaimable(client, rfq.wantedKbps - capacity, rfq.maxPriceMsatPerKiB);
      if (r) {
        capacity = Math.floor(Math.min(this.#estimate.capacityKbps, capacity + r.kbps));
        price = Math.max(price, r.priceMsatPerKiB);
        reclaim = r.clients;
      }
    }
    const reason: NoBidReason | undefined =
      client === this.#o.self
        ? 'own_rfq'
        : !this.#selling
          ? 'paused'
          : Math.abs(rfq.ts - now) > this.#o.rfqSkewMs
          ? 'stale_rfq'
          : rfq.maxPriceMsatPerKiB < price
            ? 'price_above_max'
            : capacity <= 0
              ? 'no_capacity'
              : undefined;
    if (reason) {
      this.counters.noBid[reason] = (this.counters.noBid[reason] ?? 0) + 1;
      return;
    }
    const e = this.#estimate as CapabilityEstimate;
    this.#bids.set(bidKey(client, rfq.rfqId), {
      client,
      reserveKbps: Math.max(0, Math.min(Math.floor(capacity / 2), rfq.wantedKbps)),
      priceMsatPerKiB: price,
      termMs: this.#o.termMs,
      expiresAt: now + this.#o.bidValidityMs,
      ...(reclaim ? { reclaim } : {}),
    });
    this.counters.bids++;
    if (reclaim) this.counters.reclaimBids++;
    this.#effects.push({
      type: 'sendBid',
      to: client,
      body: {
        rfqId: rfq.rfqId,
        client: rfq.sender,
        priceMsatPerKiB: price,
        capacityKbps: capacity,
        confidencePermille: Math.min(1000, e.confidencePermille),
        latencyMs: e.latencyMs,
        termMs: this.#o.termMs,
      },
    });
  }

  /**
   * The lowest-paying occupants (with traffic) whose loads cover `needKbps`, and the
   * least whole price above what each of them pays; undefined when that price is
   * above `maxPrice` or the occupants cannot cover the need.
   */
  #reclaimable(client: string, needKbps: number, maxPrice: number): { clients: string[]; kbps: number; priceMsatPerKiB: number } | undefined {
    const occupants: { client: string; price: number; kbps: number }[] = [];
    for (const [c, a] of this.#awards.entries()) {
      const kbps = this.#loads.peek(c) ?? 0;
      if (c !== client && kbps > 0) occupants.push({ client: c, price: a.priceMsatPerKiB, kbps });
    }
    occupants.sort((a, b) => a.price - b.price || b.kbps - a.kbps || (a.client < b.client ? -1 : 1));
    const clients: string[] = [];
    let kbps = 0;
    let price = 0;
    for (const o of occupants) {
      if (kbps >= needKbps) break;
      if (o.price + 1 > maxPrice) return undefined;
      clients.push(o.client);
      kbps += o.kbps;
      price = o.price + 1;
    }
    return kbps >= needKbps ? { clients, kbps, priceMsatPerKiB: price } : undefined;
  }

  #requote(client: string, rfqId: Uint8Array, priceMsatPerKiB: number): Omit<BidBody, 'sender' | 'ts' | 'nonce'> {
    const e = this.#estimate;
    return {
      rfqId,
      client: hexToBytes(client),
      priceMsatPerKiB,
      capacityKbps: 0,
      confidencePermille: Math.min(1000, e?.confidencePermille ?? 0),
      latencyMs: e?.latencyMs ?? 0,
      termMs: 0,
    };
  }

  #bidCapacity(client: string, now: number): number {
    const e = this.#estimate;
    if (!e) return 0;
    const mine = this.#awards.has(client) ? (this.#loads.peek(client) ?? 0) : 0;
    return Math.max(0, Math.floor(Math.min(e.capacityKbps, e.spareKbps + mine - this.#reservedKbps(client, now))));
  }

  /** Spare promised to other clients' fresh awards and not yet visible as their load. */
  #reservedKbps(except: string, now: number): number {
    let sum = 0;
    for (const [client, r] of this.#reserved.entries()) {
      if (r.until <= now) this.#reserved.delete(client);
      else if (client !== except) sum += Math.max(0, r.kbps - (this.#loads.peek(client) ?? 0));
    }
    return sum;
  }

  #onAward(award: AwardBody, now: number): void {
    const client = nodeIdHex(award.sender);
    const key = bidKey(client, award.rfqId);
    const bid = this.#bids.peek(key);
    const reason: AwardRefusal | undefined =
      nodeIdHex(award.gateway) !== this.#o.self
        ? 'not_for_us'
        : !bid || bid.expiresAt < now
          ? 'unknown_rfq'
          : award.priceMsatPerKiB < bid.priceMsatPerKiB
            ? 'underpaid'
            : award.termMs > bid.termMs
              ? 'term_too_long'
              : undefined;
    if (reason) {
      this.counters.refused[reason] = (this.counters.refused[reason] ?? 0) + 1;
      this.#effects.push({ type: 'awardRefused', client, reason });
      return;
    }
    this.#bids.delete(key);
    this.counters.accepted++;
    const a: GatewayAward = { client, rfqId: award.rfqId, priceMsatPerKiB: award.priceMsatPerKiB, since: now, until: now + award.termMs };
    this.#awards.set(client, a);
    const reserveKbps = bid?.reserveKbps ?? 0;
    if (this.#o.reserveMs > 0 && reserveKbps > 0) this.#reserved.set(client, { kbps: reserveKbps, until: now + this.#o.reserveMs });
    else this.#reserved.delete(client);
    this.#effects.push({ type: 'awardAccepted', client, priceMsatPerKiB: a.priceMsatPerKiB, termMs: award.termMs, until: a.until });
    for (const c of bid?.reclaim ?? []) {
      const o = this.#awards.peek(c);
      if (!o || o.priceMsatPerKiB >= a.priceMsatPerKiB) continue; // renewed meanwhile at a price as high
      this.#awards.delete(c);
      this.#reserved.delete(c);
      this.counters.reclaimed++;
      this.#effects.push({ type: 'reclaimed', client: c, body: this.#requote(c, o.rfqId, a.priceMsatPerKiB) });
    }
  }
}

function bidKey(client: string, rfqId: Uint8Array): string {
  return client + ':' + bytesToHex(rfqId);
}
