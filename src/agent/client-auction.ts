// The client's side of the auction, wired: the ClientMarket machine decides (RFQ,
// sealed bids, award at the quality-adjusted second price, hysteresis, failover);
// this adapter feeds it what the agent sees and performs what it asks.
//
// Inputs in:  BIDs and OFFERs from the control plane, bytes received per channel
//             (our own measurement of each gateway: the SOCKS endpoint in proxy mode,
//             the kernel meter in nft mode), demand (new local connections; nft: bytes
//             sent upstream), neighbour expiry of the awarded gateway.
// Effects out: RFQ broadcast, signed AWARD, a payer channel to the winner (reused
//             when one at an acceptable price is open), the route the SOCKS endpoint
//             (or the nft default route) follows, and award_won / award_lost / failover events.
//
// Delivery reports (every REPORT_MS while an award is in force) tell the machine how
// many bytes came through the awarded gateway and whether we wanted more
// ("backlogged"). Proxy mode cannot see an application's appetite, so demand is
// inferred: bytes arrive while connections are open, or a local connection has been
// waiting for its first byte for ASK_PATIENCE_MS (a fresh connection that is still
// handshaking is not a stall, and must not be measured as a gateway delivering 0),
// or the awarded gateway left the neighbour table.
// nft mode has no local endpoint: demand is what the client's kernel meter saw it
// send upstream through the gateway (`onSent`). Sends left unanswered = backlogged; a
// gateway that gets upstream packets and returns nothing is failing; an idle client
// (nothing sent) never makes its gateway fail.
// Within the startup grace after an award, a report with no bytes is not backlogged:
// the channel opening and the first connection starting are not the gateway's
// delivery, and must not be measured as a gateway that delivers nothing.
//
// Capacity probe (market effect `probe`): the client pulls from `probeUrl` through the
// awarded gateway at up to the probe's rate until its end (http-probe.ts httpPull: the
// SOCKS endpoint in proxy mode, the default route in nft mode). Those bytes reach the
// market like any others, through the channel meter, so they are paid; the delivery
// reports whose interval overlaps the probe carry `probing: true`. A pull that stopped
// early (refused, an HTTP error, a cut connection) may be the URL's fault, not the
// gateway's: its reports stop being marked, and the market takes no sample. With no
// URL the client cannot probe, and its market is built with probeMs 0.
//
// Switching is make-before-break: a replaced gateway keeps carrying new connections
// (and is paid for what it delivers) until the winner's channel is open. A failed
// gateway is dropped at once: its connections are closed, so nothing more is
// received from it and the payer machine, which pays only for received bytes, pays
// nothing more.
//
// Timers: one real timer, re-armed to min(market.pollTimeout(), next report).
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { ClientMarket, type ClientMarketEffect, type ClientMarketOptions } from '../core/market/client-market.js';
import type { ReportError, ReportErrorCode } from '../core/market/errors.js';
import { reportFields } from '../core/market/report.js';
import { ReputationTable } from '../core/market/reputation.js';
import type { AwardBody, BidBody, OfferBody, ReportBody, RfqBody } from '../core/wire/messages.js';
import { nodeIdToBech32 } from '../core/wire/node-id.js';
import { writeFileAtomic } from './atomic-file.js';
import type { ChannelManager } from './channel-manager.js';
import { httpPull, type HttpPullResult, type Socks5Via } from './http-probe.js';
import type { Logger } from './log.js';

/** How often delivery is reported to the market while an award is in force. */
const REPORT_MS = 250;
/**
 * A channel we left is closed this long after (its last payments for bytes still in
 * flight go out first), so its funds come back instead of waiting for its expiry.
 */
const CLOSE_LEFT_AFTER_MS = 10_000;
/**
 * A payer channel that has paid this share of all it can ever pay gets a successor to
 * the same gateway, opened while the old one still pays, and traffic moves to it once
 * it is open. Without one, an exhausted channel stops paying mid-transfer, its gateway
 * stops forwarding, and the client fails over from a gateway that did nothing wrong (a
 * reputation sample of 0 and a ban). A channel of the usual size lasts about 2 GiB.
 */
export const RENEW_AT_USED_SHARE = 0.8;
/** A local connection waiting this long with no byte from the gateway is unmet demand. */
const ASK_PATIENCE_MS = 750;
/**
 * nft demand: upstream sends left unanswered count as asking for this long after the
 * last one. A stalled transfer sends only now and then (a retransmitted SYN, a new
 * request after a timeout), so one quiet window must not read as an idle client.
 */
const SENT_DEMAND_MS = 2_000;
/**
 * Sends (meter reads) with nothing delivered since, before they are demand: the last
 * ACK or FIN of a finished transfer is one, a client asking and getting no answer
 * sends again (a retransmission, a retry).
 */
const UNANSWERED_SENDS = 2;
/** Bytes-per-report history kept for the displayed recent rate. */
const RECENT_REPORTS = 8;
/** Least time between two attempts to open a channel to the same winner. */
const OPEN_RETRY_MS = 2_000;
/** Reputation is written at most this often (flash wear), and at stop. */
const REPUTATION_WRITE_MS = 30_000;
/** Channel size when the winner's OFFER has not been heard (sat). */
const DEFAULT_CHANNEL_SAT = 50_000;
/** How long after an award the channel may take to open before the gateway counts as failing. */
const OPEN_PATIENCE_MS = 30_000;
/**
 * Bids are collected this long after an RFQ (the market's default is 500 ms): on a
 * mesh they come back within milliseconds, and every auction — the first one and
 * each failover — waits the full window.
 */
