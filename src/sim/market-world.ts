// BitMesh itself in the simulator: every client runs the real ClientMarket with its
// own ReputationTable, every gateway the real GatewayMarket and OfferSchedule, and
// every message between them is encoded by the real WireCodec, signed, decoded and
// admitted by `authenticate` (time window, replay guard, signature) at the receiver.
//
// Adapter rules (what the agent would do around the machines):
// - A client that arrives states its demand and, for each gateway within reach, the
//   path throughput (batman V's throughput metric, as `pathKbps`, quality 1);
//   offers come from the gateways within reach.
// - On an award to a gateway it has no channel with, the client sends OPEN; the
//   gateway answers ACCEPT; the client sends FUNDED (zero-conf). Traffic flows once
//   the gateway holds both the award and the funded channel. A client not carried
//   within RESEND_MS resends its AWARD and channel message (lossy mesh), up to
//   MAX_RESENDS times; the market's own watchdog handles the rest.
// - Payment is modelled as the channel's tick accounting, not run message by message:
//   a gateway carries a client while the client pays (from the award until
//   stopPaying), and TICK/COMMIT traffic is counted from the bytes delivered (see
//   run.ts). The channel machines in src/core/channel are exercised by their own
//   two-node simulation (channel-sim.test.ts).
// - A capacity probe (effect `probe`) raises the client's pull through its gateway to
//   the probe's rate until its end: the uplink's max-min share then gives the probe
//   what the real uplink has left, and the deliveries of those ticks are reported as
//   probing. Probe bytes are paid and load the uplink like any traffic, but only the
//   part within the client's demand counts as goodput in the welfare.
// - A gateway's capability estimate is its real uplink × DEFAULT_CAPACITY_MARGIN ×
//   its claim factor (3 for liars); it learns of an outage or recovery
//   DETECT_MS late (three failed or good probes).
import { bytesToHex } from '@noble/hashes/utils.js';
import { ClientMarket, type ClientMarketEffect } from '../core/market/client-market.js';
import { DEFAULT_CAPACITY_MARGIN, DEFAULT_JOINT_PROBE_PERIOD_MS, JOINT_PROBE_QUIET_MS } from '../core/market/constants.js';
import { channelIdFor, checkReport, DEFAULT_REPORT_PROOF_MAX_AGE_MS, reportFields, type AcceptProof } from '../core/market/report.js';
import { GatewayMarket, type GatewayMarketEffect, type GatewayMarketOptions } from '../core/market/gateway-market.js';
import { OfferSchedule, offerContent, type OfferTerms } from '../core/market/offer.js';
import { ReputationTable } from '../core/market/reputation.js';
import { WireCodec } from '../core/wire/codec.js';
import { DEFAULT_CLOCK_SKEW_MS, DEFAULT_REPLAY_CACHE_SIZE, SIGNED_TYPES, type MessageType } from '../core/wire/constants.js';
import { authenticate, encodeMessage, type Signer } from '../core/wire/envelope.js';
import type { AwardBody, Body, Message } from '../core/wire/messages.js';
import { nodeIdHex } from '../core/wire/node-id.js';
import { ReplayGuard } from '../core/wire/replay.js';
import type { Crypto } from '../crypto/facade.js';
import { allocateFair, uplinkUp } from './flow.js';
import type { SimIdentities } from './identities.js';
import type { Instance, Reach } from './instance.js';
import type { StrategyMetrics } from './metrics.js';
import type { SimNetwork } from './network.js';
import type { SimRng } from './rng.js';

export const DETECT_MS = 3_000;
const RESEND_MS = 1_000;
const MAX_RESENDS = 5;
const CHANNEL_CAPACITY_SAT = 100_000;
/**
 * How far a REPORT travels. The agent broadcasts it on bat0, which carries it to the
 * whole mesh segment; 6 hops reaches every client that hears the liar's offers (4 hops)
 * and their neighbours, and is what the liar figure was measured with.
 */
const REPORT_FLOOD_HOPS = 6;

export const SIM_OFFER_TERMS: OfferTerms = {
  tickKiB: 16,
  creditKiB: 64,
  maxCreditMsat: 1000,
  minChannelSat: 10_000,
  maxChannelSat: 1_000_000,
  zeroConfCapSat: 100_000,
};

