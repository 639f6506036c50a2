// The client side of the market: decide when to auction, run the auction over the
// sealed bids, award, watch delivery, and fail over.
//
// Theory of operation (states, transitions in TRANSITIONS below):
//   idle ──demand──▶ collecting ──bids_closed_award──▶ awarded ──term_ended/better_offer──▶ reauctioning
//                      │  ▲ retry_due                    │                                      │
//         bids_closed_empty  waiting                     └─delivery_failed──▶ collecting ◀──────┘ delivery_failed
//   reauctioning ──bids_closed_award──▶ awarded (same or new gateway)
//   reauctioning ──bids_closed_empty──▶ awarded (incumbent kept for `retryMs`, then again)
//   awarded ──probe_failed/shortfall/requoted──▶ reauctioning (as better_offer)
//   any state ──demand_gone──▶ idle (stop paying)
//
// Rules:
// - Auction: RFQ out, bids collected for `collectMs`, then auction.ts decides. Bids for
//   another client or another RFQ, or late, are dropped and counted.
// - Term: the winner's bid term clamped to [minTermMs, maxTermMs]; at its end the
//   incumbent is re-auctioned against the others with `incumbentBonus` on its
//   expected goodput (1 by default: see constants.ts), and keeps being paid meanwhile.
// - Better offer: once `minHoldMs` has passed, an OFFER whose expected goodput per price
//   beats the incumbent's by `betterOfferRatio` starts a re-auction early.
// - Re-quote: a BID from our gateway for the rfqId of the award in force, with capacity
//   0, says it gave our capacity to a client paying more (gateway-market.ts,
//   Reclaiming). We re-auction at once, still paying it meanwhile, and it is not a
//   failure: nothing was promised that was not delivered. (No bid offers capacity 0,
//   so a late copy of the winning bid is never taken for one.)
// - Failure: while backlogged (the client wanted more than it got), no byte from the
//   incumbent for `failoverMs` (one tick interval; `startupGraceMs` after an award for
//   the channel to open, over at the first byte delivered under it) → stop paying at
//   once, the gateway sits out auctions for `failureBanMs`, doubled for each further
//   failure within an hour of the last (at most 30 minutes), and a new auction starts.
//   A failure is no reputation sample: an outage (a DSL resync, a reboot) says nothing
//   about how truthful a gateway's claims are once it is back, and a gateway distrusted
//   for hours after one outage stays empty while clients elsewhere queue for capacity.
// - Measurement: delivered bytes are summed over `measureWindowMs` windows; a window
//   that was backlogged throughout gives our own goodput measurement of the gateway and
//   a reputation sample (delivered against min(wanted, claim × link quality)).
// - Shortfall: such a window, begun after traffic first came under the award, that got
//   under `probePassRatio` of a stated rate the gateway claimed it could carry (wanted
//   the least of wanted, claim × link quality and path) starts a re-auction at once, paying the
//   incumbent meanwhile, as a failed probe does; it is no report (a window cannot tell
//   an over-claim from clients who picked one gateway at the same moment). Without it a
//   client on an oversold gateway waited for its probe, or `minHoldMs` for a better
//   offer: in the simulator, liars oversold at arrival cost the first minute 4–6 points.
//   A client that wants all it can get is never short of a claim this way: it shares.
// - Capacity probe: a client whose demand fits a gateway's real uplink never sees it
//   fall short of a claim, so over-claiming would go unnoticed by exactly the clients
//   it keeps. Under each new or renewed award, at a random moment within
//   `probeDelayMaxMs` of it (so that clients awarded together do not probe the same
//   uplink at once) and once traffic flows, if the claim (× link quality, capped by the
//   path's throughput) exceeds what we want by `probeMinExcess`, the client asks the
//   agent (effect `probe`) to pull that much for `probeMs`. When every delivery report
//   of that window is marked `probing`, the probe is a reputation sample counting
//   `probeWeight` times: 1 if it got at least `probePassRatio` of its target (a
//   shortfall that noise or another client's probe at the same moment explains),
//   else delivered/target; a failed probe starts a re-auction at once. An honest
//   gateway, full or not, bids only its real spare and passes. An agent that ignores
//   the effect never probes.
// - Joint probe (joint-probe.ts): besides, at each of our gateway's slots (every
//   `jointProbePeriodMs`, the same moments for all its clients), once traffic flows
//   and no probe is under way, we probe again for our own rate plus our load share of
//   the spare its latest offer claims. Judged, reported and acted on as a probe; it
//   catches a liar whose real spare is more than any one client's path carries.
// - Reports: a probe that got under `reportMaxRatio` of its target (and more than
//   nothing: nothing is an outage) is reported if the gateway's next offer, within
//   `reportConfirmMs`, still claims spare of at least half the shortfall: it keeps
//   claiming room it just failed to deliver. An honest gateway that filled up between
//   its bid and our probe (clients arriving together) offers no such spare. Reporting
//   is asking the agent to flood a signed REPORT (effect `sendReport`; report.ts says
//   why it cannot be forged cheaply). A report heard from another client is a
//   reputation sample counting `reportWeight` times, and `reportBanCount` distinct
//   reporters within `reportBanMs` ban the gateway for `reportBanMs`: the clients a
//   liar keeps are those it serves as well as anyone could, and only others' evidence
//   can move them. If it is our gateway, we re-auction as for a failed probe of our
//   own; the ban keeps it out.
// - Reliability: the reputation discount also multiplies the whole expected goodput
//   (score.ts), so a gateway caught over-claiming loses even clients it serves well.
// - Better offers are compared as they arrive (only the new one), and all of them
//   again only when the incumbent's own expected goodput fell since the last full
//   comparison: nothing else in the comparison changes between offers.
// - Exploration: in each auction, with probability `explorationRate` (drawn from the
//   injected RNG, one draw per auction), an eligible gateway that is rarely tried
//   (fewer than `exploreMaxSamples` effective reputation samples and no own
//   measurement) other than the winner may win a trial of `trialTermMs` instead,
//   chosen uniformly with a second draw. A trial pays the gateway's own bid: that
//   leaks a little truthfulness (a gateway could shade up in the hope of a trial), but
//   trials are rare and end once the gateway has a record.
// - Every table is bounded by `maxGateways`; the machine never reads a clock or a
//   random source: `now` and `rng` come in.
import { hexToBytes } from '@noble/hashes/utils.js';
import type { AwardBody, BidBody, OfferBody, RfqBody } from '../wire/messages.js';
import { nodeIdHex } from '../wire/node-id.js';
import { runAuction, type AuctionOutcome, type Candidate } from './auction.js';
import { jointProbeTargetKbps, nextJointProbeSlot } from './joint-probe.js';
import { ReportTally } from './report.js';
import {
  BITS_PER_BYTE,
  DEFAULT_BETTER_OFFER_RATIO,
  DEFAULT_COLLECT_MS,
  DEFAULT_EXPLORATION_RATE,
  DEFAULT_EXPLORE_MAX_SAMPLES,
  DEFAULT_FAILOVER_MS,
  DEFAULT_FAILURE_BAN_MS,
  DEFAULT_INCUMBENT_BONUS,
  DEFAULT_JOINT_PROBE_PERIOD_MS,
  DEFAULT_MAX_GATEWAYS,
  DEFAULT_MAX_TERM_MS,
  DEFAULT_RANK_BY_SURPLUS,
  DEFAULT_MEASURE_WINDOW_MS,
  DEFAULT_MIN_HOLD_MS,
  DEFAULT_MIN_TERM_MS,
  DEFAULT_OFFER_MAX_AGE_MS,
  DEFAULT_OWN_GOODPUT_MAX_AGE_MS,
  DEFAULT_PROBE_DELAY_MAX_MS,
  DEFAULT_PROBE_MIN_EXCESS,
  DEFAULT_PROBE_MS,
  DEFAULT_PROBE_PASS_RATIO,
  DEFAULT_PROBE_WEIGHT,
  DEFAULT_REPORT_BAN_COUNT,
  DEFAULT_REPORT_BAN_MS,
  DEFAULT_REPORT_CONFIRM_MS,
  DEFAULT_REPORT_MAX_RATIO,
  DEFAULT_REPORT_WEIGHT,
  DEFAULT_RETRY_MS,
  DEFAULT_STARTUP_GRACE_MS,
  DEFAULT_TRIAL_TERM_MS,
} from './constants.js';
import { MarketOptionError, MarketStateError } from './errors.js';
import { LruMap } from './lru-map.js';
import type { ReputationTable } from './reputation.js';
import { compareScored, expectedGoodputKbps, type GatewayView, type Scored } from './score.js';

