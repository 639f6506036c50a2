// What the simulator reports per selector, gathered the same way for all of them.
//
// - served share: client-seconds with goodput > 0 over client-seconds with demand.
// - welfare: Σ over ticks and served clients of (value_c − cost_g) × goodput × dt,
//   in msat (the value of the goodput delivered minus what it really cost the gateway
//   to carry it; payments between them are transfers and cancel out).
// - time to first paid byte: from a client's arrival to the moment a gateway first
//   carries its traffic under a paid channel.
// - failover time: from a gateway's uplink failing to each of its clients being
//   carried again (by anyone, the same gateway after recovery included).
// - price dispersion: coefficient of variation of the price paid, weighted by goodput.
import { KIB_PER_KBIT } from './flow.js';

export interface StrategyReport {
  readonly name: string;
  readonly servedShare: number;
  readonly welfareMsat: number;
  readonly welfareRatio: number;
  readonly medianFirstPaidByteMs: number | null;
  readonly medianFailoverMs: number | null;
  readonly p90FailoverMs: number | null;
  readonly failoversUnrecovered: number;
  readonly controlKbpsPerNode: number | null;
  readonly meanPriceMsatPerKiB: number | null;
  readonly priceDispersion: number | null;
}

export class StrategyMetrics {
  #activeSeconds = 0;
  #servedSeconds = 0;
  #welfare = 0;
  #priceW = 0;
  #priceSum = 0;
  #priceSq = 0;
  readonly #firstServed: Float64Array;
  readonly #failoverPending = new Map<number, number>();
  readonly #failovers: number[] = [];

  constructor(
    readonly name: string,
    private readonly starts: ArrayLike<number>,
  ) {
    this.#firstServed = new Float64Array(starts.length).fill(NaN);
  }

  /** One client over one tick of `dtS` seconds. */
  tick(dtS: number, goodputKbps: number, profitPerKiB: number, priceMsatPerKiB: number): void {
    this.#activeSeconds += dtS;
    if (!(goodputKbps > 0)) return;
    this.#servedSeconds += dtS;
    const kib = goodputKbps * dtS * KIB_PER_KBIT;
    this.#welfare += profitPerKiB * kib;
    this.#priceW += kib;
    this.#priceSum += kib * priceMsatPerKiB;
    this.#priceSq += kib * priceMsatPerKiB * priceMsatPerKiB;
  }

  /** A gateway began carrying this client's traffic at `t`. */
  serviceStarted(client: number, t: number): void {
    if (Number.isNaN(this.#firstServed[client]!)) this.#firstServed[client] = t - this.starts[client]!;
    const since = this.#failoverPending.get(client);
    if (since !== undefined) {
      this.#failovers.push(t - since);
      this.#failoverPending.delete(client);
    }
  }

  /** The gateway carrying `client` lost its uplink at `t`. */
  gatewayFailed(client: number, t: number): void {
    if (!this.#failoverPending.has(client)) this.#failoverPending.set(client, t);
  }

  report(optimumWelfareMsat: number, controlKbpsPerNode: number | null): StrategyReport {
    const fs = [...this.#firstServed].filter((v) => !Number.isNaN(v));
    const mean = this.#priceW > 0 ? this.#priceSum / this.#priceW : null;
    const variance = mean !== null ? Math.max(0, this.#priceSq / this.#priceW - mean * mean) : null;
    return {
      name: this.name,
      servedShare: this.#activeSeconds > 0 ? this.#servedSeconds / this.#activeSeconds : 0,
      welfareMsat: this.#welfare,
      welfareRatio: optimumWelfareMsat > 0 ? this.#welfare / optimumWelfareMsat : 0,
      medianFirstPaidByteMs: quantile(fs, 0.5),
      medianFailoverMs: quantile(this.#failovers, 0.5),
      p90FailoverMs: quantile(this.#failovers, 0.9),
      failoversUnrecovered: this.#failoverPending.size,
      controlKbpsPerNode,
      meanPriceMsatPerKiB: mean,
      priceDispersion: mean !== null && mean > 0 && variance !== null ? Math.sqrt(variance) / mean : null,
    };
  }
}

export function quantile(values: readonly number[], q: number): number | null {
  if (values.length === 0) return null;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}
