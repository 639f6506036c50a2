// OFFER beacons: what a gateway tells everyone — price, what it measured it can carry,
// and its channel terms — sent every few seconds and soon after a real change.
//
// Rules:
// - The first offer is due at once; then every `intervalMs`.
// - A change worth announcing (price or terms at all; capacity, or spare, by more than
//   `changeRatio` of the capacity; confidence, latency or loss by a step) makes an offer due at
//   `minGapMs` after the last one, so a flapping estimate cannot flood the mesh.
// - A newcomer in the neighbourhood (announce) makes an offer due at `minGapMs` after
//   the last one too: a client that has not heard our terms sizes its first channel
//   blind, and one above our zero-conf cap waits for a confirmation.
// - `seq` grows by one per offer sent, so receivers can drop reordered beacons.
// - Within `jointProbe.windowMs` of one of our joint-probe slots (joint-probe.ts) the
//   spare stays what it was before the slot: our clients' probes fill it then, by
//   design, and announcing that and its return seconds later would be two beacons
//   per slot that mean nothing.
// The agent adds the signed header (sender, ts, nonce) and signs.
import type { OfferBody } from '../wire/messages.js';
import type { CapabilityEstimate } from './capability.js';
import {
  DEFAULT_OFFER_CHANGE_RATIO,
  DEFAULT_OFFER_CONFIDENCE_STEP,
  DEFAULT_OFFER_INTERVAL_MS,
  DEFAULT_OFFER_LATENCY_STEP_MS,
  DEFAULT_OFFER_LOSS_STEP_PERMILLE,
  DEFAULT_OFFER_MIN_GAP_MS,
} from './constants.js';
import { MarketOptionError } from './errors.js';
import { inJointProbeWindow } from './joint-probe.js';

/** Channel terms a gateway offers (DESIGN §5, §6); from the channel config. */
export interface OfferTerms {
  readonly tickKiB: number;
  readonly creditKiB: number;
  readonly maxCreditMsat: number;
  readonly minChannelSat: number;
  readonly maxChannelSat: number;
  readonly zeroConfCapSat: number;
}

/** An OFFER body without the signed header. */
export type OfferFields = Omit<OfferBody, 'sender' | 'ts' | 'nonce'>;
/** What an offer says, before it is numbered. */
export type OfferContent = Omit<OfferFields, 'seq'>;

/** OFFER content from the estimate, the asking price and the terms. Spare never exceeds capacity. */
export function offerContent(estimate: CapabilityEstimate, priceMsatPerKiB: number, terms: OfferTerms): OfferContent {
  const content: OfferContent = {
    priceMsatPerKiB,
    capacityKbps: estimate.capacityKbps,
    spareKbps: Math.min(estimate.spareKbps, estimate.capacityKbps),
    confidencePermille: Math.min(1000, estimate.confidencePermille),
    latencyMs: estimate.latencyMs,
    lossPermille: Math.min(1000, estimate.lossPermille),
    ...terms,
  };
  for (const [k, v] of Object.entries(content)) {
    if (!Number.isSafeInteger(v) || v < 0) throw new MarketOptionError(`offer field ${k} must be a non-negative safe integer, got ${v}`);
  }
  return content;
}

export interface OfferScheduleOptions {
  readonly intervalMs: number;
  readonly minGapMs: number;
  readonly changeRatio: number;
  readonly confidenceStep: number;
  readonly latencyStepMs: number;
  readonly lossStepPermille: number;
  /** Our own joint-probe slots (our node id, their period) and how long the spare is kept from each. */
  readonly jointProbe?: { readonly gateway: string; readonly periodMs: number; readonly windowMs: number };
}

export const DEFAULT_OFFER_SCHEDULE: OfferScheduleOptions = {
  intervalMs: DEFAULT_OFFER_INTERVAL_MS,
  minGapMs: DEFAULT_OFFER_MIN_GAP_MS,
  changeRatio: DEFAULT_OFFER_CHANGE_RATIO,
  confidenceStep: DEFAULT_OFFER_CONFIDENCE_STEP,
  latencyStepMs: DEFAULT_OFFER_LATENCY_STEP_MS,
  lossStepPermille: DEFAULT_OFFER_LOSS_STEP_PERMILLE,
};

/** True when `next` differs from `sent` enough to announce before the interval is up. */
export function offerChanged(sent: OfferContent, next: OfferContent, o: OfferScheduleOptions): boolean {
  const exact = ['priceMsatPerKiB', 'tickKiB', 'creditKiB', 'maxCreditMsat', 'minChannelSat', 'maxChannelSat', 'zeroConfCapSat'] as const;
  if (exact.some((k) => sent[k] !== next[k])) return true;
  // Spare moves against capacity: a nearly full gateway's spare flapping between 1 and
  // 2 % of its uplink changes no client's choice, and would beacon every second.
  const scale = Math.max(sent.capacityKbps, next.capacityKbps);
  if (Math.abs(sent.capacityKbps - next.capacityKbps) > o.changeRatio * scale) return true;
  if (Math.abs(sent.spareKbps - next.spareKbps) > o.changeRatio * scale) return true;
  return (
    Math.abs(sent.confidencePermille - next.confidencePermille) >= o.confidenceStep ||
    Math.abs(sent.latencyMs - next.latencyMs) >= o.latencyStepMs ||
    Math.abs(sent.lossPermille - next.lossPermille) >= o.lossStepPermille
  );
}

export class OfferSchedule {
  readonly #opts: OfferScheduleOptions;
  #content: OfferContent | undefined;
  #firstUpdate = 0;
  #sent: { content: OfferContent; at: number } | undefined;
  #seq = 0;
  #announce = false;

  constructor(opts: Partial<OfferScheduleOptions> = {}, firstSeq = 0) {
    this.#opts = { ...DEFAULT_OFFER_SCHEDULE, ...opts };
    if (!(this.#opts.intervalMs > 0) || !(this.#opts.minGapMs >= 0)) {
      throw new MarketOptionError('intervalMs must be > 0 and minGapMs ≥ 0');
    }
    this.#seq = firstSeq;
  }

  /** The latest content (from a fresh estimate or a config change). */
  update(content: OfferContent, now: number): void {
    if (!this.#content) this.#firstUpdate = now;
    const j = this.#opts.jointProbe;
    const keep = this.#content && j && j.periodMs > 0 && inJointProbeWindow(j.gateway, j.periodMs, j.windowMs, now);
    this.#content = keep ? { ...content, spareKbps: Math.min(this.#content!.spareKbps, content.capacityKbps) } : content;
  }

  /** Someone new can hear us: offer again soon (at `minGapMs` after the last offer). */
  announce(): void {
    this.#announce = true;
  }

  /** When the next offer is due; undefined before any content. Re-arm the timer from this. */
  pollTimeout(): number | undefined {
    if (!this.#content) return undefined;
    if (!this.#sent) return this.#firstUpdate;
    const { at, content } = this.#sent;
    if (this.#announce || offerChanged(content, this.#content, this.#opts)) return at + this.#opts.minGapMs;
    return at + this.#opts.intervalMs;
  }

  /** The offer to send now, numbered, or undefined if none is due. */
  pollOffer(now: number): OfferFields | undefined {
    const due = this.pollTimeout();
    if (due === undefined || now < due || !this.#content) return undefined;
    this.#seq++;
    this.#announce = false;
    this.#sent = { content: this.#content, at: now };
    return { seq: this.#seq, ...this.#content };
  }
}