/**
 * The simulator ranks by surplus unless told otherwise: see docs/benchmarks.md
 * (Simulator) for both rankings measured side by side.
 */
export const SIM_DEFAULT_CLIENT_OPTIONS = { rankBySurplus: true } as const;

export interface MarketWorldOptions {
  /** Overrides for the ClientMarket defaults (tuning experiments). */
  readonly client?: Partial<ConstructorParameters<typeof ClientMarket>[0]>;
  readonly offerIntervalMs?: number;
  /** Overrides for the GatewayMarket defaults (tuning experiments). */
  readonly gateway?: Partial<Omit<GatewayMarketOptions, 'self' | 'priceMsatPerKiB'>>;
}

interface ClientState {
  readonly market: ClientMarket;
  readonly replay: ReplayGuard;
  readonly reachByGateway: Map<number, Reach>;
  awardGw: number;
  priceMsatPerKiB: number;
  servedBy: number;
  lastAward: Omit<AwardBody, 'sender' | 'ts' | 'nonce'> | undefined;
  readonly channels: Map<number, 'opening' | 'open'>;
  resends: number;
  wakeAt: number;
  /** A capacity probe in progress: the pull (kbit/s) and its end. */
  probeKbps: number;
  probeUntil: number;
  /** Per gateway: its signed ACCEPT of our channel, a REPORT's proof. */
  readonly proofs: Map<number, AcceptProof>;
}

interface GatewayState {
  readonly market: GatewayMarket;
  readonly schedule: OfferSchedule;
  readonly replay: ReplayGuard;
  readonly accepted: Set<number>;
  readonly channels: Set<number>;
  readonly order: number[];
  /** Clients (index) within reach, for offer delivery. */
  readonly audience: { client: number; hops: number }[];
  load: number;
}

export type WorldEvent =
  | { readonly kind: 'clientWake'; readonly client: number }
  | { readonly kind: 'resendCheck'; readonly client: number; readonly gateway: number };

export class MarketWorld {
  readonly clients: ClientState[];
  readonly gateways: GatewayState[];
  readonly #clientOfNode: Int32Array;
  readonly #gatewayOfNode: Int32Array;
  readonly #codec = new WireCodec();
  readonly goodput: Float64Array;
  readonly counters = { decodeErrors: 0, authErrors: 0, resends: 0, strangers: 0, reports: 0, reportsAgainstHonest: 0, reportsDelivered: 0, reportErrors: 0 };
  /** Channel id (hex) → client × gateways + gateway: ids are hashes (report.ts channelIdFor). */
  readonly #channelOwner = new Map<string, number>();
  readonly #channelIds = new Map<number, Uint8Array>();

  constructor(
    readonly inst: Instance,
    readonly crypto: Crypto,
    readonly ids: SimIdentities,
    readonly net: SimNetwork,
    readonly rng: SimRng,
    readonly metrics: StrategyMetrics,
    readonly schedule: (at: number, e: WorldEvent) => void,
    opts: MarketWorldOptions = {},
  ) {
    const n = inst.params.nodes;
    this.#clientOfNode = new Int32Array(n).fill(-1);
    this.#gatewayOfNode = new Int32Array(n).fill(-1);
    const replayOpts = { capacity: DEFAULT_REPLAY_CACHE_SIZE, skewMs: DEFAULT_CLOCK_SKEW_MS };
    this.gateways = inst.gateways.map((g) => {
      this.#gatewayOfNode[g.node] = g.index;
      return {
        market: new GatewayMarket({ ...opts.gateway, self: ids.hex[g.node]!, priceMsatPerKiB: g.priceMsatPerKiB }),
        schedule: new OfferSchedule({
          ...(opts.offerIntervalMs !== undefined ? { intervalMs: opts.offerIntervalMs } : {}),
          jointProbe: { gateway: ids.hex[g.node]!, periodMs: opts.client?.jointProbePeriodMs ?? DEFAULT_JOINT_PROBE_PERIOD_MS, windowMs: JOINT_PROBE_QUIET_MS },
        }),
        replay: new ReplayGuard(replayOpts),
        accepted: new Set(),
        channels: new Set(),
        order: [],
        audience: [],
        load: 0,
      };
    });
    this.clients = inst.clients.map((c) => {
      this.#clientOfNode[c.node] = c.index;
      for (const r of c.reach) this.gateways[r.gateway]!.audience.push({ client: c.index, hops: r.hops });
      const market = new ClientMarket(
        { ...SIM_DEFAULT_CLIENT_OPTIONS, ...opts.client, self: ids.hex[c.node]!, maxPriceMsatPerKiB: c.valueMsatPerKiB },
        new ReputationTable(),
        rng.fork(c.index + 1).asRng(),
      );
      return {
        market,
        replay: new ReplayGuard(replayOpts),
        reachByGateway: new Map(c.reach.map((r) => [r.gateway, r])),
        awardGw: -1,
        priceMsatPerKiB: 0,
        servedBy: -1,
        lastAward: undefined,
        channels: new Map(),
        resends: 0,
        wakeAt: -Infinity,
        probeKbps: 0,
        probeUntil: -Infinity,
        proofs: new Map(),
      };
    });
    this.goodput = new Float64Array(inst.clients.length);
  }

