// A gateway's estimate of what it can really deliver upstream, from what it measured:
// WAN interface counters (sustained throughput over windows), periodic probes
// (HTTP download throughput, TCP/UDP latency and loss to configured targets) and the
// load it serves its own clients.
//
// Rules:
// - Capacity is the best throughput observed within the horizon, times a margin ≤ 1,
//   so it is never more than something measured. No observation → capacity 0.
// - The uplink is down after N consecutive failed probes: capacity 0, uptime 0.
// - Confidence = (how many observations) × (how alike the best ones are) × (how fresh
//   the newest is); it decays with age, and capacity drops once its evidence leaves
//   the horizon.
// - Spare = capacity − current load (latest counter interval or served load,
//   whichever is higher), never negative.
// - Readings above MAX_PLAUSIBLE_KBPS are broken counters, dropped and counted.
// - Both directions are billed (DESIGN §3), so throughput is rx + tx.
// Inputs that are not finite or go backwards are dropped and counted, never thrown.
import {
  BITS_PER_BYTE,
  DEFAULT_CAPACITY_HORIZON_MS,
  DEFAULT_CAPACITY_MARGIN,
  DEFAULT_CONFIDENCE_HALF_COUNT,
  DEFAULT_CONFIDENCE_HALF_LIFE_MS,
  DEFAULT_DOWN_AFTER_FAILURES,
  DEFAULT_LOAD_MAX_AGE_MS,
  DEFAULT_MAX_OBSERVATIONS,
  DEFAULT_MAX_PROBES,
  DEFAULT_PROBE_WINDOW_MS,
  DEFAULT_SUSTAIN_WINDOW_MS,
  MAX_PLAUSIBLE_KBPS,
  PERMILLE,
} from './constants.js';
import { MarketOptionError } from './errors.js';

/** Cumulative WAN interface counters (e.g. /sys/class/net/wan/statistics). */
export interface CounterSample {
  readonly now: number;
  readonly wanRxBytes: number;
  readonly wanTxBytes: number;
}

export type ProbeKind = 'http' | 'tcp' | 'udp';

export interface ProbeResult {
  readonly now: number;
  readonly kind: ProbeKind;
  readonly target: string;
  readonly ok: boolean;
  readonly latencyMs: number;
  /** HTTP only: bytes downloaded and how long it took, for a throughput observation. */
  readonly bytes?: number;
  readonly durationMs?: number;
}

export interface CapabilityEstimate {
  readonly capacityKbps: number;
  readonly spareKbps: number;
  readonly confidencePermille: number;
  /** Median latency of recent successful probes; 0 when unknown. */
  readonly latencyMs: number;
  readonly lossPermille: number;
  readonly uptimeS: number;
}

export interface CapabilityOptions {
  readonly sustainWindowMs: number;
  readonly horizonMs: number;
  readonly maxObservations: number;
  /** Share of the best measurement advertised, in (0, 1]. */
  readonly margin: number;
  readonly confidenceHalfCount: number;
  readonly confidenceHalfLifeMs: number;
  readonly maxProbes: number;
  readonly downAfterFailures: number;
  readonly probeWindowMs: number;
  readonly loadMaxAgeMs: number;
}

export const DEFAULT_CAPABILITY_OPTIONS: CapabilityOptions = {
  sustainWindowMs: DEFAULT_SUSTAIN_WINDOW_MS,
  horizonMs: DEFAULT_CAPACITY_HORIZON_MS,
  maxObservations: DEFAULT_MAX_OBSERVATIONS,
  margin: DEFAULT_CAPACITY_MARGIN,
  confidenceHalfCount: DEFAULT_CONFIDENCE_HALF_COUNT,
  confidenceHalfLifeMs: DEFAULT_CONFIDENCE_HALF_LIFE_MS,
  maxProbes: DEFAULT_MAX_PROBES,
  downAfterFailures: DEFAULT_DOWN_AFTER_FAILURES,
  probeWindowMs: DEFAULT_PROBE_WINDOW_MS,
  loadMaxAgeMs: DEFAULT_LOAD_MAX_AGE_MS,
};

export type ObservationSource = 'counters' | 'probe' | 'served';

export interface Observation {
  readonly at: number;
  readonly kbps: number;
  readonly source: ObservationSource;
}

interface CounterPoint {
  readonly now: number;
  readonly total: number;
}

/** How many of the best observations the stability factor looks at. */
const STABILITY_TOP = 8;

export class CapabilityEstimator {
  readonly #opts: CapabilityOptions;
  #observations: Observation[] = [];
  #probes: ProbeResult[] = [];
  #windowStart: CounterPoint | undefined;
  #last: CounterPoint | undefined;
  #counterLoad: { at: number; kbps: number } | undefined;
  #servedLoad: { at: number; kbps: number } | undefined;
  #consecutiveFailures = 0;
  #upSince: number | undefined;
  #rejected = 0;

  constructor(opts: Partial<CapabilityOptions> = {}) {
    this.#opts = { ...DEFAULT_CAPABILITY_OPTIONS, ...opts };
    const o = this.#opts;
    if (!(o.margin > 0 && o.margin <= 1)) throw new MarketOptionError(`margin must be in (0, 1], got ${o.margin}`);
    for (const k of ['sustainWindowMs', 'horizonMs', 'maxObservations', 'maxProbes', 'downAfterFailures'] as const) {
      if (!(o[k] >= 1)) throw new MarketOptionError(`${k} must be ≥ 1, got ${o[k]}`);
    }
  }

  /** Inputs dropped because they were not finite, negative or out of order. */
  get rejectedInputs(): number {
    return this.#rejected;
  }

  /** The throughput observations currently retained (for status and tests). */
  get observations(): readonly Observation[] {
    return this.#observations;
  }

