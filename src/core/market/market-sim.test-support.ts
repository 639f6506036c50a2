// A tiny hand-driven market for tests: one client machine, scripted gateways that bid
// their configured claims and deliver what they really can, on a virtual clock.
import type { BidBody, OfferBody } from '../wire/messages.js';
import { ClientMarket, type ClientMarketEffect, type ClientMarketOptions, type Rng } from './client-market.js';
import { ReputationTable, type ReputationOptions } from './reputation.js';

export interface SimGateway {
  readonly n: number;
  priceMsatPerKiB: number;
  claimKbps: number;
  realKbps: number;
  /** false: accepts awards but delivers nothing. */
  alive: boolean;
  /** Ignores capacity probes (an agent without the probe adapter). */
  ignoreProbes?: boolean;
  /** Multiplier on each delivery window, for noise. */
  jitter?: () => number;
  offerSeq?: number;
}

export const idHex = (n: number): string => n.toString(16).padStart(64, '0');
export const idBytes = (n: number): Uint8Array => {
  const b = new Uint8Array(32);
  new DataView(b.buffer).setUint32(28, n);
  return b;
};

/** mulberry32: a small seeded PRNG, so runs are reproducible. */
export function seededRng(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimLogEntry {
  readonly at: number;
  readonly effect: ClientMarketEffect;
}

export class MarketSim {
  readonly client: ClientMarket;
  readonly reputation: ReputationTable;
  readonly log: SimLogEntry[] = [];
  current: number | undefined; // gateway n being paid
  /** ms of award time per gateway n. */
  readonly awardedMs = new Map<number, number>();
  now = 0;
  /** A capacity probe in progress (effect `probe`). */
  probe: { gateway: number; kbps: number; until: number } | undefined;

  constructor(
    readonly gateways: SimGateway[],
    readonly clientN: number,
    opts: Partial<ClientMarketOptions> = {},
    rng: Rng = seededRng(clientN),
    reputation: ReputationTable | Partial<ReputationOptions> = {},
  ) {
    this.reputation = reputation instanceof ReputationTable ? reputation : new ReputationTable(reputation);
    this.client = new ClientMarket({ self: idHex(clientN), maxPriceMsatPerKiB: 1000, ...opts }, this.reputation, rng);
  }

  gateway(n: number): SimGateway {
    const g = this.gateways.find((x) => x.n === n);
    if (!g) throw new Error(`no gateway ${n}`);
    return g;
  }

  /** Runs until `until`, stepping `stepMs`; offers every `offerEveryMs`. */
  run(until: number, stepMs = 250, offerEveryMs = 5000): void {
    while (this.now < until) {
      const t = this.now + stepMs;
      this.now = t;
      if (t % offerEveryMs === 0) for (const g of this.gateways) this.client.handle({ type: 'offer', offer: this.offer(g) }, t);
      const due = this.client.pollTimeout();
      if (due !== undefined && due <= t) this.client.handleTimeout(t);
      this.drain(t);
      if (this.current !== undefined) {
        const g = this.gateway(this.current);
        const p = this.probe && this.probe.gateway === g.n && t <= this.probe.until ? this.probe : undefined;
        const pull = p ? Math.max(p.kbps, this.client.wantedKbps) : this.client.wantedKbps;
        const kbps = g.alive ? Math.min(g.realKbps, pull) * (g.jitter?.() ?? 1) : 0;
        const report = { type: 'delivery', gateway: idHex(g.n), bytes: Math.floor((kbps * stepMs) / 8), backlogged: kbps < this.client.wantedKbps } as const;
        this.client.handle(p ? { ...report, probing: true } : report, t);
        this.awardedMs.set(g.n, (this.awardedMs.get(g.n) ?? 0) + stepMs);
        this.drain(t);
      }
    }
  }

  demand(wantedKbps: number): void {
    this.client.handle({ type: 'demand', wantedKbps }, this.now);
    this.drain(this.now);
  }

  drain(t: number): void {
    for (let effects = this.client.poll(); effects.length > 0; effects = this.client.poll()) {
      for (const effect of effects) {
        this.log.push({ at: t, effect });
        if (effect.type === 'sendRfq') {
          for (const g of this.gateways) this.client.handle({ type: 'bid', bid: this.bid(g, effect.body.rfqId) }, t);
        } else if (effect.type === 'awardChanged') {
          this.current = Number.parseInt(effect.gateway, 16);
        } else if (effect.type === 'probe') {
          const n = Number.parseInt(effect.gateway, 16);
          if (!this.gateway(n).ignoreProbes) this.probe = { gateway: n, kbps: effect.kbps, until: effect.until };
        } else if (effect.type === 'stopPaying') {
          if (this.current === Number.parseInt(effect.gateway, 16)) this.current = undefined;
        }
      }
    }
  }

  effects(type: ClientMarketEffect['type']): SimLogEntry[] {
    return this.log.filter((e) => e.effect.type === type);
  }

  bid(g: SimGateway, rfqId: Uint8Array): BidBody {
    return {
      sender: idBytes(g.n),
      ts: this.now,
      nonce: new Uint8Array(8),
      rfqId,
      client: idBytes(this.clientN),
      priceMsatPerKiB: g.priceMsatPerKiB,
      capacityKbps: g.claimKbps,
      confidencePermille: 900,
      latencyMs: 20,
      termMs: 300_000,
    };
  }

  offer(g: SimGateway): OfferBody {
    g.offerSeq = (g.offerSeq ?? 0) + 1;
    return {
      sender: idBytes(g.n),
      ts: this.now,
      nonce: new Uint8Array(8),
      seq: g.offerSeq,
      priceMsatPerKiB: g.priceMsatPerKiB,
      capacityKbps: g.claimKbps,
      spareKbps: g.claimKbps,
      confidencePermille: 900,
      latencyMs: 20,
      lossPermille: 0,
      tickKiB: 16,
      creditKiB: 64,
      maxCreditMsat: 1000,
      minChannelSat: 10_000,
      maxChannelSat: 1_000_000,
      zeroConfCapSat: 100_000,
    };
  }
}