  // --- lifecycle ---

  clientArrives(c: number, now: number): void {
    const spec = this.inst.clients[c]!;
    const s = this.clients[c]!;
    for (const r of spec.reach) {
      const gateway = this.ids.hex[this.inst.gateways[r.gateway]!.node]!;
      // A throughput source (batman V) reports the path's rate; its TQ would only
      // scale the claim a second time for the same path.
      s.market.handle({ type: 'linkQuality', gateway, quality: 1, pathKbps: r.pathKbps }, now);
    }
    s.market.handle({ type: 'demand', wantedKbps: spec.demandKbps }, now);
    this.#drainClient(c, now);
  }

  clientEvent(e: WorldEvent, now: number): void {
    const s = this.clients[e.client]!;
    if (e.kind === 'clientWake') {
      const due = s.market.pollTimeout();
      if (due !== undefined && due <= now) s.market.handleTimeout(now);
      this.#drainClient(e.client, now);
      return;
    }
    // resendCheck: still awarded to that gateway and not carried → resend.
    if (s.awardGw !== e.gateway || s.servedBy === e.gateway || s.resends >= MAX_RESENDS) return;
    s.resends++;
    this.counters.resends++;
    if (s.lastAward) this.#send(this.inst.clients[e.client]!.node, this.inst.gateways[e.gateway]!.node, s.reachByGateway.get(e.gateway)!.hops, 'AWARD', s.lastAward, now);
    const ch = s.channels.get(e.gateway);
    if (ch === 'opening') this.#sendOpen(e.client, e.gateway, now);
    else if (ch === 'open') this.#sendFunded(e.client, e.gateway, now);
    this.schedule(now + RESEND_MS, { kind: 'resendCheck', client: e.client, gateway: e.gateway });
  }

