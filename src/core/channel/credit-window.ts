// The payee's adaptive credit (DESIGN.md §6): like a TCP window, throughput is at most
// window / round trip, so the credit grows to what the measured rate × payment round
// trip needs to keep the link full, and never past the cap (maxCreditMsat worth).
//
// Round trip: the payer may reveal tick i once it has received (i − 1) ticks of
// bytes. The payee notes when its served count first reached (i − 1) × tick; the
// arrival of tick i closes the sample. The target uses the smallest sample (as BBR
// does for its BDP): a tick held back by a stall, a resend or the payer's own
// persistence is not a longer path, and must not inflate the credit. Like BBR's, the
// minimum expires after MIN_RTT_WINDOW_MS: a path that really grew longer (a mesh
// route change) is measured afresh instead of held to its old, shorter round trip. Rate: served bytes per ms, sampled over at
// least RATE_SAMPLE_MIN_MS and smoothed. When the credit is what limits the flow,
// rate ≈ window / rtt and the target (rate × rtt × headroom) is larger than the
// window, so it grows; once the link limits the flow the target stops growing.
// The credit never shrinks within a channel: the bound it promises stays simple.
//
// Meter lag: when both sides learn their byte counts by polling (nft mode reads kernel
// counters every 100 ms), a served count steps forward at the payee's poll and the
// payer's ticks follow its own poll, so a round-trip sample says little (often ~0 ms)
// while the loop really takes up to both intervals longer. The lag is added to the
// smallest sample: without it the credit never grows past its start in nft mode.
import { CREDIT_HEADROOM, MAX_THRESHOLD_SAMPLES, MIN_RTT_WINDOW_MS, RATE_SAMPLE_MIN_MS } from './constants.js';

export class CreditWindow {
  #credit: number;
  #srtt: number | undefined;
  #minRtt: number | undefined;
  #minRttAt = 0;
  #rate = 0;
  #rateBytes = 0;
  #rateStart: number | undefined;
  /** tick threshold k → when served first reached k × tick. Bounded. */
  readonly #crossed = new Map<number, number>();
  #lastThreshold = -1;

  constructor(
    initialBytes: number,
    readonly capBytes: number,
    private readonly tickBytes: number,
    /** How much later than real the two sides' counts can be (both meters' intervals). */
    private readonly lagMs = 0,
  ) {
    this.#credit = Math.min(initialBytes, capBytes);
  }

  get creditBytes(): number {
    return this.#credit;
  }
  get srttMs(): number | undefined {
    return this.#srtt;
  }
  get minRttMs(): number | undefined {
    return this.#minRtt;
  }
  get rateBytesPerMs(): number {
    return this.#rate;
  }

  /** Should be called when serving starts (the first grant), with served so far. */
  start(served: number, now: number): void {
    this.onServed(0, served, now);
    if (!this.#crossed.has(0)) this.#crossed.set(0, now);
    if (this.#lastThreshold < 0) this.#lastThreshold = 0;
    this.#rateStart = now;
  }

  /** Should be called after the served count grew by `bytes` to `served`. */
  onServed(bytes: number, served: number, now: number): void {
    if (this.#rateStart === undefined) this.#rateStart = now;
    this.#rateBytes += bytes;
    const span = now - this.#rateStart;
    if (span >= RATE_SAMPLE_MIN_MS) {
      const sample = this.#rateBytes / span;
      this.#rate = this.#rate === 0 ? sample : this.#rate + (sample - this.#rate) / 4;
      this.#rateBytes = 0;
      this.#rateStart = now;
    }
    const top = Math.floor(served / this.tickBytes);
    const from = Math.max(this.#lastThreshold + 1, top - MAX_THRESHOLD_SAMPLES + 1);
    for (let k = from; k <= top; k++) this.#crossed.set(k, now);
    if (top > this.#lastThreshold) this.#lastThreshold = top;
    while (this.#crossed.size > MAX_THRESHOLD_SAMPLES) this.#crossed.delete(this.#crossed.keys().next().value!);
  }

  /** Should be called when tick `index` verified; returns the credit now in force. */
  onTick(index: number, now: number): number {
    // A tick for bytes this count has not reached yet (a payer ahead of us: a successor
    // channel whose first bytes were billed to the one before it) closed its round trip
    // before it began: a sample of 0. Without a sample the credit never grew.
    const servedAt = index - 1 > this.#lastThreshold ? now : this.#crossed.get(index - 1);
    for (const k of this.#crossed.keys()) {
      if (k >= index) break;
      this.#crossed.delete(k);
    }
    if (servedAt !== undefined) {
      const sample = Math.max(0, now - servedAt);
      this.#srtt = this.#srtt === undefined ? sample : this.#srtt + (sample - this.#srtt) / 8;
      if (this.#minRtt === undefined || sample <= this.#minRtt || now - this.#minRttAt > MIN_RTT_WINDOW_MS) {
        this.#minRtt = sample;
        this.#minRttAt = now;
      }
    }
    if (this.#minRtt !== undefined && this.#rate > 0) {
      const target = Math.ceil(this.#rate * (Math.max(this.#minRtt, 1) + this.lagMs) * CREDIT_HEADROOM);
      if (target > this.#credit) this.#credit = Math.min(this.capBytes, target);
    }
    return this.#credit;
  }

  /** After a restart: the credit already promised stays in force. */
  restore(creditBytes: number): void {
    this.#credit = Math.min(this.capBytes, Math.max(this.#credit, creditBytes));
  }
}
