// The gateway's side of the auction, wired: RFQs heard on the mesh go to the
// GatewayMarket with the current capability estimate and asking price; its sealed
// BIDs go back to the asking client; AWARDs are accepted or refused by it. An accepted
// award means the client's OPEN at that price will follow (the channel manager accepts
// any OPEN at or above our ask). One timer, re-armed from pollTimeout(), ends terms.
import type { AwardBody, BidBody, RfqBody } from '../core/wire/messages.js';
import type { CapabilityEstimate } from '../core/market/capability.js';
import { GatewayMarket, type GatewayAward, type GatewayMarketEffect, type GatewayMarketOptions } from '../core/market/gateway-market.js';
import type { Logger } from './log.js';

export interface GatewayBiddingDeps {
  /** Our node id, hex. */
  readonly self: string;
  readonly clock: () => number;
  readonly log: Logger;
  /** The capability estimate now (GatewayOffers' estimator). */
  readonly estimate: (now: number) => CapabilityEstimate;
  /** The asking price and whether selling is on (the operator may change both remotely). */
  readonly price: () => number;
  readonly selling: () => boolean;
  /** Sends a signed BID to the client (hex id); the agent adds the signed header. */
  readonly sendBid: (to: string, body: Omit<BidBody, 'sender' | 'ts' | 'nonce'>) => void;
  /** Market events for the operator (award_won / award_lost). */
  readonly onEvent: (kind: 'award_won' | 'award_lost', details: Record<string, string | number | boolean>) => void;
  /**
   * Bytes served so far per client (hex id), over its payee channels: sampled every
   * LOAD_SAMPLE_MS into each client's load, which reclaiming and reservations need.
   */
  readonly servedByClient?: () => ReadonlyMap<string, number>;
  /** Market tuning (market.reserve_ms); the core's defaults otherwise. */
  readonly options?: Partial<Omit<GatewayMarketOptions, 'self' | 'priceMsatPerKiB'>>;
}

export interface GatewayBiddingStatus {
  readonly counters: GatewayMarket['counters'];
  readonly awards: { client: string; priceMsatPerKiB: number; untilMs: number }[];
}

/**
 * RFQs heard while we had measured nothing (a gateway just started, its first uplink
 * probe under way) are kept this long and answered once a probe gives a capacity: the
 * asking client is still collecting bids, and would otherwise wait for its retry.
 */
const UNANSWERED_RFQ_MS = 1_500;
/** At most this many such RFQs are kept (one per client, newest). */
const MAX_UNANSWERED_RFQS = 64;
/** Per-client loads are measured over this interval (the simulator's flow tick is 1 s). */
export const LOAD_SAMPLE_MS = 2_000;

export class GatewayBidding {
  readonly #d: GatewayBiddingDeps;
  readonly #market: GatewayMarket;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Client hex → its latest RFQ heard with no capacity to bid, and when. */
  readonly #unanswered = new Map<string, { rfq: RfqBody; at: number }>();
  #sampler: NodeJS.Timeout | undefined;
  #lastServed: { at: number; bytes: ReadonlyMap<string, number> } | undefined;

  constructor(deps: GatewayBiddingDeps) {
    this.#d = deps;
    this.#market = new GatewayMarket({ ...deps.options, self: deps.self, priceMsatPerKiB: deps.price() });
    if (deps.servedByClient) {
      this.#sampler = setInterval(() => this.sampleLoads(), LOAD_SAMPLE_MS);
      this.#sampler.unref?.();
    }
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#sampler) clearInterval(this.#sampler);
    this.#timer = undefined;
    this.#sampler = undefined;
  }