/** Uniform in [0, 1). Injected: the simulator seeds it, the agent uses crypto randomness. */
export type Rng = () => number;

export const CLIENT_MARKET_STATES = ['idle', 'collecting', 'waiting', 'awarded', 'reauctioning'] as const;
export type ClientMarketState = (typeof CLIENT_MARKET_STATES)[number];

export type ClientMarketEvent =
  | 'demand'
  | 'demand_gone'
  | 'bids_closed_award'
  | 'bids_closed_empty'
  | 'retry_due'
  | 'term_ended'
  | 'better_offer'
  | 'delivery_failed'
  | 'probe_failed'
  | 'shortfall'
  | 'requoted';

/** The only allowed transitions; anything else is a bug (MarketStateError). */
export const TRANSITIONS: Readonly<Record<ClientMarketState, Partial<Record<ClientMarketEvent, ClientMarketState>>>> = {
  idle: { demand: 'collecting' },
  collecting: { bids_closed_award: 'awarded', bids_closed_empty: 'waiting', demand_gone: 'idle' },
  waiting: { retry_due: 'collecting', demand_gone: 'idle' },
  awarded: {
    term_ended: 'reauctioning',
    better_offer: 'reauctioning',
    probe_failed: 'reauctioning',
    shortfall: 'reauctioning',
    requoted: 'reauctioning',
    delivery_failed: 'collecting',
    demand_gone: 'idle',
  },
  reauctioning: { bids_closed_award: 'awarded', bids_closed_empty: 'awarded', delivery_failed: 'collecting', demand_gone: 'idle' },
};

export type ClientMarketInput =
  /** How much upstream the client wants now; 0 = none. */
  | { readonly type: 'demand'; readonly wantedKbps: number }
  /** An authenticated BID (signature, time window and replay already checked). */
  | { readonly type: 'bid'; readonly bid: BidBody }
  /** An authenticated OFFER beacon. */
  | { readonly type: 'offer'; readonly offer: OfferBody }
  /**
   * Mesh link quality to a gateway (hex id), 0..1, and, when the source measures it
   * (batman-adv V throughput, iw bitrates), the path's throughput in kbit/s: a cap on
   * what any gateway behind that path can deliver to us.
   */
  | { readonly type: 'linkQuality'; readonly gateway: string; readonly quality: number; readonly pathKbps?: number }
  /**
   * Bytes received through `gateway` since the last report (both directions, as
   * billed), and whether the client wanted more than it got over that interval. The
   * adapter reports at least once per `failoverMs` while an award is in force.
   * `probing`: the interval was part of a capacity probe (effect `probe`).
   */
  | { readonly type: 'delivery'; readonly gateway: string; readonly bytes: number; readonly backlogged: boolean; readonly probing?: boolean }
  /**
   * Another client's REPORT against `gateway`, its proof already checked (report.ts
   * checkReport): its probe got `deliveredKbps` of `targetKbps`.
   */
  | { readonly type: 'report'; readonly reporter: string; readonly gateway: string; readonly deliveredKbps: number; readonly targetKbps: number };

export type StopReason = 'failure' | 'replaced' | 'no_demand';