  /** One flow tick at `now` covering the last `dtS` seconds. */
  flowTick(now: number, dtS: number, active: (c: number) => boolean): void {
    const inst = this.inst;
    // 1. The uplinks carry traffic (real state).
    for (const g of inst.gateways) {
      const gs = this.gateways[g.index]!;
      const up = uplinkUp(g.outages, now);
      gs.load = allocateFair(gs.order, (c) => this.#cap(c, g.index, now), up ? g.realKbps : 0, this.goodput);
    }
    // 2. Clients see what they got, report it, and the world keeps score.
    for (let c = 0; c < this.clients.length; c++) {
      if (!active(c)) continue;
      const s = this.clients[c]!;
      const x = s.servedBy >= 0 ? this.goodput[c]! : 0;
      if (s.servedBy < 0) this.goodput[c] = 0;
      const g = s.servedBy >= 0 ? inst.gateways[s.servedBy]! : undefined;
      const demand = inst.clients[c]!.demandKbps;
      this.metrics.tick(dtS, Math.min(x, demand), g ? inst.clients[c]!.valueMsatPerKiB - g.priceMsatPerKiB : 0, s.priceMsatPerKiB);
      if (s.awardGw >= 0) {
        s.market.handle(
          {
            type: 'delivery',
            gateway: this.ids.hex[inst.gateways[s.awardGw]!.node]!,
            bytes: Math.floor((x * 1000 * dtS) / 8),
            backlogged: x < demand - 1e-6,
            probing: now <= s.probeUntil && s.servedBy === s.awardGw,
          },
          now,
        );
        this.#drainClient(c, now);
      }
    }
    // 3. Gateways update their estimate and loads, expire awards, and beacon offers.
    for (const g of inst.gateways) {
      const gs = this.gateways[g.index]!;
      const known = uplinkUp(g.outages, now, DETECT_MS);
      const capacityKbps = known ? Math.floor(g.realKbps * DEFAULT_CAPACITY_MARGIN * g.claimFactor) : 0;
      const estimate = {
        capacityKbps,
        spareKbps: Math.max(0, Math.floor(capacityKbps - gs.load)),
        confidencePermille: 900,
        latencyMs: 20,
        lossPermille: 0,
        uptimeS: Math.floor(now / 1000),
      };
      gs.market.handle({ type: 'estimate', estimate }, now);
      for (const c of gs.order) gs.market.handle({ type: 'clientLoad', client: this.ids.hex[inst.clients[c]!.node]!, kbps: this.goodput[c]! }, now);
      const due = gs.market.pollTimeout();
      if (due !== undefined && due <= now) gs.market.handleTimeout(now);
      this.#drainGateway(g.index, now);
      gs.schedule.update(offerContent(estimate, g.priceMsatPerKiB, SIM_OFFER_TERMS), now);
      const offer = gs.schedule.pollOffer(now);
      if (offer) {
        const data = this.#encode(g.node, 'OFFER', offer, now);
        this.net.chargeAir('OFFER', data.length, inst.floodTx[g.node]!);
        for (const a of gs.audience) if (active(a.client)) this.net.deliver(now, inst.clients[a.client]!.node, a.hops, data);
      }
    }
  }

  /** The gateway's uplink just failed: its carried clients start a failover. */
  gatewayFailed(g: number, now: number): void {
    for (const c of this.gateways[g]!.order) this.metrics.gatewayFailed(c, now);
  }

  /** Whom each client's award currently names (−1: none). */
  awardOf(c: number): number {
    return this.clients[c]!.awardGw;
  }

  // --- receiving ---

  receive(node: number, data: Uint8Array, now: number): void {
    const d = this.#codec.decode(data);
    if (!d.ok) {
      this.counters.decodeErrors++;
      return;
    }
    const c = this.#clientOfNode[node]!;
    const g = this.#gatewayOfNode[node]!;
    const replay = c >= 0 ? this.clients[c]!.replay : this.gateways[g]!.replay;
    const auth = authenticate(this.crypto, replay, d.value, now);
    if (!auth.ok) {
      this.counters.authErrors++;
      return;
    }
    const m = auth.value;
    if (c >= 0) this.#clientReceives(c, m, now, d.value.sig);
    else if (g >= 0) this.#gatewayReceives(g, m, now);
  }

  #clientReceives(c: number, m: Message, now: number, sig: Uint8Array | undefined): void {
    const s = this.clients[c]!;
    switch (m.type) {
      case 'OFFER':
        s.market.handle({ type: 'offer', offer: m.body }, now);
        break;
      case 'BID':
        s.market.handle({ type: 'bid', bid: m.body }, now);
        break;
      case 'REPORT': {
        const err = checkReport(this.crypto, this.#codec, m.body, now, { maxProofAgeMs: DEFAULT_REPORT_PROOF_MAX_AGE_MS, skewMs: DEFAULT_CLOCK_SKEW_MS });
        if (err) {
          this.counters.reportErrors++;
          return;
        }
        this.counters.reportsDelivered++;
        s.market.handle({ type: 'report', reporter: nodeIdHex(m.body.sender), gateway: nodeIdHex(m.body.gateway), deliveredKbps: m.body.deliveredKbps, targetKbps: m.body.targetKbps }, now);
        break;
      }
      case 'ACCEPT': {
        const gNode = this.ids.node(nodeIdHex(m.body.sender));
        const g = gNode === undefined ? -1 : this.#gatewayOfNode[gNode]!;
        if (g < 0 || s.channels.get(g) !== 'opening') return;
        s.channels.set(g, 'open');
        if (sig) s.proofs.set(g, { accept: m.body, sig, salt: this.#salt(c, g) });
        this.#sendFunded(c, g, now);
        break;
      }
      default:
        return;
    }
    this.#drainClient(c, now);
  }

  #gatewayReceives(g: number, m: Message, now: number): void {
    const gs = this.gateways[g]!;
    const clientOf = (id: Uint8Array): number => {
      const node = this.ids.node(nodeIdHex(id));
      return node === undefined ? -1 : this.#clientOfNode[node]!;
    };
    switch (m.type) {
      case 'RFQ':
        gs.market.handle({ type: 'rfq', rfq: m.body }, now);
        break;
      case 'AWARD':
        gs.market.handle({ type: 'award', award: m.body }, now);
        break;
      case 'OPEN': {
        const c = clientOf(m.body.sender);
        if (c < 0) return;
        const gNode = this.inst.gateways[g]!.node;
        this.#send(gNode, this.inst.clients[c]!.node, this.clients[c]!.reachByGateway.get(g)?.hops ?? 1, 'ACCEPT', {
          channelId: m.body.channelId,
          creditBytes: 64 * 1024,
          lossTolerancePermille: 20,
          zeroConfCapSat: SIM_OFFER_TERMS.zeroConfCapSat,
        }, now);
        return;
      }
      case 'FUNDED': {
        const c = this.#channelClient(g, m.body.channelId);
        if (c < 0) return;
        gs.channels.add(c);
        this.#tryServe(c, g, now);
        return;
      }
      default:
        return;
    }
    this.#drainGateway(g, now);
  }