  /** Each client's load since the last sample (kbit/s); a client with no channel left is at 0. */
  sampleLoads(): void {
    if (this.#stopped || !this.#d.servedByClient) return;
    const now = this.#d.clock();
    const bytes = this.#d.servedByClient();
    const last = this.#lastServed;
    this.#lastServed = { at: now, bytes };
    if (!last || now <= last.at) return;
    for (const [client, b] of bytes) {
      // A channel settled and left memory: the sum fell; this interval says nothing.
      const delta = b - (last.bytes.get(client) ?? 0);
      if (delta >= 0) this.#market.handle({ type: 'clientLoad', client, kbps: (delta * 8) / (now - last.at) }, now);
    }
    for (const client of last.bytes.keys()) if (!bytes.has(client)) this.#market.handle({ type: 'clientLoad', client, kbps: 0 }, now);
  }

  /** An RFQ heard on the mesh (unsigned; the market checks its time stamp). */
  onRfq(rfq: RfqBody): void {
    if (this.#stopped) return;
    const now = this.#d.clock();
    // Fresh inputs before every bid: the estimate moves with served load, the ask with the operator.
    this.#market.handle({ type: 'estimate', estimate: this.#d.estimate(now) }, now);
    this.#market.handle({ type: 'ask', priceMsatPerKiB: this.#d.price(), selling: this.#d.selling() }, now);
    const before = this.#market.counters.bids;
    this.#market.handle({ type: 'rfq', rfq }, now);
    if (this.#market.counters.bids === before && this.#d.estimate(now).capacityKbps <= 0) this.#keepUnanswered(rfq, now);
    this.#drain(now);
  }

  /** The estimate may have grown (an uplink probe finished): answer the RFQs we could not. */
  retryUnanswered(): void {
    if (this.#stopped || this.#unanswered.size === 0) return;
    const now = this.#d.clock();
    const kept = [...this.#unanswered.values()];
    this.#unanswered.clear();
    for (const { rfq, at } of kept) if (now - at <= UNANSWERED_RFQ_MS) this.onRfq(rfq);
  }

  #keepUnanswered(rfq: RfqBody, now: number): void {
    const client = Buffer.from(rfq.sender).toString('hex');
    this.#unanswered.delete(client);
    if (this.#unanswered.size >= MAX_UNANSWERED_RFQS) this.#unanswered.delete(this.#unanswered.keys().next().value!);
    this.#unanswered.set(client, { rfq, at: now });
  }

  /** An authenticated AWARD (signature, time window and replay checked by the control plane). */
  onAward(award: AwardBody): void {
    if (this.#stopped) return;
    const now = this.#d.clock();
    this.#market.handle({ type: 'award', award }, now);
    this.#drain(now);
  }

  awards(): readonly GatewayAward[] {
    return this.#market.awards();
  }

  status(): GatewayBiddingStatus {
    const now = this.#d.clock();
    return {
      counters: structuredClone(this.#market.counters),
      awards: this.#market.awards().map((a) => ({ client: a.client, priceMsatPerKiB: a.priceMsatPerKiB, untilMs: a.until - now })),
    };
  }

  #drain(now: number): void {
    for (const e of this.#market.poll()) this.#effect(e);
    this.#arm(now);
  }

  #effect(e: GatewayMarketEffect): void {
    const { log } = this.#d;
    switch (e.type) {
      case 'sendBid':
        this.#d.sendBid(e.to, e.body);
        log.debug('bid sent', { client: e.to.slice(0, 16), priceMsatPerKiB: e.body.priceMsatPerKiB, capacityKbps: e.body.capacityKbps });
        return;
      case 'awardAccepted':
        log.info('award won', { client: e.client.slice(0, 16), priceMsatPerKiB: e.priceMsatPerKiB, termMs: e.termMs });
        this.#d.onEvent('award_won', { role: 'gateway', client: e.client, priceMsatPerKiB: e.priceMsatPerKiB, termMs: e.termMs });
        return;
      case 'awardRefused':
        log.info('award refused', { client: e.client.slice(0, 16), reason: e.reason });
        return;
      case 'awardEnded':
        log.info('award ended', { client: e.client.slice(0, 16) });
        this.#d.onEvent('award_lost', { role: 'gateway', client: e.client, reason: 'term_ended' });
        return;
      case 'reclaimed':
        // The re-quote: the client re-auctions now (client-market.ts, Re-quote).
        this.#d.sendBid(e.client, e.body);
        log.info('award reclaimed for a client paying more', { client: e.client.slice(0, 16), priceMsatPerKiB: e.body.priceMsatPerKiB });
        this.#d.onEvent('award_lost', { role: 'gateway', client: e.client, reason: 'reclaimed' });
        return;
      default: {
        // A new effect must be handled here, not silently dropped.
        const _: never = e;
        log.error('market effect not handled', { effect: (_ as { type: string }).type });
      }
    }
  }

  #arm(now: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.#market.pollTimeout();
    if (due === undefined || this.#stopped) return;
    this.#timer = setTimeout(() => {
      const t = this.#d.clock();
      this.#market.handleTimeout(t);
      this.#drain(t);
    }, Math.max(0, due - now));
    this.#timer.unref?.();
  }
}