export type ClientMarketEffect =
  /** Broadcast an RFQ; the agent adds `sender` and `ts`. */
  | { readonly type: 'sendRfq'; readonly body: Omit<RfqBody, 'sender' | 'ts'> }
  /** Send a signed AWARD to the gateway `to` (hex); the agent adds the signed header. */
  | { readonly type: 'sendAward'; readonly to: string; readonly body: Omit<AwardBody, 'sender' | 'ts' | 'nonce'> }
  /** Route through and pay `gateway` at this price until `until` (open or reuse the channel). */
  | {
      readonly type: 'awardChanged';
      readonly gateway: string;
      readonly priceMsatPerKiB: number;
      readonly termMs: number;
      readonly until: number;
      readonly trial: boolean;
      /** The same gateway as before, with a new term. */
      readonly renewed: boolean;
    }
  /** Reveal no further tick to `gateway`, at once. */
  | { readonly type: 'stopPaying'; readonly gateway: string; readonly reason: StopReason }
  /**
   * Pull up to `kbps` through `gateway` (bulk traffic, paid as usual) until `until`, and
   * report those deliveries with `probing: true`. Optional: ignoring it disables probing.
   */
  | { readonly type: 'probe'; readonly gateway: string; readonly kbps: number; readonly until: number }
  /**
   * Our probe of `gateway` got under `reportMaxRatio` of its target: flood a signed
   * REPORT with the gateway's ACCEPT as proof (report.ts). Optional: an agent that holds
   * no ACCEPT from it, or ignores the effect, reports nothing.
   */
  | { readonly type: 'sendReport'; readonly gateway: string; readonly deliveredKbps: number; readonly targetKbps: number };

export interface ClientMarketOptions {
  /** Our own node id (hex); bids addressed elsewhere are dropped. */
  readonly self: string;
  readonly maxPriceMsatPerKiB: number;
  readonly collectMs: number;
  readonly retryMs: number;
  readonly minTermMs: number;
  readonly maxTermMs: number;
  readonly failoverMs: number;
  readonly startupGraceMs: number;
  readonly failureBanMs: number;
  readonly minHoldMs: number;
  readonly betterOfferRatio: number;
  readonly incumbentBonus: number;
  readonly explorationRate: number;
  readonly exploreMaxSamples: number;
  readonly trialTermMs: number;
  readonly measureWindowMs: number;
  readonly ownGoodputMaxAgeMs: number;
  readonly offerMaxAgeMs: number;
  readonly maxGateways: number;
  /** Rank by surplus at maxPrice rather than goodput per price (score.ts compareScored). */
  readonly rankBySurplus: boolean;
  /** Length of the capacity probe after each award; 0 = never probe. */
  readonly probeMs: number;
  /** The probe starts at a uniformly random moment this long after the award, at most. */
  readonly probeDelayMaxMs: number;
  /** Reputation samples one probe counts as. */
  readonly probeWeight: number;
  /** Share of its target a probe must get to pass. */
  readonly probePassRatio: number;
  /** Probe only claims above this factor × wanted. */
  readonly probeMinExcess: number;
  /** Period of a gateway's joint-probe slots (joint-probe.ts); 0 = no joint probes. */
  readonly jointProbePeriodMs: number;
  /** Multiply the whole expected goodput by the reputation discount (score.ts reliability). */
  readonly reliabilityFromReputation: boolean;
  /** A probe under this share of its target is reported, and only such reports are heard. */
  readonly reportMaxRatio: number;
  /** Reputation samples a heard report counts as; 0 = reports are neither sent nor heard. */
  readonly reportWeight: number;
  /** Distinct reporters within `reportBanMs` that get a gateway banned; 0 = never. */
  readonly reportBanCount: number;
  /** How long reports count, and how long a reported gateway sits out auctions. */
  readonly reportBanMs: number;
  /** How long after a failed probe the gateway's next offer may confirm the report. */
  readonly reportConfirmMs: number;
}

export const DEFAULT_CLIENT_MARKET_OPTIONS: Omit<ClientMarketOptions, 'self' | 'maxPriceMsatPerKiB'> = {
  collectMs: DEFAULT_COLLECT_MS,
  retryMs: DEFAULT_RETRY_MS,
  minTermMs: DEFAULT_MIN_TERM_MS,
  maxTermMs: DEFAULT_MAX_TERM_MS,
  failoverMs: DEFAULT_FAILOVER_MS,
  startupGraceMs: DEFAULT_STARTUP_GRACE_MS,
  failureBanMs: DEFAULT_FAILURE_BAN_MS,
  minHoldMs: DEFAULT_MIN_HOLD_MS,
  betterOfferRatio: DEFAULT_BETTER_OFFER_RATIO,
  incumbentBonus: DEFAULT_INCUMBENT_BONUS,
  explorationRate: DEFAULT_EXPLORATION_RATE,
  exploreMaxSamples: DEFAULT_EXPLORE_MAX_SAMPLES,
  trialTermMs: DEFAULT_TRIAL_TERM_MS,
  measureWindowMs: DEFAULT_MEASURE_WINDOW_MS,
  ownGoodputMaxAgeMs: DEFAULT_OWN_GOODPUT_MAX_AGE_MS,
  offerMaxAgeMs: DEFAULT_OFFER_MAX_AGE_MS,
  maxGateways: DEFAULT_MAX_GATEWAYS,
  rankBySurplus: DEFAULT_RANK_BY_SURPLUS,
  probeMs: DEFAULT_PROBE_MS,
  probeDelayMaxMs: DEFAULT_PROBE_DELAY_MAX_MS,
  probeWeight: DEFAULT_PROBE_WEIGHT,
  probePassRatio: DEFAULT_PROBE_PASS_RATIO,
  probeMinExcess: DEFAULT_PROBE_MIN_EXCESS,
  jointProbePeriodMs: DEFAULT_JOINT_PROBE_PERIOD_MS,
  reliabilityFromReputation: true,
  reportMaxRatio: DEFAULT_REPORT_MAX_RATIO,
  reportWeight: DEFAULT_REPORT_WEIGHT,
  reportBanCount: DEFAULT_REPORT_BAN_COUNT,
  reportBanMs: DEFAULT_REPORT_BAN_MS,
  reportConfirmMs: DEFAULT_REPORT_CONFIRM_MS,
};