const COLLECT_MS = 250;
/** A silent gateway counts as dead only if nothing came through it for this long either. */
const SILENT_NO_DELIVERY_MS = 500;
const REPUTATION_FILE = 'reputation.json';

export type ClientAuctionEventKind = 'award_won' | 'award_lost' | 'failover';

export interface ClientAuctionDeps {
  /** Our node id. */
  readonly self: Uint8Array;
  /** Where the reputation file lives (`<state_dir>/market`). */
  readonly dir: string;
  readonly clock: () => number;
  /** Uniform in [0, 1): exploration draws and RFQ ids. */
  readonly rng: () => number;
  readonly log: Logger;
  readonly maxPriceMsatPerKiB: number;
  /** What the client asks for in RFQs (kbit/s); the market's demand. */
  readonly wantedKbps: number;
  /** Market tuning (tests shorten terms and holds); the core's defaults otherwise. */
  readonly options?: Partial<ClientMarketOptions>;
  readonly sendRfq: (body: Omit<RfqBody, 'sender' | 'ts'>) => void;
  readonly sendAward: (to: string, body: Omit<AwardBody, 'sender' | 'ts' | 'nonce'>) => void;
  /** Broadcasts a signed REPORT (the agent adds the signed header). Absent: we never report. */
  readonly sendReport?: (body: Omit<ReportBody, 'sender' | 'ts' | 'nonce'>) => void;
  /** Checks a heard REPORT's proof (report.ts checkReport). Absent: reports are not heard. */
  readonly checkReport?: (report: ReportBody, now: number) => ReportError | undefined;
  readonly channels: () => ChannelManager | undefined;
  /** The gateway's latest OFFER (for channel size limits), if heard. */
  readonly offerOf: (gateway: string) => OfferBody | undefined;
  /** Is the gateway (hex id) in the neighbour table? */
  readonly isNeighbour: (gateway: string) => boolean;
  /** When the gateway (hex id) was last heard on the mesh (its HELLOs), if it is a neighbour. */
  readonly lastHeard?: (gateway: string) => number | undefined;
  /**
   * A gateway silent this long (a few of its beacon intervals) while nothing comes
   * through it and we want something is taken for dead, before its neighbour entry
   * expires. Undefined: only the expiry and the delivery watchdog count.
   */
  readonly silenceMs?: number;
  /** Local connections open on the SOCKS endpoint. */
  readonly openConnections: () => number;
  /**
   * Where demand comes from: 'connections' (proxy: the SOCKS endpoint's connections and
   * route() calls) or 'sent' (nft: bytes sent upstream, reported through onSent).
   */
  readonly demand?: 'connections' | 'sent';
  /** Ends the channel's connections on the SOCKS endpoint (the gateway was dropped). */
  readonly closeRoute: (channelId: string) => void;
  readonly onEvent: (kind: ClientAuctionEventKind, details: Record<string, string | number | boolean>) => void;
  /** What capacity probes pull (market.client_probe_url); none: no probes, and the market knows it. */
  readonly probeUrl?: string;
  /** Proxy mode: the local SOCKS5 endpoint probes go through; undefined: direct (nft: the default route). */
  readonly probeVia?: () => Socks5Via | undefined;
}

export interface ClientAwardStatus {
  gateway: string;
  gatewayHex: string;
  priceMsatPerKiB: number;
  bidPriceMsatPerKiB: number;
  claimKbps: number;
  /** Our own goodput measurement of the gateway (backlogged windows only); null until one. */
  measuredKbps: number | null;
  /** Bytes received through it over the last ~2 s. */
  recentKbps: number;
  channelId: string | null;
  channelOpen: boolean;
  sinceMs: number;
  untilMs: number | null;
  trial: boolean;
}

export interface ClientAuctionStatus {
  state: string;
  wantedKbps: number;
  award: ClientAwardStatus | null;
  counters: ClientMarket['counters'] & {
    failovers: number;
    channelOpens: number;
    channelRenewals: number;
    openErrors: number;
    probePulls: number;
    probeErrors: number;
    /** Failed probes we could not report: no ACCEPT from that gateway in this run. */
    reportsWithoutProof: number;
  };
  /** REPORTs heard whose proof did not hold, by reason (report.ts). */
  reportRejects: Partial<Record<ReportErrorCode, number>>;
  /** Capacity probes: off without a probe URL; the one under way, if any. */
  probe: { enabled: boolean; gatewayHex: string | null; targetKbps: number | null; untilMs: number | null };
  lastFailoverMs: number | null;
  /** What we know of each gateway we bid with or measured. */
  gateways: { gateway: string; gatewayHex: string; bidPriceMsatPerKiB: number | null; measuredKbps: number | null; reputation: number }[];
}

/** A capacity probe under way: its pull, and whether its reports count as probing. */
interface Probe {
  readonly gateway: string;
  readonly kbps: number;
  readonly until: number;
  readonly abort: AbortController;
  /** The pull got nothing for a reason of its own (URL, HTTP error): reports are no longer marked. */
  broken: boolean;
}

interface Previous {
  readonly gateway: string;
  readonly channelId: string;
}