  /** A reading of the WAN counters. A counter going backwards (reset, wrap) restarts the window. */
  counterSample(s: CounterSample): void {
    if (!isTime(s.now) || !isAmount(s.wanRxBytes) || !isAmount(s.wanTxBytes)) {
      this.#rejected++;
      return;
    }
    const point = { now: s.now, total: s.wanRxBytes + s.wanTxBytes };
    const last = this.#last;
    if (last && point.now <= last.now) {
      this.#rejected++;
      return;
    }
    this.#upSince ??= s.now;
    if (!last || !this.#windowStart || point.total < last.total) {
      this.#windowStart = point;
      this.#last = point;
      return;
    }
    this.#counterLoad = { at: point.now, kbps: Math.min(MAX_PLAUSIBLE_KBPS, rateKbps(point.total - last.total, point.now - last.now)) };
    this.#last = point;
    const start = this.#windowStart;
    if (point.now - start.now >= this.#opts.sustainWindowMs) {
      this.#observe(point.now, rateKbps(point.total - start.total, point.now - start.now), 'counters');
      this.#windowStart = point;
    }
  }

  probeResult(p: ProbeResult): void {
    if (!isTime(p.now) || !isAmount(p.latencyMs)) {
      this.#rejected++;
      return;
    }
    this.#probes.push(p);
    if (this.#probes.length > this.#opts.maxProbes) this.#probes.shift();
    if (p.ok) {
      this.#consecutiveFailures = 0;
      this.#upSince ??= p.now;
      if (p.kind === 'http' && p.bytes !== undefined && p.durationMs !== undefined) {
        if (isAmount(p.bytes) && p.durationMs > 0 && Number.isFinite(p.durationMs) && p.bytes > 0) {
          this.#observe(p.now, rateKbps(p.bytes, p.durationMs), 'probe');
        } else this.#rejected++;
      }
    } else {
      this.#consecutiveFailures++;
      if (this.#isDown()) this.#upSince = undefined;
    }
  }

  /** What the agent currently carries for its own clients, in kbit/s (from the data plane). */
  servedLoad(now: number, kbps: number): void {
    if (!isTime(now) || !isAmount(kbps) || kbps > MAX_PLAUSIBLE_KBPS) {
      this.#rejected++;
      return;
    }
    this.#servedLoad = { at: now, kbps };
    if (kbps > 0) this.#observe(now, kbps, 'served');
  }

  estimate(now: number): CapabilityEstimate {
    this.#prune(now);
    const down = this.#isDown();
    const obs = this.#observations;
    const peak = obs.reduce((m, o) => Math.max(m, o.kbps), 0);
    const capacityKbps = down ? 0 : Math.floor(peak * this.#opts.margin);
    const load = Math.max(this.#freshLoad(this.#counterLoad, now), this.#freshLoad(this.#servedLoad, now));
    const spareKbps = Math.max(0, Math.floor(capacityKbps - load));
    const confidencePermille = capacityKbps === 0 ? 0 : Math.round(PERMILLE * this.#confidence(now));
    const recent = this.#probes.filter((p) => p.now > now - this.#opts.probeWindowMs && p.now <= now);
    const okLatencies = recent.filter((p) => p.ok).map((p) => p.latencyMs);
    const latencyMs = okLatencies.length === 0 ? 0 : Math.round(median(okLatencies));
    const lossPermille =
      recent.length === 0 ? 0 : Math.round((PERMILLE * recent.filter((p) => !p.ok).length) / recent.length);
    const uptimeS = down || this.#upSince === undefined ? 0 : Math.max(0, Math.floor((now - this.#upSince) / 1000));
    return { capacityKbps, spareKbps, confidencePermille, latencyMs, lossPermille, uptimeS };
  }

  #isDown(): boolean {
    return this.#consecutiveFailures >= this.#opts.downAfterFailures;
  }

  #observe(at: number, kbps: number, source: ObservationSource): void {
    if (!(kbps <= MAX_PLAUSIBLE_KBPS)) {
      this.#rejected++;
      return;
    }
    this.#observations.push({ at, kbps, source });
    if (this.#observations.length > this.#opts.maxObservations) this.#observations.shift();
  }

  #prune(now: number): void {
    const horizon = now - this.#opts.horizonMs;
    if (this.#observations.some((o) => o.at < horizon)) {
      this.#observations = this.#observations.filter((o) => o.at >= horizon);
    }
  }

  #freshLoad(load: { at: number; kbps: number } | undefined, now: number): number {
    return load && now - load.at <= this.#opts.loadMaxAgeMs ? load.kbps : 0;
  }

  // count × stability × freshness, each in [0, 1].
  #confidence(now: number): number {
    const obs = this.#observations;
    if (obs.length === 0) return 0;
    const count = obs.length / (obs.length + this.#opts.confidenceHalfCount);
    const top = obs
      .map((o) => o.kbps)
      .sort((a, b) => b - a)
      .slice(0, STABILITY_TOP);
    const mean = top.reduce((s, x) => s + x, 0) / top.length;
    const sd = Math.sqrt(top.reduce((s, x) => s + (x - mean) ** 2, 0) / top.length);
    const stability = mean > 0 ? Math.max(0, 1 - sd / mean) : 0;
    const newest = obs.reduce((m, o) => Math.max(m, o.at), -Infinity);
    const age = Math.max(0, now - newest);
    const freshness = 0.5 ** (age / this.#opts.confidenceHalfLifeMs);
    return count * stability * freshness;
  }
}

function rateKbps(bytes: number, ms: number): number {
  return (bytes * BITS_PER_BYTE) / ms;
}

function isTime(x: number): boolean {
  return Number.isFinite(x);
}

function isAmount(x: number): boolean {
  return Number.isFinite(x) && x >= 0;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}