/** The award in force. */
export interface ClientAward {
  readonly gateway: string;
  readonly rfqId: Uint8Array;
  readonly priceMsatPerKiB: number;
  /** What the gateway bid: its ask and its capacity claim. */
  readonly bidPriceMsatPerKiB: number;
  readonly claimKbps: number;
  readonly termMs: number;
  readonly since: number;
  readonly until: number;
  readonly trial: boolean;
}

export interface ClientMarketCounters {
  auctions: number;
  awards: number;
  switches: number;
  renewals: number;
  failures: number;
  explorations: number;
  emptyAuctions: number;
  betterOffers: number;
  droppedBids: number;
  probes: number;
  /** Of `probes`, the joint ones. */
  jointProbes: number;
  probesFailed: number;
  /** Re-auctions because a window got under half of the stated rate the gateway claimed it could carry. */
  shortfalls: number;
  requotes: number;
  /** Reports we asked to send (effect sendReport). */
  reportsSent: number;
  /** Failed probes not reported: the gateway's next offer showed it had filled up. */
  reportsWithdrawn: number;
  /** Reports heard and taken (a shortfall under reportMaxRatio, not our own). */
  reportsHeard: number;
  /** Gateways banned because enough distinct clients reported them. */
  reportBans: number;
}

interface Measurement {
  readonly kbps: number;
  readonly at: number;
}

/** Weight of a new window in our own goodput measurement of a gateway. */
const OWN_GOODPUT_ALPHA = 0.3;
/** A failure this long after the last one starts the ban over at failureBanMs. */
const FAILURE_MEMORY_MS = 60 * 60_000;
/** The longest a failing gateway is banned, however often it failed. */
const FAILURE_BAN_MAX_MS = 30 * 60_000;
/** handleTimeout settles at most this many expired deadlines per call (each moves time-driven state forward). */
const MAX_TIMEOUT_STEPS = 8;
/** All offers are compared again once the incumbent's expected goodput fell by this share. */
const RESCAN_DROP = 0.02;

export class ClientMarket {
  readonly #o: ClientMarketOptions;
  readonly #reputation: ReputationTable;
  readonly #rng: Rng;
  #state: ClientMarketState = 'idle';
  #wantedKbps = 0;
  #effects: ClientMarketEffect[] = [];
  // auction in progress
  #rfqId: Uint8Array | undefined;
  #bidsClose: number | undefined;
  #bids: LruMap<string, BidBody>;
  // waiting
  #retryAt: number | undefined;
  // award in force
  #award: ClientAward | undefined;
  #graceUntil = 0;
  #stalledSince: number | undefined;
  #lastReportAt: number | undefined;
  /** The rate of the last delivery report (kbit/s). */
  #lastKbps = 0;
  #window: { start: number; bytes: number; backlogged: boolean; probeKbps?: number; probing?: boolean } | undefined;
  /** A probe is due from this time on, once traffic flows under the award in force. */
  #probeAt: number | undefined;
  /** Our gateway's next joint-probe slot. */
  #jointAt: number | undefined;
  /** Our last failed probe far under its target, until the gateway's next offer says whether to report it. */
  #pendingReport: { gateway: string; deliveredKbps: number; targetKbps: number; until: number } | undefined;
  /** The incumbent's expected goodput at the last full better-offer comparison. */
  #lastScan: { since: number; goodputKbps: number } | undefined;
  // what we know about gateways
  readonly #links: LruMap<string, { quality: number; pathKbps: number | undefined }>;
  readonly #own: LruMap<string, Measurement>;
  readonly #offers: LruMap<string, { offer: OfferBody; at: number }>;
  readonly #bannedUntil: LruMap<string, number>;
  /** Failures per gateway within FAILURE_MEMORY_MS of the last: each doubles the ban. */
  readonly #failed: LruMap<string, { count: number; at: number }>;
  readonly counters: ClientMarketCounters = {
    auctions: 0,
    awards: 0,
    switches: 0,
    renewals: 0,
    failures: 0,
    explorations: 0,
    emptyAuctions: 0,
    betterOffers: 0,
    droppedBids: 0,
    probes: 0,
    jointProbes: 0,
    probesFailed: 0,
    shortfalls: 0,
    requotes: 0,
    reportsSent: 0,
    reportsWithdrawn: 0,
    reportsHeard: 0,
    reportBans: 0,
  };
  readonly #reports: ReportTally;
  #lastOutcome: AuctionOutcome | undefined;

  constructor(
    opts: Partial<ClientMarketOptions> & Pick<ClientMarketOptions, 'self' | 'maxPriceMsatPerKiB'>,
    reputation: ReputationTable,
    rng: Rng,
  ) {
    this.#o = { ...DEFAULT_CLIENT_MARKET_OPTIONS, ...opts };
    const o = this.#o;
    if (!(o.minTermMs > 0 && o.minTermMs <= o.maxTermMs)) throw new MarketOptionError('need 0 < minTermMs ≤ maxTermMs');
    if (!(o.collectMs > 0 && o.retryMs > 0 && o.failoverMs > 0 && o.measureWindowMs > 0)) {
      throw new MarketOptionError('collectMs, retryMs, failoverMs and measureWindowMs must be > 0');
    }
    if (!(o.betterOfferRatio >= 1 && o.incumbentBonus >= 1)) throw new MarketOptionError('betterOfferRatio and incumbentBonus must be ≥ 1');
    if (!(o.explorationRate >= 0 && o.explorationRate <= 1)) throw new MarketOptionError('explorationRate must be in [0, 1]');
    if (
      !(o.probeMs >= 0 && o.probeDelayMaxMs >= 0 && o.probeWeight >= 1 && o.probePassRatio > 0 && o.probePassRatio <= 1 && o.probeMinExcess >= 1) ||
      !(o.jointProbePeriodMs >= 0 && Number.isSafeInteger(o.jointProbePeriodMs))
    ) {
      throw new MarketOptionError(
        'need probeMs ≥ 0, probeDelayMaxMs ≥ 0, probeWeight ≥ 1, 0 < probePassRatio ≤ 1, probeMinExcess ≥ 1 and an integer jointProbePeriodMs ≥ 0',
      );
    }
    this.#reputation = reputation;
    this.#rng = rng;
    this.#bids = new LruMap(o.maxGateways);
    this.#links = new LruMap(o.maxGateways);
    this.#own = new LruMap(o.maxGateways);
    this.#offers = new LruMap(o.maxGateways);
    this.#bannedUntil = new LruMap(o.maxGateways);
    this.#failed = new LruMap(o.maxGateways);
    if (!(o.reportMaxRatio >= 0 && o.reportMaxRatio <= 1 && o.reportWeight >= 0 && o.reportBanCount >= 0 && o.reportBanMs >= 0 && o.reportConfirmMs >= 0)) {
      throw new MarketOptionError('need 0 ≤ reportMaxRatio ≤ 1, and reportWeight, reportBanCount, reportBanMs and reportConfirmMs ≥ 0');
    }
    this.#reports = new ReportTally({ banCount: o.reportWeight > 0 ? o.reportBanCount : 0, banMs: o.reportBanMs, maxGateways: o.maxGateways });
  }