export class ClientAuction {
  readonly #d: ClientAuctionDeps;
  readonly #reputation: ReputationTable;
  readonly #market: ClientMarket;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  #nextReport = 0;
  /** A gateway able to serve offered while the current RFQ's bids were collected. */
  #servableSinceRfq = false;
  // delivery accounting between reports
  readonly #bytesByGateway = new Map<string, number>();
  /** When the client last sent upstream, and how many sends since the last delivery (nft demand). */
  #lastSentAt: number | undefined;
  #unanswered = 0;
  /** Since when local connections have asked for a route without a byte arriving. */
  #askPendingSince: number | undefined;
  readonly #recent: { at: number; bytes: number }[] = [];
  // channels
  /** Winner (hex) → the payer channel opened or reused for it. */
  readonly #channelFor = new Map<string, string>();
  readonly #opening = new Set<string>();
  /** Gateway (hex) → the channel opening or open to take over from its running-out one. */
  readonly #successor = new Map<string, string>();
  /** Payer channels that can never carry traffic (funding failed): never reused. */
  readonly #dead = new Set<string>();
  /** Channels we left, and when to ask their gateway to close them. */
  readonly #leftCloseAt = new Map<string, number>();
  readonly #lastOpenTry = new Map<string, number>();
  /** The last reason an open to each gateway failed (logged once until it changes). */
  readonly #lastOpenError = new Map<string, string>();
  #previous: Previous | undefined;
  #forcedReauction = false;
  /** The gateway being dropped by onNeighbourDown (its stopPaying is not a normal loss). */
  #gone: string | undefined;
  /** When the award in force was made (not renewed): the start of its startup grace. */
  #awardedAt = 0;
  /** When bytes last came through the awarded gateway. */
  #lastDeliveryAt: number | undefined;
  /** When the last delivery report ran, and until when our own stall mutes the silence check. */
  #lastReportRun: number | undefined;
  /** When the awarded gateway's channel was closed under us (a new one is opening since). */
  #reopenSince = -Infinity;
  #selfStallUntil = 0;
  // failover timing
  #failedAt: number | undefined;
  #lastFailoverMs: number | undefined;
  readonly #lastBid = new Map<string, number>();
  #reputationWritten = -1;
  #reputationWrittenAt = 0;
  readonly #extra = { failovers: 0, channelOpens: 0, channelRenewals: 0, openErrors: 0, probePulls: 0, probeErrors: 0, reportsWithoutProof: 0 };
  readonly #reportRejects: Partial<Record<ReportErrorCode, number>> = {};
  #probe: Probe | undefined;