  // --- effects ---

  #drainClient(c: number, now: number): void {
    const s = this.clients[c]!;
    for (let effects = s.market.poll(); effects.length > 0; effects = s.market.poll()) {
      for (const e of effects) this.#clientEffect(c, e, now);
    }
    const due = s.market.pollTimeout();
    if (due !== undefined && (s.wakeAt < now || due < s.wakeAt)) {
      s.wakeAt = Math.max(due, now);
      this.schedule(s.wakeAt, { kind: 'clientWake', client: c });
    }
  }

  #clientEffect(c: number, e: ClientMarketEffect, now: number): void {
    const s = this.clients[c]!;
    const spec = this.inst.clients[c]!;
    switch (e.type) {
      case 'sendRfq': {
        const data = this.#encode(spec.node, 'RFQ', { ...e.body, sender: this.ids.publicKeys[spec.node]!, ts: Math.floor(now) }, now);
        this.net.chargeAir('RFQ', data.length, this.inst.floodTx[spec.node]!);
        for (const r of spec.reach) this.net.deliver(now, this.inst.gateways[r.gateway]!.node, r.hops, data);
        return;
      }
      case 'sendAward': {
        const g = this.#gatewayIndexOfHex(e.to);
        if (g < 0) return;
        s.lastAward = e.body;
        this.#send(spec.node, this.inst.gateways[g]!.node, s.reachByGateway.get(g)!.hops, 'AWARD', e.body, now);
        return;
      }
      case 'awardChanged': {
        const g = this.#gatewayIndexOfHex(e.gateway);
        if (g < 0) return;
        if (s.servedBy >= 0 && s.servedBy !== g) this.#stopServing(c, now);
        if (!e.renewed) s.probeUntil = -Infinity;
        s.awardGw = g;
        s.priceMsatPerKiB = e.priceMsatPerKiB;
        if (!e.renewed) {
          s.resends = 0;
          if (!s.channels.has(g)) {
            s.channels.set(g, 'opening');
            this.#sendOpen(c, g, now);
          }
          this.schedule(now + RESEND_MS, { kind: 'resendCheck', client: c, gateway: g });
        }
        this.#tryServe(c, g, now);
        return;
      }
      case 'probe': {
        if (this.#gatewayIndexOfHex(e.gateway) !== s.awardGw) return;
        s.probeKbps = e.kbps;
        s.probeUntil = e.until;
        return;
      }
      case 'sendReport': {
        const g = this.#gatewayIndexOfHex(e.gateway);
        const proof = s.proofs.get(g);
        if (!proof) return;
        this.counters.reports++;
        if (this.inst.gateways[g]!.claimFactor === 1) this.counters.reportsAgainstHonest++;
        const data = this.#encode(spec.node, 'REPORT', reportFields(proof, e.deliveredKbps, e.targetKbps), now);
        this.#floodReport(spec.node, data, now);
        return;
      }
      case 'stopPaying': {
        const g = this.#gatewayIndexOfHex(e.gateway);
        if (g < 0) return;
        if (s.servedBy === g) this.#stopServing(c, now);
        s.probeUntil = -Infinity;
        this.gateways[g]!.accepted.delete(c);
        if (s.awardGw === g) s.awardGw = -1;
        return;
      }
    }
  }

  #drainGateway(g: number, now: number): void {
    const gs = this.gateways[g]!;
    for (let effects = gs.market.poll(); effects.length > 0; effects = gs.market.poll()) {
      for (const e of effects) this.#gatewayEffect(g, e, now);
    }
  }

  #gatewayEffect(g: number, e: GatewayMarketEffect, now: number): void {
    const gs = this.gateways[g]!;
    const gNode = this.inst.gateways[g]!.node;
    const clientNode = this.ids.node(e.type === 'sendBid' ? e.to : e.client);
    const hops = (c: number) => this.clients[c]!.reachByGateway.get(g)?.hops ?? 1;
    const c = clientNode === undefined ? -1 : this.#clientOfNode[clientNode]!;
    if (c < 0) {
      this.counters.strangers++;
      return;
    }
    switch (e.type) {
      case 'sendBid':
        this.#send(gNode, clientNode!, hops(c), 'BID', e.body, now);
        return;
      case 'reclaimed': // the re-quote
        this.#send(gNode, clientNode!, hops(c), 'BID', e.body, now);
        return;
      case 'awardAccepted':
        gs.accepted.add(c);
        this.#tryServe(c, g, now);
        return;
      case 'awardRefused':
      case 'awardEnded':
        // Service follows payment, not the award table: a client that keeps paying
        // (e.g. while it re-auctions at the end of its term) keeps being carried.
        return;
    }
  }

  // --- service ---

  #cap(c: number, g: number, now: number): number {
    const spec = this.inst.clients[c]!;
    const s = this.clients[c]!;
    const pull = now <= s.probeUntil ? Math.max(spec.demandKbps, s.probeKbps) : spec.demandKbps;
    return Math.min(pull, s.reachByGateway.get(g)!.pathKbps);
  }

  #tryServe(c: number, g: number, now: number): void {
    const s = this.clients[c]!;
    const gs = this.gateways[g]!;
    if (s.awardGw !== g || s.servedBy === g || !gs.accepted.has(c) || !gs.channels.has(c)) return;
    if (s.servedBy >= 0) this.#stopServing(c, now);
    s.servedBy = g;
    gs.order.push(c);
    this.metrics.serviceStarted(c, now);
  }

  #stopServing(c: number, now: number): void {
    const s = this.clients[c]!;
    const gs = this.gateways[s.servedBy]!;
    const i = gs.order.indexOf(c);
    if (i >= 0) gs.order.splice(i, 1);
    // The data plane sees the client's traffic stop: no load of its own from now on.
    gs.market.handle({ type: 'clientLoad', client: this.ids.hex[this.inst.clients[c]!.node]!, kbps: 0 }, now);
    s.servedBy = -1;
    this.goodput[c] = 0;
  }

  // --- channel messages ---

  /** The salt of client c's channel with gateway g: (c, g) in its first 8 bytes. */
  #salt(c: number, g: number): Uint8Array {
    const id = new Uint8Array(32);
    const v = new DataView(id.buffer);
    v.setUint32(0, c);
    v.setUint32(4, g);
    return id;
  }

  /** As the agent derives it (report.ts channelIdFor), so that REPORT proofs check. Client c, gateway g only. */
  #channelId(c: number, g: number): Uint8Array {
    const key = c * this.gateways.length + g;
    let id = this.#channelIds.get(key);
    if (!id) {
      id = channelIdFor(this.crypto, this.ids.publicKeys[this.inst.clients[c]!.node]!, this.#salt(c, g));
      this.#channelIds.set(key, id);
      this.#channelOwner.set(bytesToHex(id), key);
    }
    return id;
  }

  #channelClient(g: number, id: Uint8Array): number {
    const key = this.#channelOwner.get(bytesToHex(id));
    return key !== undefined && key % this.gateways.length === g ? Math.floor(key / this.gateways.length) : -1;
  }

  /**
   * A REPORT goes to every client within REPORT_FLOOD_HOPS (on bat0 the agent's broadcast
   * reaches the whole segment; here it is scoped, and charged once per node that
   * rebroadcasts it).
   */
  #floodReport(from: number, data: Uint8Array, now: number): void {
    const inst = this.inst;
    let tx = 1;
    const seen = new Set([from]);
    let frontier = [from];
    for (let h = 1; h <= REPORT_FLOOD_HOPS && frontier.length > 0; h++) {
      const next: number[] = [];
      for (const n of frontier) {
        for (let k = inst.adjStart[n]!; k < inst.adjStart[n + 1]!; k++) {
          const m = inst.adj[k]!;
          if (seen.has(m)) continue;
          seen.add(m);
          next.push(m);
          if (this.#clientOfNode[m]! >= 0) this.net.deliver(now, m, h, data);
        }
      }
      if (h < REPORT_FLOOD_HOPS) tx += next.length;
      frontier = next;
    }
    this.net.chargeAir('REPORT', data.length, tx);
  }

  #sendOpen(c: number, g: number, now: number): void {
    const cNode = this.inst.clients[c]!.node;
    const gNode = this.inst.gateways[g]!.node;
    this.#send(cNode, gNode, this.clients[c]!.reachByGateway.get(g)!.hops, 'OPEN', {
      channelId: this.#channelId(c, g),
      payee: this.ids.publicKeys[gNode]!,
      capacitySat: CHANNEL_CAPACITY_SAT,
      expiryHeight: 1_000,
      anchor: this.#salt(g, c), // any 32 bytes: the hash chain is not run here
      chainLength: 65_536,
      tickKiB: SIM_OFFER_TERMS.tickKiB,
      priceMsatPerKiB: this.clients[c]!.priceMsatPerKiB,
    }, now);
  }

  #sendFunded(c: number, g: number, now: number): void {
    const cNode = this.inst.clients[c]!.node;
    const gNode = this.inst.gateways[g]!.node;
    this.#send(cNode, gNode, this.clients[c]!.reachByGateway.get(g)!.hops, 'FUNDED', {
      channelId: this.#channelId(c, g),
      txid: this.#channelId(c, g),
      vout: 0,
      capacitySat: CHANNEL_CAPACITY_SAT,
    }, now);
  }

  // --- wire ---

  #signer(node: number): Signer {
    return { crypto: this.crypto, secretKey: this.ids.secretKeys[node]!, auxRand: () => this.#random(32) };
  }

  #random(n: number): Uint8Array {
    const b = new Uint8Array(n);
    for (let i = 0; i < n; i += 4) {
      const r = Math.floor(this.rng.next() * 4294967296);
      b[i] = r & 0xff;
      if (i + 1 < n) b[i + 1] = (r >>> 8) & 0xff;
      if (i + 2 < n) b[i + 2] = (r >>> 16) & 0xff;
      if (i + 3 < n) b[i + 3] = (r >>> 24) & 0xff;
    }
    return b;
  }

  /** Encodes (and signs, for signed types) a body; signed types get sender, ts and nonce here. */
  #encode<T extends MessageType>(from: number, type: T, fields: object, now: number): Uint8Array {
    const signed = SIGNED_TYPES.has(type);
    const body = (signed ? { sender: this.ids.publicKeys[from]!, ts: Math.floor(now), nonce: this.#random(8), ...fields } : fields) as Body<T>;
    return encodeMessage(this.#codec, type, body, signed ? this.#signer(from) : undefined);
  }

  #send<T extends MessageType>(from: number, to: number, hops: number, type: T, fields: object, now: number): void {
    this.net.unicast(now, type, to, hops, this.#encode(from, type, fields, now));
  }

  #gatewayIndexOfHex(hex: string): number {
    const node = this.ids.node(hex);
    return node === undefined ? -1 : this.#gatewayOfNode[node]!;
  }
}