  get state(): ClientMarketState {
    return this.#state;
  }

  get award(): ClientAward | undefined {
    return this.#award;
  }

  /** The last auction's outcome (ranking, prices), for `bitmesh status` and tests. */
  get lastOutcome(): AuctionOutcome | undefined {
    return this.#lastOutcome;
  }

  /** How this client sees a gateway now (reputation, link, own measurement): status and diagnostics. */
  gatewayView(gateway: string, now: number): GatewayView {
    return this.#view(gateway, now);
  }

  /** How long ago the gateway's newest offer was heard, if within `offerMaxAgeMs`. */
  offerAgeMs(gateway: string, now: number): number | undefined {
    const heard = this.#offers.peek(gateway);
    return heard && now - heard.at <= this.#o.offerMaxAgeMs ? now - heard.at : undefined;
  }

  get wantedKbps(): number {
    return this.#wantedKbps;
  }

  /** Our own goodput measurement of a gateway, if fresh. */
  ownGoodputKbps(gateway: string, now: number): number | undefined {
    const m = this.#own.peek(gateway);
    return m && now - m.at <= this.#o.ownGoodputMaxAgeMs ? m.kbps : undefined;
  }

  handle(input: ClientMarketInput, now: number): void {
    switch (input.type) {
      case 'demand':
        return this.#onDemand(input.wantedKbps, now);
      case 'bid':
        return this.#onBid(input.bid, now);
      case 'offer':
        return this.#onOffer(input.offer, now);
      case 'linkQuality':
        if (Number.isFinite(input.quality)) {
          const path = input.pathKbps !== undefined && Number.isFinite(input.pathKbps) && input.pathKbps >= 0 ? input.pathKbps : undefined;
          this.#links.set(input.gateway, { quality: Math.min(1, Math.max(0, input.quality)), pathKbps: path });
        }
        return;
      case 'delivery':
        return this.#onDelivery(input.gateway, input.bytes, input.backlogged, input.probing === true, now);
      case 'report':
        return this.#onReport(input.reporter, input.gateway, input.deliveredKbps, input.targetKbps, now);
    }
  }

