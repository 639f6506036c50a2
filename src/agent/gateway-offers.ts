// The gateway's OFFER beacons: a capability estimate from what the uplink really did
// (WAN interface counters when configured, HTTP download probes of a configured URL,
// and the bytes the data plane served),
// turned into an OFFER at the current asking price and channel terms, sent on the
// OfferSchedule (every few seconds, and soon after a real change, e.g. a new price).
import { readFile } from 'node:fs/promises';
import type { BitmeshConfig } from '../config/schema.js';
import { CapabilityEstimator } from '../core/market/capability.js';
import { DEFAULT_JOINT_PROBE_PERIOD_MS, JOINT_PROBE_QUIET_MS } from '../core/market/constants.js';
import { OfferSchedule, offerContent, type OfferFields } from '../core/market/offer.js';
import { httpProbe } from './http-probe.js';
import type { Logger } from './log.js';

/** Uplink probes: a URL downloaded every `intervalMs` (at most `maxBytes`). */
export interface UplinkProbeOptions {
  readonly url: string;
  readonly intervalMs: number;
  readonly maxBytes?: number;
}

export interface GatewayOffersDeps {
  /** Our node id (hex): our clients probe us together at slots drawn from it (joint-probe.ts). */
  readonly self: string;
  readonly config: BitmeshConfig;
  readonly clock: () => number;
  readonly log: Logger;
  /** The asking price now (the operator may change it remotely). */
  readonly price: () => number;
  /** False while selling is paused: no offers go out. */
  readonly selling: () => boolean;
  readonly send: (offer: OfferFields) => void;
  /** Throughput probes of the uplink; without them a gateway that has served nothing measures nothing. */
  readonly probe?: UplinkProbeOptions;
  /** After each probe: the estimate may have changed (bidding answers RFQs it could not). */
  readonly onProbed?: () => void;
}

const COUNTER_SAMPLE_MS = 1000;
const PROBE_MAX_BYTES = 4 * 1024 * 1024;
const PROBE_TIMEOUT_MS = 10_000;

export class GatewayOffers {
  readonly estimator = new CapabilityEstimator();
  readonly #schedule: OfferSchedule;
  #timer: NodeJS.Timeout | undefined;
  #prober: NodeJS.Timeout | undefined;
  #sampler: NodeJS.Timeout | undefined;
  #stopped = false;
  #servedBytes = 0;
  #servedAt: number;

  constructor(private readonly d: GatewayOffersDeps) {
    this.#servedAt = d.clock();
    this.#schedule = new OfferSchedule({ jointProbe: { gateway: d.self, periodMs: DEFAULT_JOINT_PROBE_PERIOD_MS, windowMs: JOINT_PROBE_QUIET_MS } });
  }

  start(): void {
    this.#sample();
    this.#sampler = setInterval(() => this.#sample(), COUNTER_SAMPLE_MS);
    this.#sampler.unref?.();
    // With a probe, the first OFFER waits for its result: an offer of nothing measured
    // tells clients nothing, and a changed offer may only follow it after the min gap.
    if (this.d.probe) void this.#probe(this.d.probe);
    else this.poke();
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#sampler) clearInterval(this.#sampler);
    if (this.#prober) clearTimeout(this.#prober);
  }

  /** One probe, then the next after the interval (never two at once); the offer follows the estimate. */
  async #probe(p: UplinkProbeOptions): Promise<void> {
    const r = await httpProbe({ url: p.url, maxBytes: p.maxBytes ?? PROBE_MAX_BYTES, timeoutMs: PROBE_TIMEOUT_MS, clock: this.d.clock });
    if (this.#stopped) return;
    this.estimator.probeResult(r);
    if (!r.ok) this.d.log.debug('uplink probe failed', { url: p.url });
    else this.d.log.info('uplink probed', { kbps: Math.round(((r.bytes ?? 0) * 8) / (r.durationMs ?? 1)), ms: r.durationMs });
    this.poke();
    this.d.onProbed?.();
    this.#prober = setTimeout(() => void this.#probe(p), p.intervalMs);
    this.#prober.unref?.();
  }

  /** Bytes the data plane forwarded for clients since the last call (the served load). */
  served(bytes: number): void {
    this.#servedBytes += bytes;
  }

  /** A new neighbour: it hears our offer within the min gap rather than at the next interval. */
  newcomer(): void {
    if (this.#stopped) return;
    this.#schedule.announce();
    this.#drive(this.d.clock());
  }

  /** Re-evaluates the offer now (price changed, selling paused or resumed). */
  poke(): void {
    if (this.#stopped) return;
    const now = this.d.clock();
    const { channel } = this.d.config;
    this.#schedule.update(
      offerContent(this.estimator.estimate(now), this.d.price(), {
        tickKiB: channel.tickKib,
        creditKiB: channel.initialCreditKib,
        maxCreditMsat: channel.maxCreditMsat,
        minChannelSat: 1000,
        maxChannelSat: 10_000_000,
        zeroConfCapSat: channel.zeroConfCapSat,
      }),
      now,
    );
    this.#drive(now);
  }

  #drive(now: number): void {
    if (this.#timer) clearTimeout(this.#timer);
    if (this.#stopped) return;
    const offer = this.#schedule.pollOffer(now);
    if (offer && this.d.selling()) this.d.send(offer);
    const next = this.#schedule.pollTimeout();
    if (next !== undefined) this.#timer = setTimeout(() => this.poke(), Math.max(10, next - now));
  }

  async #sample(): Promise<void> {
    const now = this.d.clock();
    const kbps = this.#servedBytes > 0 ? (this.#servedBytes * 8) / Math.max(1, now - this.#servedAt) : 0;
    this.estimator.servedLoad(now, Math.round(kbps));
    this.#servedBytes = 0;
    this.#servedAt = now;
    const wan = this.d.config.market.wanInterface;
    if (!wan) return;
    try {
      const read = (f: string) => readFile(`/sys/class/net/${wan}/statistics/${f}`, 'utf8').then(Number);
      const [rx, tx] = await Promise.all([read('rx_bytes'), read('tx_bytes')]);
      this.estimator.counterSample({ now, wanRxBytes: rx, wanTxBytes: tx });
    } catch (e) {
      this.d.log.debug('wan counters unavailable', { iface: wan, error: (e as Error).message });
    }
  }
}