  private constructor(deps: ClientAuctionDeps, reputation: ReputationTable) {
    this.#d = deps;
    this.#reputation = reputation;
    // No URL, no probe: the market must not expect probe samples it will never get.
    const probes = deps.probeUrl ? {} : { probeMs: 0 };
    this.#market = new ClientMarket(
      { collectMs: COLLECT_MS, ...deps.options, ...probes, self: bytesToHex(deps.self), maxPriceMsatPerKiB: deps.maxPriceMsatPerKiB },
      reputation,
      deps.rng,
    );
  }

  /** Does the market run capacity probes (a URL is configured and probeMs > 0)? */
  get #probesEnabled(): boolean {
    return this.#d.probeUrl !== undefined && this.#d.probeUrl !== '' && (this.#d.options?.probeMs ?? 1) > 0;
  }

  /** Loads the reputation kept in `dir` (a bad file is logged and replaced by a fresh table). */
  static async create(deps: ClientAuctionDeps): Promise<ClientAuction> {
    let text: string | undefined;
    try {
      text = await readFile(path.join(deps.dir, REPUTATION_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') deps.log.warn('reputation unreadable', { error: (e as Error).message });
    }
    const { table, error } = ReputationTable.restore(text);
    if (error) deps.log.warn('reputation file refused: starting fresh', { code: error.code, error: error.message });
    const a = new ClientAuction(deps, table);
    if (!a.#probesEnabled) deps.log.info('capacity probes off', { why: deps.probeUrl ? 'probe length 0' : 'no market.client_probe_url' });
    a.#reputationWritten = table.revision;
    // The first channel's hash chain is built while the auction runs (at our max price
    // it is the shortest a channel of the usual size needs).
    deps.channels()?.prepareChain({ capacitySat: DEFAULT_CHANNEL_SAT, priceMsatPerKiB: deps.maxPriceMsatPerKiB });
    return a;
  }

  /** The market wants upstream from now on: the first RFQ goes out. */
  start(): void {
    const now = this.#d.clock();
    this.#market.handle({ type: 'demand', wantedKbps: this.#d.wantedKbps }, now);
    this.#drain(now);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#endProbe();
    await this.#persistReputation(true);
  }

  get market(): ClientMarket {
    return this.#market;
  }

  // ---- inputs ----

  onBid(bid: BidBody): void {
    if (this.#stopped) return;
    const now = this.#d.clock();
    if (bid.capacityKbps > 0) this.#lastBid.set(bytesToHex(bid.sender), bid.priceMsatPerKiB); // not a re-quote
    this.#d.log.info('bid heard', { gateway: short(bytesToHex(bid.sender)), priceMsatPerKiB: bid.priceMsatPerKiB, capacityKbps: bid.capacityKbps });
    this.#market.handle({ type: 'bid', bid }, now);
    this.#drain(now);
    // A bid after an auction that drew none (a gateway that had not measured its uplink
    // yet when our RFQ came): ask again now rather than after the retry interval.
    if (bid.capacityKbps > 0) this.#askAgainIfEmpty(now);
  }

  onOffer(offer: OfferBody): void {
    if (this.#stopped) return;
    const now = this.#d.clock();
    this.#market.handle({ type: 'offer', offer }, now);
    this.#drain(now);
    if (offer.spareKbps > 0 && offer.priceMsatPerKiB <= this.#d.maxPriceMsatPerKiB) {
      // Heard while our RFQ's bids are still being collected, from a gateway that came up
      // after the RFQ went out: if the auction closes empty, ask again at once (#drain).
      if (this.#market.state === 'collecting') this.#servableSinceRfq = true;
      this.#askAgainIfEmpty(now);
    }
  }

  /** A REPORT heard on the mesh: its proof is checked before the market counts it. */
  onReport(report: ReportBody): void {
    if (this.#stopped || !this.#d.checkReport) return;
    const now = this.#d.clock();
    const err = this.#d.checkReport(report, now);
    const gateway = bytesToHex(report.gateway);
    if (err) {
      this.#reportRejects[err.code] = (this.#reportRejects[err.code] ?? 0) + 1;
      this.#d.log.debug('report refused', { gateway: short(gateway), code: err.code, error: err.message });
      return;
    }
    this.#d.log.info('report heard', { gateway: short(gateway), reporter: short(bytesToHex(report.sender)), deliveredKbps: report.deliveredKbps, targetKbps: report.targetKbps });
    this.#market.handle({ type: 'report', reporter: bytesToHex(report.sender), gateway, deliveredKbps: report.deliveredKbps, targetKbps: report.targetKbps }, now);
    this.#drain(now);
  }

  /** After an empty auction (the market waits for its retry), a gateway able to serve showed up: auction now. */
  #askAgainIfEmpty(now: number): void {
    if (this.#market.state !== 'waiting' || this.#market.wantedKbps <= 0) return;
    this.#d.log.info('a gateway can serve now: auction again');
    this.#market.handle({ type: 'demand', wantedKbps: 0 }, now);
    this.#market.handle({ type: 'demand', wantedKbps: this.#d.wantedKbps }, now);
    this.#drain(now);
  }

  /** Bytes received through a payer channel (both directions, as billed). */
  onBytes(channelId: string, bytes: number): void {
    const peer = this.#d.channels()?.describe(channelId)?.peer;
    if (!peer || !(bytes > 0)) return;
    this.#unanswered = 0;
    const g = bytesToHex(peer);
    if (g === this.#market.award?.gateway) this.#lastDeliveryAt = this.#d.clock();
    this.#bytesByGateway.set(g, (this.#bytesByGateway.get(g) ?? 0) + bytes);
  }

  /** Bytes this client sent upstream through its gateway (nft: its kernel meter; call before onBytes of the same read). */
  onSent(bytes: number): void {
    if (!(bytes > 0)) return;
    this.#lastSentAt = this.#d.clock();
    this.#unanswered++;
  }

  /** A payer channel event: a channel whose funding failed is dropped, and another is opened. */
  onChannelEvent(channelId: string, name: string): void {
    if (name !== 'fundingFailed' && name !== 'peerClosed' && name !== 'refunded') return;
    this.#dead.add(channelId);
    for (const [g, id] of this.#channelFor) {
      if (id !== channelId) continue;
      this.#channelFor.delete(g);
      // The awarded gateway closed our channel (e.g. its loss rule): a new one opens at
      // the next report, and its opening is not the gateway failing to deliver.
      if (g === this.#market.award?.gateway) this.#reopenSince = this.#d.clock();
    }
  }

  /**
   * A neighbour expired. If it was the awarded gateway, report the stall now; within
   * the startup grace (nft: at any time) the market's watchdog would wait, but a
   * gateway that left the mesh is not opening a channel: drop it and auction at once.
   */
  onNeighbourDown(gateway: string): void {
    const a = this.#market.award;
    if (a?.gateway !== gateway) return;
    const now = this.#d.clock();
    this.#report(now);
    if (this.#market.award?.gateway !== gateway) return;
    // nft: the kernel routes through the gateway, so one that left the mesh carries
    // nothing more; waiting for the watchdog would only add to the outage.
    if (this.#d.demand !== 'sent' && now >= this.#awardedAt + (this.#d.options?.startupGraceMs ?? 10_000)) return;
    this.#dropGone(gateway, 'awarded gateway left the mesh: stop paying, re-auction', now);
  }

  /**
   * Proxy mode: the awarded gateway's relay refused a connection on its channel, so
   * its agent is not running. Leave it now rather than after ASK_PATIENCE_MS and the
   * market's stall watchdog (the five-agent test: 2.3–3.0 s from the kill to a new award).
   */
  onRelayRefused(channelId: string): void {
    const a = this.#market.award;
    if (this.#stopped || !a || this.#channelFor.get(a.gateway) !== channelId) return;
    this.#dropGone(a.gateway, "awarded gateway's relay refused the connection: stop paying, re-auction", this.#d.clock());
  }

  /** The awarded gateway is gone (left the mesh, fell silent while we wait on it, or its relay refuses us): stop paying it and auction now. */
  #dropGone(gateway: string, why: string, now: number): void {
    const id = this.#channelFor.get(gateway);
    this.#extra.failovers++;
    this.#failedAt = now;
    this.#d.log.warn(why, { gateway: short(gateway) });
    this.#d.onEvent('failover', { role: 'client', gateway });
    if (id !== undefined) this.#retire(id);
    if (this.#previous?.gateway === gateway) this.#previous = undefined;
    this.#gone = gateway;
    this.#market.handle({ type: 'demand', wantedKbps: 0 }, now);
    this.#market.handle({ type: 'demand', wantedKbps: this.#d.wantedKbps }, now);
    // Drained while #gone still names it: its stopPaying is this failover, not an award lost.
    this.#drain(now);
    this.#gone = undefined;
  }

  /** The operator asked for a new auction: drop the award (the route stays until a new one) and ask again. */
  reauction(): void {
    const now = this.#d.clock();
    this.#forcedReauction = true;
    this.#market.handle({ type: 'demand', wantedKbps: 0 }, now);
    this.#market.handle({ type: 'demand', wantedKbps: this.#d.wantedKbps }, now);
    this.#drain(now);
    this.#forcedReauction = false;
  }

  /**
   * The channel new connections go through now, or undefined (the agent then falls
   * back to any open payer channel). Each call is a local connection asking: demand,
   * unless `ask` is false (the nft data plane polling the route is not a connection).
   */
  route(ask = true): string | undefined {
    if (ask) this.#askPendingSince ??= this.#d.clock();
    const ch = this.#d.channels();
    const a = this.#market.award;
    if (!ch || !a) return this.#previous?.channelId;
    const id = this.#channelFor.get(a.gateway);
    if (id !== undefined && ch.describe(id)?.state === 'Open') {
      if (this.#previous) this.#dropPrevious();
      return id;
    }
    return this.#previous?.channelId;
  }

  status(): ClientAuctionStatus {
    const now = this.#d.clock();
    const a = this.#market.award;
    let award: ClientAwardStatus | null = null;
    if (a) {
      const id = this.#channelFor.get(a.gateway) ?? null;
      const measured = this.#market.ownGoodputKbps(a.gateway, now);
      award = {
        gateway: nodeIdToBech32(hexToBytes(a.gateway)),
        gatewayHex: a.gateway,
        priceMsatPerKiB: a.priceMsatPerKiB,
        bidPriceMsatPerKiB: a.bidPriceMsatPerKiB,
        claimKbps: a.claimKbps,
        measuredKbps: measured === undefined ? null : Math.round(measured),
        recentKbps: this.#recentKbps(now),
        channelId: id,
        channelOpen: id !== null && this.#d.channels()?.describe(id)?.state === 'Open',
        sinceMs: now - a.since,
        untilMs: Number.isFinite(a.until) ? a.until - now : null,
        trial: a.trial,
      };
    }
    const ids = new Set([...this.#lastBid.keys(), ...(a ? [a.gateway] : [])]);
    return {
      state: this.#market.state,
      wantedKbps: this.#market.wantedKbps,
      award,
      counters: { ...this.#market.counters, ...this.#extra },
      reportRejects: { ...this.#reportRejects },
      probe: {
        enabled: this.#probesEnabled,
        gatewayHex: this.#probe?.gateway ?? null,
        targetKbps: this.#probe?.kbps ?? null,
        untilMs: this.#probe ? this.#probe.until - now : null,
      },
      lastFailoverMs: this.#lastFailoverMs ?? null,
      gateways: [...ids].sort().map((g) => {
        const m = this.#market.ownGoodputKbps(g, now);
        return {
          gateway: nodeIdToBech32(hexToBytes(g)),
          gatewayHex: g,
          bidPriceMsatPerKiB: this.#lastBid.get(g) ?? null,
          measuredKbps: m === undefined ? null : Math.round(m),
          reputation: Math.round(this.#reputation.discount(g, now) * 1000) / 1000,
        };
      }),
    };
  }

  // ---- the machine's effects ----

  #drain(now: number): void {
    for (const e of this.#market.poll()) this.#effect(e, now);
    if (this.#servableSinceRfq && this.#market.state === 'waiting') {
      this.#servableSinceRfq = false;
      this.#askAgainIfEmpty(now);
    }
    this.#arm(now);
  }

  #effect(e: ClientMarketEffect, now: number): void {
    const { log } = this.#d;
    switch (e.type) {
      case 'sendRfq':
        this.#servableSinceRfq = false;
        this.#d.sendRfq(e.body);
        log.info('rfq sent', { wantedKbps: e.body.wantedKbps, maxPriceMsatPerKiB: e.body.maxPriceMsatPerKiB });
        return;
      case 'sendAward':
        this.#d.sendAward(e.to, e.body);
        return;
      case 'awardChanged': {
        if (e.renewed) {
          log.info('award renewed', { gateway: short(e.gateway), priceMsatPerKiB: e.priceMsatPerKiB, termMs: e.termMs });
          return;
        }
        if (this.#failedAt !== undefined) {
          this.#lastFailoverMs = now - this.#failedAt;
          this.#failedAt = undefined;
        }
        log.info('award', { gateway: short(e.gateway), priceMsatPerKiB: e.priceMsatPerKiB, termMs: e.termMs, trial: e.trial });
        this.#d.onEvent('award_won', { role: 'client', gateway: e.gateway, priceMsatPerKiB: e.priceMsatPerKiB, termMs: e.termMs, trial: e.trial });
        this.#awardedAt = now;
        this.#lastDeliveryAt = undefined;
        this.#nextReport = now + REPORT_MS;
        this.#recent.length = 0;
        this.#bytesByGateway.clear();
        this.#endProbe();
        this.#ensureChannel(now);
        return;
      }
      case 'stopPaying': {
        const id = this.#channelFor.get(e.gateway);
        if (this.#probe?.gateway === e.gateway) this.#endProbe();
        if (e.reason === 'failure') {
          this.#extra.failovers++;
          this.#failedAt = now;
          log.warn('gateway failed: stop paying, re-auction', { gateway: short(e.gateway) });
          this.#d.onEvent('failover', { role: 'client', gateway: e.gateway });
          if (id !== undefined) this.#retire(id);
          if (this.#previous?.gateway === e.gateway) this.#previous = undefined;
          return;
        }
        if (this.#gone === e.gateway) return; // already reported as a failover
        log.info('award lost', { gateway: short(e.gateway), reason: e.reason });
        this.#d.onEvent('award_lost', { role: 'client', gateway: e.gateway, reason: e.reason });
        // Make-before-break: keep carrying new connections until the next winner is open.
        if (id !== undefined && (e.reason === 'replaced' || this.#forcedReauction)) {
          if (this.#previous && this.#previous.channelId !== id) this.#dropPrevious();
          this.#previous = { gateway: e.gateway, channelId: id };
        } else if (id !== undefined) this.#retire(id);
        return;
      }
      case 'probe':
        this.#startProbe(e, now);
        return;
      case 'sendReport': {
        // The proof is the gateway's ACCEPT of a channel we opened in this run; without
        // one (a channel restored after a restart) our probe still counts for us alone.
        const proof = this.#d.channels()?.acceptProof(e.gateway);
        if (!proof || !this.#d.sendReport) {
          this.#extra.reportsWithoutProof++;
          return;
        }
        this.#d.sendReport(reportFields(proof, e.deliveredKbps, e.targetKbps));
        log.warn('gateway reported: probe far below its claim', { gateway: short(e.gateway), deliveredKbps: e.deliveredKbps, targetKbps: e.targetKbps });
        return;
      }
      default: {
        // A new effect must be handled here, not silently dropped.
        const _: never = e;
        log.error('market effect not handled', { effect: (_ as { type: string }).type });
      }
    }
  }

  // ---- capacity probe ----

  #startProbe(e: Extract<ClientMarketEffect, { type: 'probe' }>, now: number): void {
    const url = this.#d.probeUrl;
    // The market was told there are no probes; a probe for a gateway no longer awarded is stale.
    if (!url || this.#market.award?.gateway !== e.gateway || !(e.until > now)) return;
    this.#endProbe();
    const p: Probe = { gateway: e.gateway, kbps: e.kbps, until: e.until, abort: new AbortController(), broken: false };
    this.#probe = p;
    this.#extra.probePulls++;
    const via = this.#d.probeVia?.();
    this.#d.log.info('capacity probe', { gateway: short(e.gateway), kbps: e.kbps, ms: e.until - now, via: via ? 'socks' : 'route' });
    void httpPull({ url, kbps: e.kbps, until: e.until, clock: this.#d.clock, signal: p.abort.signal, ...(via ? { socks: via } : {}) }).then(
      (r) => this.#probePulled(p, r),
      (err: Error) => this.#probePulled(p, { ok: false, bytes: 0, requests: 0, error: err.message }),
    );
  }

  #probePulled(p: Probe, r: HttpPullResult): void {
    const info = { gateway: short(p.gateway), bytes: r.bytes, requests: r.requests };
    if (r.error === undefined) {
      this.#d.log.info('capacity probe pulled', info);
      return;
    }
    // Stopped early (refused, an HTTP error, a cut connection): the rest of the probe is
    // no full-rate pull, and the URL's fault cannot be told from the gateway's here, so
    // it gives no sample. A gateway that delivers nothing still meets the watchdog.
    p.broken = true;
    this.#extra.probeErrors++;
    this.#d.log.warn('capacity probe stopped early: no sample', { ...info, error: r.error });
  }

  /** Ends the probe under way, if any (its pull is aborted). */
  #endProbe(): void {
    this.#probe?.abort.abort();
    this.#probe = undefined;
  }

  #dropPrevious(): void {
    const p = this.#previous;
    this.#previous = undefined;
    if (p && this.#market.award?.gateway !== p.gateway) this.#retire(p.channelId);
  }

  /**
   * We leave a channel (its gateway failed, lost the award or was replaced): its
   * connections end and it is never reused. Reusing it later would stall: the gateway
   * counted bytes we never read (in flight when we left), so it stays that far ahead of
   * what we pay and grants little or nothing until it writes them off as loss or closes;
   * a fresh channel starts level. After CLOSE_LEFT_AFTER_MS we ask the gateway to close
   * it with its best state, which pays us our change back.
   */
  #retire(channelId: string, endConnections = true): void {
    if (endConnections) this.#d.closeRoute(channelId);
    if (!this.#dead.has(channelId)) this.#leftCloseAt.set(channelId, this.#d.clock() + CLOSE_LEFT_AFTER_MS);
    this.#dead.add(channelId);
    for (const [g, id] of this.#channelFor) if (id === channelId) this.#channelFor.delete(g);
  }

  /**
   * The winner's payer channel: reuse one to it (open, or still opening) whose price the
   * gateway accepts (≥ its ask) and we accept (≤ our max price), else open one. Reusing
   * saves a funding transaction per auction; the price is the one agreed when it opened.
   */
  #ensureChannel(now: number): void {
    const a = this.#market.award;
    const ch = this.#d.channels();
    if (!a || !ch || this.#opening.has(a.gateway)) return;
    const usable = (id: string, price: number) => {
      const d = ch.describe(id);
      return (
        d !== undefined &&
        !this.#dead.has(id) &&
        bytesToHex(d.peer) === a.gateway &&
        (d.state === 'Open' || d.state === 'Opening' || d.state === 'Funding') &&
        (d.usedShare ?? 0) < RENEW_AT_USED_SHARE &&
        price >= a.bidPriceMsatPerKiB &&
        price <= this.#d.maxPriceMsatPerKiB
      );
    };
    const reports = ch.list().filter((c) => c.role === 'payer');
    const known = this.#channelFor.get(a.gateway);
    const knownReport = reports.find((c) => c.id === known);
    if (knownReport && usable(knownReport.id, knownReport.priceMsatPerKiB)) return;
    // Newest first (the list is in creation order), open ones before those still opening.
    const candidates = reports.filter((c) => usable(c.id, c.priceMsatPerKiB)).reverse();
    const pick = candidates.find((c) => c.state === 'Open') ?? candidates[0];
    if (pick) {
      this.#channelFor.set(a.gateway, pick.id);
      return;
    }
    this.#open(ch, a.gateway, a.priceMsatPerKiB, now, 'cannot open channel to the awarded gateway', (id) => this.#channelFor.set(a.gateway, id));
  }

  /**
   * Opens a payer channel to `gateway`, sized by its offer, at most once per
   * OPEN_RETRY_MS and one at a time per gateway; `opened` gets its id.
   */
  #open(ch: ChannelManager, gateway: string, priceMsatPerKiB: number, now: number, failure: string, opened: (id: string) => void): void {
    if (now - (this.#lastOpenTry.get(gateway) ?? -Infinity) < OPEN_RETRY_MS) return;
    this.#lastOpenTry.set(gateway, now);
    this.#opening.add(gateway);
    this.#extra.channelOpens++;
    ch.open(hexToBytes(gateway), { capacitySat: channelSize(this.#d.offerOf(gateway)), priceMsatPerKiB }).then(
      (id) => {
        this.#opening.delete(gateway);
        this.#lastOpenError.delete(gateway);
        opened(id);
      },
      (err: Error) => {
        this.#opening.delete(gateway);
        this.#extra.openErrors++;
        // An empty wallet fails every OPEN_RETRY_MS: say so once, not 30 times a minute.
        if (this.#lastOpenError.get(gateway) === err.message) return;
        this.#lastOpenError.set(gateway, err.message);
        this.#d.log.warn(failure, { gateway: short(gateway), error: err.message });
      },
    );
  }

  // ---- delivery reports ----

  #report(now: number): void {
    const a = this.#market.award;
    this.#nextReport = now + REPORT_MS;
    // Our own event loop stalled (a frozen process, a starved CPU): the beacons that
    // came meanwhile wait in the socket behind this timer, so silence means nothing yet.
    if (this.#lastReportRun !== undefined && now - this.#lastReportRun > 4 * REPORT_MS) this.#selfStallUntil = now + (this.#d.silenceMs ?? 0);
    // This report covers (last report, now]: it is part of the probe if that overlaps it.
    const p = this.#probe;
    const probing = p !== undefined && a !== undefined && p.gateway === a.gateway && !p.broken && (this.#lastReportRun ?? -Infinity) < p.until;
    this.#lastReportRun = now;
    if (p && now >= p.until) this.#endProbe();
    const bytes = a ? (this.#bytesByGateway.get(a.gateway) ?? 0) : 0;
    this.#bytesByGateway.clear();
    const asking = this.#unanswered >= UNANSWERED_SENDS && this.#lastSentAt !== undefined && now - this.#lastSentAt <= SENT_DEMAND_MS;
    if (bytes > 0) this.#askPendingSince = undefined;
    if (!a) return;
    this.#recent.push({ at: now, bytes });
    if (this.#recent.length > RECENT_REPORTS) this.#recent.shift();
    const id = this.#channelFor.get(a.gateway);
    const open = id !== undefined && this.#d.channels()?.describe(id)?.state === 'Open';
    const grace = this.#d.options?.startupGraceMs ?? 10_000;
    const gone = !this.#d.isNeighbour(a.gateway);
    let backlogged: boolean;
    // Within the startup grace the watchdog cannot fire anyway; a window of zero bytes
    // there is the channel or the first connection starting, and must not be measured
    // as a gateway that delivers nothing.
    // A channel still opening (hash chain, funding, ACCEPT) is not a gateway failing,
    // up to OPEN_PATIENCE_MS after the award.
    const opening = !open && now < Math.max(this.#awardedAt, this.#reopenSince) + OPEN_PATIENCE_MS;
    // The grace ends early once bytes have come under this award: the channel is open.
    const starting = this.#lastDeliveryAt === undefined && now < this.#awardedAt + grace;
    if (bytes === 0 && !gone && (starting || opening)) backlogged = false;
    else if (this.#d.demand === 'sent') backlogged = gone || asking;
    else if (bytes > 0) backlogged = this.#d.openConnections() > 0;
    else backlogged = gone || (this.#askPendingSince !== undefined && now - this.#askPendingSince >= ASK_PATIENCE_MS);
    const { probesFailed, shortfalls } = this.#market.counters;
    this.#market.handle(probing ? { type: 'delivery', gateway: a.gateway, bytes, backlogged, probing } : { type: 'delivery', gateway: a.gateway, bytes, backlogged }, now);
    if (this.#market.counters.probesFailed > probesFailed) {
      this.#d.log.warn('capacity probe failed: the gateway delivered far less than it claimed; re-auction', { gateway: short(a.gateway), claimKbps: a.claimKbps });
    }
    if (this.#market.counters.shortfalls > shortfalls) {
      this.#d.log.info('the gateway carried under half of the rate it claimed it could; re-auction', { gateway: short(a.gateway), claimKbps: a.claimKbps });
    }
    if (this.#market.award?.gateway !== a.gateway) return;
    if (open && this.#silentAndWanted(a.gateway, now)) {
      this.#dropGone(a.gateway, 'awarded gateway fell silent while we wait on it: stop paying, re-auction', now);
      return;
    }
    if (!open) this.#ensureChannel(now);
    else this.#renewIfRunningOut(a.gateway, a.priceMsatPerKiB, id, now);
  }

  /** See RENEW_AT_USED_SHARE: open the successor, then move to it once it is open. */
  #renewIfRunningOut(gateway: string, priceMsatPerKiB: number, current: string, now: number): void {
    const ch = this.#d.channels();
    if (!ch) return;
    const next = this.#successor.get(gateway);
    if (next !== undefined) {
      const d = ch.describe(next);
      const alive = d !== undefined && !this.#dead.has(next) && (d.state === 'Open' || d.state === 'Opening' || d.state === 'Funding');
      if (!alive) this.#successor.delete(gateway); // it failed to open: a later report tries again
      if (!alive || d.state !== 'Open') return;
      this.#successor.delete(gateway);
      // The old channel's connections (proxy mode) go on paying from what it has left
      // until it is closed; new ones, and in nft mode all traffic, pay on the successor.
      this.#retire(current, false);
      this.#channelFor.set(gateway, next);
      this.#extra.channelRenewals++;
      this.#d.log.info('channel renewed: traffic moves to a fresh channel to the same gateway', { gateway: short(gateway), from: current.slice(0, 16), to: next.slice(0, 16) });
      return;
    }
    const used = ch.describe(current)?.usedShare;
    if (used === undefined || used < RENEW_AT_USED_SHARE || this.#opening.has(gateway)) return;
    if (now - (this.#lastOpenTry.get(gateway) ?? -Infinity) >= OPEN_RETRY_MS) {
      this.#d.log.info('channel running out: opening its successor', { gateway: short(gateway), channel: current.slice(0, 16), usedShare: Math.round(used * 100) / 100 });
    }
    this.#open(ch, gateway, priceMsatPerKiB, now, 'cannot open the successor channel', (id) => this.#successor.set(gateway, id));
  }

  /**
   * A dead gateway, told apart before its neighbour entry expires: no beacon for
   * `silenceMs`, nothing through it for SILENT_NO_DELIVERY_MS, and we want something
   * (unanswered sends, open connections, or it was delivering until it fell silent).
   * An idle client never fails its gateway this way, nor one whose gateway's kernel
   * still forwards while its agent is busy. nft mode only: there a download cut
   * mid-transfer sends nothing upstream, so no other signal comes before the expiry.
   */
  #silentAndWanted(gateway: string, now: number): boolean {
    // nft only: a proxy client's connections to a dead relay fail at once, and a relay
    // starved of CPU both beacons late and delivers nothing, which is not death.
    if (this.#d.demand !== 'sent') return false;
    const heard = this.#d.lastHeard?.(gateway);
    const silence = this.#d.silenceMs;
    if (heard === undefined || silence === undefined || now - heard < silence || now < this.#selfStallUntil) return false;
    const last = this.#lastDeliveryAt;
    if (last !== undefined && now - last < SILENT_NO_DELIVERY_MS) return false;
    const wanted =
      this.#d.demand === 'sent'
        ? this.#unanswered >= 1 && this.#lastSentAt !== undefined && now - this.#lastSentAt <= SENT_DEMAND_MS
        : this.#d.openConnections() > 0 || this.#askPendingSince !== undefined;
    return wanted || (last !== undefined && last >= heard);
  }

  #recentKbps(now: number): number {
    const first = this.#recent[0];
    if (!first || this.#recent.length < 2) return 0;
    const span = now - first.at + REPORT_MS;
    const bytes = this.#recent.reduce((s, r) => s + r.bytes, 0);
    return Math.round((bytes * 8) / Math.max(1, span));
  }

  // ---- timer ----

  #arm(now: number): void {
    if (this.#stopped) return;
    if (this.#timer) clearTimeout(this.#timer);
    const due = this.#market.pollTimeout();
    let next = Math.min(due ?? Infinity, this.#market.award ? this.#nextReport : Infinity);
    for (const at of this.#leftCloseAt.values()) next = Math.min(next, at);
    this.#timer = undefined;
    if (next === Infinity) return;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, next - now));
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#stopped) return;
    const now = this.#d.clock();
    if (this.#market.award && now >= this.#nextReport) this.#report(now);
    this.#closeLeft(now);
    this.#market.handleTimeout(now);
    this.#drain(now);
    void this.#persistReputation(false);
  }

  /** Asks the gateways of channels we left long enough ago to close them. */
  #closeLeft(now: number): void {
    for (const [id, at] of this.#leftCloseAt) {
      if (at > now) continue;
      this.#leftCloseAt.delete(id);
      const ch = this.#d.channels();
      if (!ch?.describe(id)) continue;
      this.#d.log.info('closing a channel we left', { channel: id.slice(0, 16) });
      void ch.close(id).catch((err: Error) => this.#d.log.warn('close of a left channel failed', { channel: id.slice(0, 16), error: err.message }));
    }
  }

  async #persistReputation(force: boolean): Promise<void> {
    const now = this.#d.clock();
    const rev = this.#reputation.revision;
    if (rev === this.#reputationWritten || (!force && now - this.#reputationWrittenAt < REPUTATION_WRITE_MS)) return;
    this.#reputationWritten = rev;
    this.#reputationWrittenAt = now;
    try {
      await writeFileAtomic(path.join(this.#d.dir, REPUTATION_FILE), JSON.stringify(this.#reputation.toJSON()));
    } catch (e) {
      this.#d.log.error('reputation write failed', { error: (e as Error).message });
    }
  }
}

/** A channel the gateway opens without waiting for a confirmation, within its limits. */
export function channelSize(offer: OfferBody | undefined): number {
  if (!offer) return DEFAULT_CHANNEL_SAT;
  const upper = Math.min(offer.maxChannelSat, offer.zeroConfCapSat > 0 ? offer.zeroConfCapSat : offer.maxChannelSat);
  return Math.max(offer.minChannelSat, 1000, Math.min(DEFAULT_CHANNEL_SAT, upper));
}

function short(hex: string): string {
  return hex.slice(0, 16);
}