  /** The earliest deadline, or undefined when nothing is timed. Re-arm the one timer from this. */
  pollTimeout(): number | undefined {
    const ds = [this.#bidsClose, this.#retryAt, this.#award?.until, this.#watchdogDue()].filter((d): d is number => d !== undefined);
    return ds.length === 0 ? undefined : Math.min(...ds);
  }

  handleTimeout(now: number): void {
    for (let i = 0; i < MAX_TIMEOUT_STEPS; i++) {
      const due = this.pollTimeout();
      if (due === undefined || due > now) return;
      // Failure first: a dead gateway must stop being paid before anything else happens.
      const watchdog = this.#watchdogDue();
      if (watchdog !== undefined && watchdog <= now) this.#deliveryFailed(now);
      else if (this.#bidsClose !== undefined && this.#bidsClose <= now) this.#closeBids(now);
      else if (this.#retryAt !== undefined && this.#retryAt <= now) {
        this.#retryAt = undefined;
        this.#go('retry_due');
        this.#startAuction(now);
      } else if (this.#award && this.#award.until <= now) this.#termEnded(now);
    }
  }

  /** Drains the effects produced since the last call, in order. */
  poll(): ClientMarketEffect[] {
    const out = this.#effects;
    this.#effects = [];
    return out;
  }

  // --- inputs ---

  #onDemand(wantedKbps: number, now: number): void {
    const wanted = Number.isFinite(wantedKbps) && wantedKbps > 0 ? wantedKbps : 0;
    this.#wantedKbps = wanted;
    if (wanted > 0 && this.#state === 'idle') {
      this.#go('demand');
      this.#startAuction(now);
    } else if (wanted === 0 && this.#state !== 'idle') {
      this.#go('demand_gone');
      if (this.#award) this.#stop('no_demand');
      this.#rfqId = undefined;
      this.#bidsClose = undefined;
      this.#retryAt = undefined;
    }
  }

  #onBid(bid: BidBody, now: number): void {
    if (this.#isRequote(bid)) return this.#requoted(now);
    const open = this.#state === 'collecting' || this.#state === 'reauctioning';
    if (!open || !this.#rfqId || !bytesEqual(bid.rfqId, this.#rfqId) || nodeIdHex(bid.client) !== this.#o.self) {
      this.counters.droppedBids++;
      return;
    }
    this.#bids.set(nodeIdHex(bid.sender), bid); // the latest bid from a gateway replaces its earlier one
  }

  #onOffer(offer: OfferBody, now: number): void {
    const gateway = nodeIdHex(offer.sender);
    const known = this.#offers.peek(gateway);
    if (known && known.offer.seq >= offer.seq) return; // reordered or repeated beacon
    this.#offers.set(gateway, { offer, at: now });
    this.#confirmReport(offer, gateway, now);
    this.#checkBetterOffer(now, gateway);
  }

  /** See "Reports" above: the gateway's next offer decides whether our failed probe is reported. */
  #confirmReport(offer: OfferBody, gateway: string, now: number): void {
    const p = this.#pendingReport;
    if (!p || p.gateway !== gateway) return;
    this.#pendingReport = undefined;
    if (now > p.until) return;
    if (offer.spareKbps * 2 < p.targetKbps - p.deliveredKbps) {
      this.counters.reportsWithdrawn++; // it says it is full now: congestion, not a lie
      return;
    }
    this.counters.reportsSent++;
    this.#effects.push({ type: 'sendReport', gateway, deliveredKbps: p.deliveredKbps, targetKbps: p.targetKbps });
  }

  #onDelivery(gateway: string, bytes: number, backlogged: boolean, probing: boolean, now: number): void {
    const a = this.#award;
    if (!a || gateway !== a.gateway || !(bytes >= 0) || !Number.isFinite(bytes)) return;
    const since = this.#lastReportAt ?? a.since;
    this.#lastReportAt = now;
    if (now > since) this.#lastKbps = (bytes * BITS_PER_BYTE) / (now - since);
    if (bytes > 0) {
      this.#stalledSince = undefined;
      this.#graceUntil = Math.min(this.#graceUntil, now); // traffic flows: the channel is open, no more grace
    } else if (backlogged) this.#stalledSince ??= since;
    else this.#stalledSince = undefined;

    const w = (this.#window ??= { start: a.since, bytes: 0, backlogged: true });
    w.bytes += bytes;
    w.backlogged &&= backlogged;
    if (w.probeKbps !== undefined) w.probing &&= probing;
    if (now - w.start >= (w.probeKbps !== undefined ? this.#o.probeMs : this.#o.measureWindowMs)) {
      const kbps = (w.bytes * BITS_PER_BYTE) / (now - w.start);
      this.#window = { start: now, bytes: 0, backlogged: true };
      if (w.probeKbps === undefined) {
        if (w.backlogged) this.#measured(a, kbps, w.start >= this.#graceUntil, now);
      } else if (w.probing && this.#probed(a, kbps, w.probeKbps, now)) return;
      this.#checkBetterOffer(now);
    }
    const probeUnderWay = this.#window?.probeKbps !== undefined;
    if (bytes > 0 && this.#probeAt !== undefined && now >= this.#probeAt && this.#state === 'awarded' && !probeUnderWay) this.#startProbe(a, now);
    if (this.#jointAt !== undefined && now >= this.#jointAt) this.#startJointProbe(a, bytes, now);
  }

  /** See "Re-quote" above: our gateway's BID with capacity 0 for the award in force. */
  #isRequote(bid: BidBody): boolean {
    const a = this.#award;
    return (
      a !== undefined &&
      bid.capacityKbps === 0 &&
      bytesEqual(bid.rfqId, a.rfqId) &&
      nodeIdHex(bid.sender) === a.gateway &&
      nodeIdHex(bid.client) === this.#o.self
    );
  }

  #requoted(now: number): void {
    const a = this.#award as ClientAward;
    this.counters.requotes++;
    if (this.#state !== 'awarded') return; // already re-auctioning: that auction decides
    this.#go('requoted');
    this.#startAuction(now);
    this.#award = { ...a, until: Infinity };
  }

  /** See "Reports" above. */
  #onReport(reporter: string, gateway: string, delivered: number, target: number, now: number): void {
    const o = this.#o;
    if (!(o.reportWeight > 0) || reporter === o.self || gateway === o.self) return;
    if (!(target > 0 && delivered >= 0 && delivered < target * o.reportMaxRatio)) return;
    this.counters.reportsHeard++;
    this.#reputation.observe(gateway, delivered, target, now, o.reportWeight);
    if (!this.#reports.add(gateway, reporter, now)) return;
    if ((this.#bannedUntil.peek(gateway) ?? -Infinity) <= now) this.counters.reportBans++;
    this.#bannedUntil.set(gateway, now + o.reportBanMs);
    const a = this.#award;
    if (a && a.gateway === gateway && this.#state === 'awarded') {
      // As a failed probe of our own: re-auction at once, paying the incumbent meanwhile
      // (it may still be the best we can get if nothing else bids).
      this.#go('probe_failed');
      this.#startAuction(now);
      this.#award = { ...a, until: Infinity };
    }
  }

  /** See "Capacity probe" above. */
  #startProbe(a: ClientAward, now: number): void {
    this.#probeAt = undefined;
    if (!(this.#o.probeMs > 0)) return;
    const link = this.#links.peek(a.gateway);
    // The claim to test is the gateway's latest: its bid, or what its newest offer says
    // is spare now plus what we already get (others may have taken spare since the bid).
    const heard = this.#offers.peek(a.gateway);
    const latest = heard && heard.at >= a.since && now - heard.at <= this.#o.offerMaxAgeMs ? heard.offer.spareKbps + this.#lastKbps : Infinity;
    const claim = Math.min(a.claimKbps, latest);
    const target = Math.floor(Math.min(claim * (link?.quality ?? 1), link?.pathKbps ?? Infinity));
    if (!(target > this.#wantedKbps * this.#o.probeMinExcess)) return;
    this.#beginProbe(a, target, now);
  }

  /** A probe window of `probeMs` at `target`, and the effect asking the agent to pull. */
  #beginProbe(a: ClientAward, target: number, now: number): void {
    this.counters.probes++;
    this.#window = { start: now, bytes: 0, backlogged: true, probeKbps: target, probing: true };
    this.#effects.push({ type: 'probe', gateway: a.gateway, kbps: target, until: now + this.#o.probeMs });
  }

  /** See "Joint probe" above. The next slot is set whether or not this one probes. */
  #startJointProbe(a: ClientAward, bytes: number, now: number): void {
    this.#jointAt = nextJointProbeSlot(a.gateway, this.#o.jointProbePeriodMs, now);
    if (!(bytes > 0) || this.#state !== 'awarded' || this.#window?.probeKbps !== undefined) return;
    const heard = this.#offers.peek(a.gateway);
    if (!heard || now - heard.at > this.#o.offerMaxAgeMs) return;
    const joint = jointProbeTargetKbps(this.#lastKbps, heard.offer);
    if (joint === undefined) return;
    const link = this.#links.peek(a.gateway);
    const target = Math.floor(Math.min(joint * (link?.quality ?? 1), link?.pathKbps ?? Infinity));
    if (!(target > this.#wantedKbps * this.#o.probeMinExcess)) return; // as a solo probe: only claims above what we want
    this.counters.jointProbes++;
    this.#beginProbe(a, target, now);
  }

  /** A probe's result into the reputation; true when it failed and a re-auction started. */
  #probed(a: ClientAward, kbps: number, targetKbps: number, now: number): boolean {
    const pass = kbps >= targetKbps * this.#o.probePassRatio;
    this.#reputation.observe(a.gateway, pass ? targetKbps : kbps, targetKbps, now, this.#o.probeWeight);
    if (pass) return false;
    this.counters.probesFailed++;
    // Nothing at all is an outage (the watchdog's case), not an over-claim.
    if (this.#o.reportWeight > 0 && kbps > 0 && kbps < targetKbps * this.#o.reportMaxRatio) {
      this.#pendingReport = { gateway: a.gateway, deliveredKbps: Math.floor(kbps), targetKbps: Math.floor(targetKbps), until: now + this.#o.reportConfirmMs };
    }
    if (this.#state !== 'awarded') return false;
    this.#go('probe_failed');
    this.#startAuction(now);
    this.#award = { ...a, until: Infinity };
    return true;
  }

  // --- auction ---

  #startAuction(now: number): void {
    this.#rfqId = this.#newRfqId();
    this.#bids = new LruMap(this.#o.maxGateways);
    this.#bidsClose = now + this.#o.collectMs;
    this.counters.auctions++;
    this.#effects.push({
      type: 'sendRfq',
      body: { rfqId: this.#rfqId, wantedKbps: Math.ceil(this.#wantedKbps), maxPriceMsatPerKiB: this.#o.maxPriceMsatPerKiB },
    });
  }

  #closeBids(now: number): void {
    const rfqId = this.#rfqId as Uint8Array;
    this.#bidsClose = undefined;
    const outcome = runAuction(
      { wantedKbps: this.#wantedKbps, maxPriceMsatPerKiB: this.#o.maxPriceMsatPerKiB, bySurplus: this.#o.rankBySurplus },
      this.#candidates(now),
    );
    this.#lastOutcome = outcome;
    this.#rfqId = undefined;
    this.#bids = new LruMap(this.#o.maxGateways);
    const explore = this.#rng() < this.#o.explorationRate;
    if (outcome.kind === 'no_award') {
      this.counters.emptyAuctions++;
      this.#go('bids_closed_empty');
      if (this.#award) {
        // Nobody else bid and the incumbent did not answer: keep it briefly, then ask again.
        this.#award = { ...this.#award, until: now + this.#o.retryMs };
      } else this.#retryAt = now + this.#o.retryMs;
      return;
    }
    let { winner } = outcome;
    let price = outcome.priceMsatPerKiB;
    let trial = false;
    if (explore) {
      const pool = outcome.ranking.ranked.filter((r) => r !== winner && this.#rarelyTried(r.gateway, now));
      const pick = pool[Math.floor(this.#rng() * pool.length)];
      if (pick) {
        winner = pick;
        price = pick.priceMsatPerKiB;
        trial = true;
        this.counters.explorations++;
      }
    }
    const c = winner.candidate;
    const termMs = trial
      ? Math.min(this.#o.trialTermMs, Math.max(this.#o.minTermMs, c.termMs))
      : Math.min(this.#o.maxTermMs, Math.max(this.#o.minTermMs, c.termMs));
    this.#go('bids_closed_award');
    this.#awardTo({
      gateway: c.gateway,
      rfqId,
      priceMsatPerKiB: price,
      bidPriceMsatPerKiB: c.priceMsatPerKiB,
      claimKbps: c.capacityKbps,
      termMs,
      since: now,
      until: now + termMs,
      trial,
    });
  }

  #candidates(now: number): Candidate[] {
    const out: Candidate[] = [];
    for (const [gateway, bid] of this.#bids.entries()) {
      if ((this.#bannedUntil.peek(gateway) ?? -Infinity) > now) continue;
      const bonus = this.#award?.gateway === gateway ? this.#o.incumbentBonus : 1;
      out.push({
        gateway,
        priceMsatPerKiB: bid.priceMsatPerKiB,
        capacityKbps: bid.capacityKbps,
        termMs: bid.termMs,
        view: { ...this.#view(gateway, now), incumbentBonus: bonus },
      });
    }
    return out;
  }

  #view(gateway: string, now: number): GatewayView {
    const link = this.#links.peek(gateway);
    const own = this.ownGoodputKbps(gateway, now);
    const discount = this.#reputation.discount(gateway, now);
    return {
      discount,
      ...(this.#o.reliabilityFromReputation ? { reliability: discount } : {}),
      ...(link !== undefined ? { linkQuality: link.quality } : {}),
      ...(link?.pathKbps !== undefined ? { pathKbps: link.pathKbps } : {}),
      ...(own !== undefined ? { ownGoodputKbps: own } : {}),
    };
  }

  #rarelyTried(gateway: string, now: number): boolean {
    return this.#reputation.view(gateway, now).samples < this.#o.exploreMaxSamples && this.ownGoodputKbps(gateway, now) === undefined;
  }

  #awardTo(next: ClientAward): void {
    const prev = this.#award;
    const renewed = prev?.gateway === next.gateway;
    if (prev && !renewed) {
      this.#stop('replaced');
      this.counters.switches++;
    }
    if (renewed) this.counters.renewals++;
    this.counters.awards++;
    this.#award = next;
    this.#probeAt = this.#o.probeMs > 0 ? next.since + Math.floor(this.#rng() * this.#o.probeDelayMaxMs) : undefined;
    if (!renewed) {
      this.#jointAt =
        this.#o.probeMs > 0 && this.#o.jointProbePeriodMs > 0 ? nextJointProbeSlot(next.gateway, this.#o.jointProbePeriodMs, next.since) : undefined;
      this.#graceUntil = next.since + this.#o.startupGraceMs;
      this.#stalledSince = undefined;
      this.#lastReportAt = undefined;
      this.#window = undefined;
    }
    this.#effects.push({
      type: 'sendAward',
      to: next.gateway,
      body: { rfqId: next.rfqId, gateway: hexToBytes(next.gateway), priceMsatPerKiB: next.priceMsatPerKiB, termMs: next.termMs },
    });
    this.#effects.push({
      type: 'awardChanged',
      gateway: next.gateway,
      priceMsatPerKiB: next.priceMsatPerKiB,
      termMs: next.termMs,
      until: next.until,
      trial: next.trial,
      renewed,
    });
  }

  // --- award in force ---

  #termEnded(now: number): void {
    this.#go('term_ended');
    this.#startAuction(now);
    // Keep paying the incumbent while bids come in; its term is extended to the close.
    if (this.#award) this.#award = { ...this.#award, until: Infinity };
  }

  #watchdogDue(): number | undefined {
    if (!this.#award || this.#stalledSince === undefined) return undefined;
    return Math.max(this.#stalledSince + this.#o.failoverMs, this.#graceUntil);
  }

  #deliveryFailed(now: number): void {
    const a = this.#award as ClientAward;
    this.counters.failures++;
    // No reputation sample: an outage says nothing about how truthful the gateway's
    // claims are once it is back. Repeated failures are met by a longer ban instead.
    const prev = this.#failed.peek(a.gateway);
    const count = prev && now - prev.at <= FAILURE_MEMORY_MS ? prev.count + 1 : 1;
    this.#failed.set(a.gateway, { count, at: now });
    this.#bannedUntil.set(a.gateway, now + Math.min(this.#o.failureBanMs * 2 ** (count - 1), FAILURE_BAN_MAX_MS));
    this.#go('delivery_failed');
    this.#stop('failure');
    // Already collecting bids in a re-auction: keep that auction, the ban excludes the failed gateway.
    if (this.#bidsClose === undefined) this.#startAuction(now);
  }

  /** A backlogged window's rate; `trafficBefore`: bytes had come under this award before it started. */
  #measured(a: ClientAward, kbps: number, trafficBefore: boolean, now: number): void {
    const prev = this.#own.peek(a.gateway);
    const fresh = prev && now - prev.at <= this.#o.ownGoodputMaxAgeMs;
    this.#own.set(a.gateway, { kbps: fresh ? prev.kbps + OWN_GOODPUT_ALPHA * (kbps - prev.kbps) : kbps, at: now });
    // Expected = what the claim promised on this path: the path's own limit is not
    // the gateway's fault, so it does not count against its reputation.
    const link = this.#links.peek(a.gateway);
    const expected = Math.min(this.#wantedKbps, a.claimKbps * (link?.quality ?? 1), link?.pathKbps ?? Infinity);
    this.#reputation.observe(a.gateway, kbps, expected, now);
    // See "Shortfall" above.
    if (trafficBefore && expected >= this.#wantedKbps && kbps < expected * this.#o.probePassRatio && this.#state === 'awarded') {
      this.counters.shortfalls++;
      this.#go('shortfall');
      this.#startAuction(now);
      this.#award = { ...a, until: Infinity };
    }
  }

  /** Compares offers with the incumbent: only `only`'s new one, or all (see the rules). */
  #checkBetterOffer(now: number, only?: string): void {
    const a = this.#award;
    if (this.#state !== 'awarded' || !a || now < a.since + this.#o.minHoldMs) return;
    const incumbent: Scored = {
      gateway: a.gateway,
      priceMsatPerKiB: a.bidPriceMsatPerKiB,
      goodputKbps: expectedGoodputKbps(a.claimKbps, this.#wantedKbps, this.#view(a.gateway, now)),
    };
    let offers: Iterable<[string, { offer: OfferBody; at: number }]>;
    if (only !== undefined) {
      const one = this.#offers.peek(only);
      offers = one ? [[only, one]] : [];
    } else {
      const last = this.#lastScan;
      if (last && last.since === a.since && incumbent.goodputKbps >= last.goodputKbps * (1 - RESCAN_DROP)) return;
      this.#lastScan = { since: a.since, goodputKbps: incumbent.goodputKbps };
      offers = this.#offers.entries();
    }
    for (const [gateway, { offer, at }] of offers) {
      if (gateway === a.gateway || now - at > this.#o.offerMaxAgeMs) continue;
      if ((this.#bannedUntil.peek(gateway) ?? -Infinity) > now) continue;
      if (offer.priceMsatPerKiB > this.#o.maxPriceMsatPerKiB) continue;
      const g = expectedGoodputKbps(offer.spareKbps, this.#wantedKbps, this.#view(gateway, now));
      if (!(g > 0)) continue;
      // Better by the ratio: its goodput shrunk by the ratio must still rank first.
      const handicapped: Scored = { gateway, priceMsatPerKiB: offer.priceMsatPerKiB, goodputKbps: g / this.#o.betterOfferRatio };
      if (compareScored(handicapped, incumbent, this.#o.rankBySurplus ? this.#o.maxPriceMsatPerKiB : undefined) < 0) {
        this.counters.betterOffers++;
        this.#go('better_offer');
        this.#startAuction(now);
        this.#award = { ...a, until: Infinity };
        return;
      }
    }
  }

  // --- helpers ---

  #stop(reason: StopReason): void {
    const a = this.#award as ClientAward;
    this.#effects.push({ type: 'stopPaying', gateway: a.gateway, reason });
    this.#award = undefined;
    this.#stalledSince = undefined;
    this.#window = undefined;
  }

  #go(event: ClientMarketEvent): void {
    const next = TRANSITIONS[this.#state][event];
    if (next === undefined) throw new MarketStateError(`no transition from ${this.#state} on ${event}`);
    this.#state = next;
  }

  #newRfqId(): Uint8Array {
    const id = new Uint8Array(8);
    for (let i = 0; i < id.length; i++) id[i] = Math.floor(this.#rng() * 256) & 0xff;
    return id;
  }
}

function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

