// The payer (client) side of a channel: a pure state machine.
//
// Rules (DESIGN.md §6):
//  1. OPEN commits to the hash-chain anchor W_0 and the terms; it is resent with
//     backoff until ACCEPT. ACCEPT asks the adapter to fund (`fund` effect); the
//     adapter reports the broadcast funding (fundingBroadcast) and FUNDED goes out,
//     resent until the first bytes arrive.
//  2. Pay for what was received: with R bytes received, the payer has revealed at most
//        floor(R / tick) + 1
//     ticks — tick n + 1 only once the bytes paid by tick n are in, so it prepays at
//     most one tick. A jump of more than MAX_TICK_GAP is sent as intermediate ticks.
//  3. Whenever the paid amount (ticks × tickKiB × price) crosses a whole satoshi, a
//     COMMIT follows: seq = ticks paid for, paidMsat = seq × tick price, signed by the
//     injected signCommitment. States only go up.
//  4. No progress (no new bytes) for a while: resend the last TICK and COMMIT with
//     backoff; from the second resend on, a ladder of older elements 64 apart, so a
//     payee restored from an older snapshot can catch up; after STALL_RESENDS, the
//     event gatewayStalled (the agent fails over). Nothing new is paid meanwhile.
//  5. Persistence: ticks are revealed only below a durable tick ceiling reserved
//     ahead. After a crash the payer assumes it revealed the whole ceiling (the safe
//     side for liveness: the payee may hold any of them) and resumes from there. It
//     also lost count of bytes received since its snapshot, which the payee may be
//     waiting to be paid for: while stalled after a restore it pays 1, 2, 4, … more
//     ticks per resend, at most maxTickReserve in all. So a crash overpays at most
//     2 × maxTickReserve ticks.
//  6. Expiry: at expiry − 144 the payer stops paying (the payee closes); at expiry it
//     emits `refund` (the adapter spends leaf B if the output is still unspent).
import {
  DEFAULT_MAX_TICK_RESERVE,
  DEFAULT_MIN_TICK_RESERVE,
  DEFAULT_PERSIST_INTERVAL_MS,
  MAX_LADDER_RUNGS,
  MAX_TICK_GAP,
  PAYEE_CLOSE_MARGIN_BLOCKS,
  RATE_SAMPLE_MIN_MS,
  RESEND_INITIAL_MS,
  RESEND_MAX_MS,
  RESERVE_INTERVALS,
  RESERVE_LOW_WATER_PERMILLE,
  STALL_RESENDS,
} from './constants.js';
import { DurableValues } from './durable.js';
import { ChannelError, ChannelUsageError } from './errors.js';
import { bytesEqual, type HashChain } from './hash-chain.js';
import type { ChannelDepsBase, CommonInput, ErrorEffect, PersistEffect, SendEffect, TimerView } from './io.js';
import { maxTicks, satFloor, tickBytes, tickMsat, type ChannelPrice } from './money.js';
import { SnapshotReader, hex } from './snapshot-json.js';
import type { Message } from '../wire/messages.js';

// --- states and transitions -------------------------------------------------------

export const PAYER_STATES = ['Opening', 'Funding', 'Open', 'Closing', 'Closed'] as const;
export type PayerState = (typeof PAYER_STATES)[number];

const PAYER_TRANSITIONS: Readonly<Record<PayerState, readonly PayerState[]>> = {
  Opening: ['Funding', 'Closed'],
  Funding: ['Open', 'Closing', 'Closed'],
  Open: ['Closing', 'Closed'],
  Closing: ['Closed'],
  Closed: [],
};

const PAYER_ACCEPTS: Readonly<Record<PayerState, ReadonlySet<Message['type']>>> = {
  Opening: new Set(['ACCEPT', 'CLOSE', 'ERROR']),
  Funding: new Set(['ACCEPT', 'CLOSE', 'ERROR']),
  Open: new Set(['ACCEPT', 'CLOSE', 'ERROR']),
  Closing: new Set(['ACCEPT', 'CLOSE', 'ERROR']),
  Closed: new Set(['ACCEPT', 'CLOSE', 'ERROR']),
};

// --- parameters -------------------------------------------------------------------

export interface PayerConfig {
  readonly persistIntervalMs: number;
  readonly minTickReserve: number;
  readonly maxTickReserve: number;
  readonly resendInitialMs: number;
  readonly resendMaxMs: number;
  readonly stallResends: number;
}

export const DEFAULT_PAYER_CONFIG: PayerConfig = {
  persistIntervalMs: DEFAULT_PERSIST_INTERVAL_MS,
  minTickReserve: DEFAULT_MIN_TICK_RESERVE,
  maxTickReserve: DEFAULT_MAX_TICK_RESERVE,
  resendInitialMs: RESEND_INITIAL_MS,
  resendMaxMs: RESEND_MAX_MS,
  stallResends: STALL_RESENDS,
};

export interface PayerDeps extends ChannelDepsBase {
  /**
   * The payer's 64-byte state signature for `paidMsat` (the chain module's
   * signCommitment bound to this channel's terms, sighash byte stripped: the payee
   * re-derives it from the amount).
   */
  readonly signCommitment: (paidMsat: bigint) => Uint8Array;
}

export interface PayerTerms extends ChannelPrice {
  readonly channelId: Uint8Array;
  readonly payee: Uint8Array;
  readonly capacitySat: bigint;
  readonly expiryHeight: number;
}

export interface AcceptedTerms {
  readonly creditBytes: number;
  readonly lossTolerancePermille: number;
  readonly zeroConfCapSat: number;
}

// --- inputs, effects, events ------------------------------------------------------

export interface FundingBroadcastInput {
  readonly kind: 'fundingBroadcast';
  readonly txid: Uint8Array;
  readonly vout: number;
}
export type PayerInput = CommonInput | FundingBroadcastInput;

export type PayerEvent =
  | ({ readonly name: 'accepted' } & AcceptedTerms)
  | { readonly name: 'gatewayStalled'; readonly receivedBytes: number; readonly paidTicks: number }
  | { readonly name: 'exhausted'; readonly paidTicks: number }
  | { readonly name: 'expiring'; readonly height: number }
  | { readonly name: 'peerError'; readonly code: number; readonly message: string }
  | { readonly name: 'peerClosed' };

export type PayerEffect =
  | SendEffect
  | PersistEffect<PayerSnapshot>
  | ErrorEffect
  /** Build, sign and broadcast the funding tx, then report fundingBroadcast. */
  | { readonly kind: 'fund'; readonly capacitySat: bigint; readonly payee: Uint8Array; readonly expiryHeight: number }
  /** Expiry passed: spend leaf B back to ourselves if the funding output is unspent. */
  | { readonly kind: 'refund' }
  | { readonly kind: 'event'; readonly event: PayerEvent };

export type PayerTimerName = 'resend' | 'persistDue';

export interface PayerCounters {
  duplicateAccepts: number;
  resends: number;
  refused: number;
}

export interface PayerSnapshot {
  readonly format: 'bitmesh-payer/1';
  readonly version: number;
  readonly state: PayerState;
  readonly terms: {
    readonly channelId: string;
    readonly payee: string;
    readonly capacitySat: string;
    readonly expiryHeight: number;
    readonly anchor: string;
    readonly chainLength: number;
    readonly tickKiB: number;
    readonly priceMsatPerKiB: number;
  };
  /** W_n: regenerate the chain from it (secret; the file is 0600 beside the node key). */
  readonly seed: string;
  readonly funding: { readonly txid: string; readonly vout: number } | null;
  /** No tick above this was ever revealed; durable before any tick relied on it. */
  readonly tickCeiling: number;
  readonly ticks: number;
  readonly receivedBytes: number;
}

// --- the machine ------------------------------------------------------------------

export class PayerChannel {
  #state: PayerState;
  readonly terms: PayerTerms;
  readonly #chain: HashChain;
  readonly #seed: Uint8Array;
  readonly #cfg: PayerConfig;
  readonly #deps: PayerDeps;
  readonly #effects: PayerEffect[] = [];
  readonly counters: PayerCounters = { duplicateAccepts: 0, resends: 0, refused: 0 };
  readonly #maxTicks: number;
  readonly #durable: DurableValues<'tickCeiling'>;

  #accepted: AcceptedTerms | undefined;
  #funding: { txid: Uint8Array; vout: number } | undefined;
  #ticks = 0;
  #received = 0;
  #lastCommit: { seq: number; paidMsat: bigint; sig: Uint8Array } | undefined;
  #exhaustedReported = false;
  #fundWhenDurable = false;
  /** After a restore: ticks the payer may still pay blind to unstick the flow (rule 5). */
  #catchUpBudget = 0;
  #catchUpStep = 1;
  #resendAt: number | undefined;
  #resendBackoff: number;
  #resendCount = 0;
  /**
   * No byte has come through this channel since this machine was made or restored: the
   * payee may never have heard FUNDED (lost, or we crashed before it went out), so it
   * is resent with every resend until bytes flow.
   */
  #silentSinceStart = true;
  #lastPersistAt = Number.NEGATIVE_INFINITY;
  #dirty = false;
  #rate = 0;
  #rateBytes = 0;
  #rateStart: number | undefined;

  private constructor(terms: PayerTerms, chain: HashChain, seed: Uint8Array, cfg: PayerConfig, deps: PayerDeps, state: PayerState, version: number, ceiling: number) {
    this.terms = terms;
    this.#chain = chain;
    this.#seed = seed;
    this.#cfg = cfg;
    this.#deps = deps;
    this.#state = state;
    this.#maxTicks = maxTicks(terms, terms.capacitySat, chain.length);
    this.#durable = new DurableValues({ tickCeiling: ceiling }, version);
    this.#resendBackoff = cfg.resendInitialMs;
  }

  /**
   * A new channel: queues OPEN and the first (critical) snapshot. `chain` must have
   * been built from `seed` (ChainBuilder, stepped by the adapter).
   */
  static open(terms: PayerTerms, chain: HashChain, seed: Uint8Array, cfg: PayerConfig, deps: PayerDeps, now: number): PayerChannel {
    if (seed.length !== 32) throw new ChannelUsageError('bad_seed', '"seed" expected 32 bytes');
    const ch = new PayerChannel(terms, chain, new Uint8Array(seed), cfg, deps, 'Opening', 0, 0);
    ch.#sendOpen(now);
    ch.#reserveTicks(0, now);
    ch.#armResend(now);
    return ch;
  }

  /**
   * Rebuilds a payer from its last durable snapshot. `chain` is rebuilt by the adapter
   * from the snapshot's seed (readSeed) and must match the anchor.
   */
  static restore(raw: unknown, chain: HashChain, cfg: PayerConfig, deps: PayerDeps, now: number): PayerChannel {
    const r = SnapshotReader.of(raw, 'payer');
    r.literal('format', 'bitmesh-payer/1');
    const t = r.child('terms');
    const terms: PayerTerms = {
      channelId: t.bytes('channelId', 32),
      payee: t.bytes('payee', 32),
      capacitySat: t.bigint('capacitySat'),
      expiryHeight: t.uint('expiryHeight'),
      tickKiB: t.uint('tickKiB'),
      priceMsatPerKiB: t.uint('priceMsatPerKiB'),
    };
    if (!bytesEqual(t.bytes('anchor', 32), chain.anchor) || t.uint('chainLength') !== chain.length) {
      throw new ChannelUsageError('wrong_chain', 'the hash chain given does not match the snapshot anchor');
    }
    const ceiling = r.uint('tickCeiling');
    const ch = new PayerChannel(terms, chain, r.bytes('seed', 32), cfg, deps, r.oneOf('state', PAYER_STATES), r.uint('version'), ceiling);
    const f = r.optionalChild('funding');
    if (f) ch.#funding = { txid: f.bytes('txid', 32), vout: f.uint('vout') };
    ch.#received = r.uint('receivedBytes');
    if (ch.#state === 'Opening') {
      ch.#sendOpen(now);
      ch.#armResend(now);
    } else if (ch.#state === 'Open' || ch.#state === 'Closing') {
      // Rule 5: any tick up to the ceiling may have gone out.
      ch.#ticks = Math.min(Math.max(r.uint('ticks'), ceiling), ch.#maxTicks);
      ch.#received = Math.max(ch.#received, (ch.#ticks - 1) * tickBytes(terms));
      if (satFloor(ch.paidMsat) > 0n) ch.#commit(now, true);
      ch.#catchUpBudget = cfg.maxTickReserve;
      if (ch.#state === 'Open') {
        if (ch.#funding) ch.#sendFunded();
        ch.#sendLadder();
        ch.#pay(now);
        ch.#armResend(now);
      }
    }
    return ch;
  }

  /** The seed inside a payer snapshot, to rebuild the chain before restore(). */
  static readSeed(raw: unknown): { seed: Uint8Array; chainLength: number } {
    const r = SnapshotReader.of(raw, 'payer');
    return { seed: r.bytes('seed', 32), chainLength: r.child('terms').uint('chainLength') };
  }

  get state(): PayerState {
    return this.#state;
  }
  get paidTicks(): number {
    return this.#ticks;
  }
  /** Ticks this channel can ever pay (its capacity or its hash chain, whichever ends first). */
  get maxTicks(): number {
    return this.#maxTicks;
  }
  get paidMsat(): bigint {
    return BigInt(this.#ticks) * tickMsat(this.terms);
  }
  get committedMsat(): bigint {
    return this.#lastCommit?.paidMsat ?? 0n;
  }
  get receivedBytes(): number {
    return this.#received;
  }
  get accepted(): AcceptedTerms | undefined {
    return this.#accepted;
  }
  get tickCeiling(): number {
    return this.#durable.durable('tickCeiling');
  }

  // --- inputs ---

  handle(input: PayerInput, now: number): void {
    switch (input.kind) {
      case 'message':
        return this.#onMessage(input.message, now);
      case 'metered':
        return this.#onMetered(input.bytes, now);
      case 'fundingBroadcast':
        return this.#onFundingBroadcast(input.txid, input.vout, now);
      case 'chainHeight':
        return this.#onHeight(input.height, now);
      case 'persisted':
        if (this.#durable.persisted(input.version)) this.#pay(now);
        if (this.#fundWhenDurable && this.#durable.durableVersion > 0) this.#fund();
        return;
      case 'closeRequested':
        return this.#closeRequested(input.reason, now);
    }
  }

  handleTimeout(now: number): void {
    for (const t of this.#timers()) {
      if (t.at > now) continue;
      if (t.name === 'resend') this.#expiredResend(now);
      else this.#persist(now, false);
    }
  }

  pollTimeout(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers()) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  timers(): readonly TimerView<PayerTimerName>[] {
    return this.#timers();
  }

  poll(): PayerEffect | undefined {
    return this.#effects.shift();
  }

  drain(): PayerEffect[] {
    return this.#effects.splice(0);
  }

  snapshot(): PayerSnapshot {
    return this.#snapshot(this.#durable.version);
  }

  // --- messages ---

  #onMessage(m: Message, now: number): void {
    if (!PAYER_ACCEPTS[this.#state].has(m.type)) return this.#refuse(new ChannelError('unexpected_message', `${m.type} to a payer`));
    if (m.type === 'ERROR') {
      this.#event({ name: 'peerError', code: m.body.code, message: m.body.message });
      return;
    }
    if (!('channelId' in m.body) || !bytesEqual(m.body.channelId, this.terms.channelId)) {
      return this.#refuse(new ChannelError('wrong_channel', `${m.type} for another channel`));
    }
    if (m.type === 'ACCEPT') {
      if (this.#state !== 'Opening') {
        this.counters.duplicateAccepts++;
        return;
      }
      if (!bytesEqual(m.body.sender, this.terms.payee)) return this.#refuse(new ChannelError('bad_terms', 'ACCEPT from another node'));
      this.#accepted = { creditBytes: m.body.creditBytes, lossTolerancePermille: m.body.lossTolerancePermille, zeroConfCapSat: m.body.zeroConfCapSat };
      this.#transition('Funding');
      this.#resendAt = undefined;
      this.#event({ name: 'accepted', ...this.#accepted });
      // Money moves only for a channel already on flash.
      if (this.#durable.durableVersion > 0) this.#fund();
      else this.#fundWhenDurable = true;
      return;
    }
    if (m.type === 'CLOSE') {
      if (this.#state === 'Open' || this.#state === 'Funding') this.#transition('Closing');
      else if (this.#state === 'Opening') this.#transition('Closed');
      this.#resendAt = undefined;
      this.#event({ name: 'peerClosed' });
      this.#persist(now, true);
      return;
    }
    this.#refuse(new ChannelError('unexpected_message', `${m.type} to a payer`));
  }

  #onFundingBroadcast(txid: Uint8Array, vout: number, now: number): void {
    if (this.#state !== 'Funding') return;
    this.#funding = { txid: new Uint8Array(txid), vout };
    this.#transition('Open');
    this.#sendFunded();
    this.#persist(now, true);
    this.#pay(now);
    this.#armResend(now);
  }

  #onMetered(bytes: number, now: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ChannelUsageError('bad_metered', `metered bytes ${bytes}`);
    if (bytes === 0) return;
    this.#received += bytes;
    this.#silentSinceStart = false;
    this.#dirty = true;
    this.#sampleRate(bytes, now);
    // Progress: the gateway delivers, so resends start over.
    this.#resendBackoff = this.#cfg.resendInitialMs;
    this.#resendCount = 0;
    this.#pay(now);
    this.#armResend(now);
  }

  #onHeight(height: number, now: number): void {
    if (height >= this.terms.expiryHeight) {
      if (this.#state === 'Closed') return;
      const funded = this.#funding !== undefined;
      this.#transition('Closed');
      this.#resendAt = undefined;
      if (funded) this.#effects.push({ kind: 'refund' });
      this.#persist(now, true);
    } else if (height >= this.terms.expiryHeight - PAYEE_CLOSE_MARGIN_BLOCKS && (this.#state === 'Open' || this.#state === 'Funding')) {
      this.#transition('Closing');
      this.#resendAt = undefined;
      this.#event({ name: 'expiring', height });
      this.#persist(now, true);
    }
  }

  #closeRequested(reason: number, now: number): void {
    if (this.#state === 'Opening' || (this.#state === 'Funding' && !this.#funding)) {
      this.#transition('Closed');
    } else if (this.#state === 'Open') {
      this.#transition('Closing');
      this.#effects.push({
        kind: 'send',
        message: {
          type: 'CLOSE',
          body: { ...this.#header(now), channelId: this.terms.channelId, reason, paidMsat: Number(this.committedMsat) },
        },
      });
    } else {
      return;
    }
    this.#resendAt = undefined;
    this.#persist(now, true);
  }

  // --- paying (rules 2, 3, 5) ---

  #pay(now: number): void {
    if (this.#state !== 'Open') return;
    const tb = tickBytes(this.terms);
    const want = Math.min(this.#maxTicks, Math.floor(this.#received / tb) + 1);
    this.#reserveTicks(want, now);
    const target = Math.min(want, this.#durable.durable('tickCeiling'));
    if (target > this.#ticks) {
      for (let i = this.#ticks + MAX_TICK_GAP; i < target; i += MAX_TICK_GAP) this.#sendTick(i);
      this.#sendTick(target);
      this.#ticks = target;
      this.#dirty = true;
      if (satFloor(this.paidMsat) > satFloor(this.committedMsat)) this.#commit(now, false);
    }
    if (want >= this.#maxTicks && !this.#exhaustedReported) {
      this.#exhaustedReported = true;
      this.#event({ name: 'exhausted', paidTicks: this.#ticks });
    }
  }

  #commit(now: number, resend: boolean): void {
    const paidMsat = this.paidMsat;
    if (!resend || !this.#lastCommit || this.#lastCommit.seq !== this.#ticks) {
      this.#lastCommit = { seq: this.#ticks, paidMsat, sig: this.#deps.signCommitment(paidMsat) };
    }
    this.#sendCommit();
    void now;
  }

  /** Rule 5: keep a durable tick ceiling a reserve ahead of what rule 2 allows. */
  #reserveTicks(want: number, now: number): void {
    const perInterval = (this.#rate * this.#cfg.persistIntervalMs * RESERVE_INTERVALS) / tickBytes(this.terms);
    const reserve = Math.min(this.#cfg.maxTickReserve, Math.max(this.#cfg.minTickReserve, Math.ceil(perInterval)));
    const lowWater = Math.floor((reserve * RESERVE_LOW_WATER_PERMILLE) / 1000);
    const requested = this.#durable.requested('tickCeiling');
    if (requested < this.#maxTicks && want + lowWater > requested) {
      this.#durable.request('tickCeiling', Math.min(this.#maxTicks, want + reserve));
      this.#persist(now, true);
    }
  }

  #sampleRate(bytes: number, now: number): void {
    if (this.#rateStart === undefined) this.#rateStart = now;
    this.#rateBytes += bytes;
    const span = now - this.#rateStart;
    if (span >= RATE_SAMPLE_MIN_MS) {
      const sample = this.#rateBytes / span;
      this.#rate = this.#rate === 0 ? sample : this.#rate + (sample - this.#rate) / 4;
      this.#rateBytes = 0;
      this.#rateStart = now;
    }
  }

  // --- resends (rules 1, 4) ---

  #armResend(now: number): void {
    if (this.#state === 'Opening' || this.#state === 'Open') this.#resendAt = now + this.#resendBackoff;
  }

  #expiredResend(now: number): void {
    this.counters.resends++;
    this.#resendCount++;
    if (this.#state === 'Opening') {
      this.#sendOpen(now);
    } else if (this.#state === 'Open') {
      if ((this.#received === 0 || this.#silentSinceStart) && this.#funding) this.#sendFunded();
      if (this.#catchUpBudget > 0 && this.#ticks > 0) {
        const step = Math.min(this.#catchUpStep, this.#catchUpBudget);
        this.#catchUpBudget -= step;
        this.#catchUpStep *= 2;
        this.#received = Math.max(this.#received, (this.#ticks + step - 1) * tickBytes(this.terms));
        const before = this.#ticks;
        this.#pay(now);
        if (this.#ticks > before) this.#resendCount = 0;
      }
      if (this.#resendCount >= 2) this.#sendLadder();
      else if (this.#ticks > 0) this.#sendTick(this.#ticks);
      if (this.#lastCommit) this.#sendCommit();
    }
    if (this.#resendCount === this.#cfg.stallResends) {
      this.#event({ name: 'gatewayStalled', receivedBytes: this.#received, paidTicks: this.#ticks });
    }
    this.#resendBackoff = Math.min(this.#cfg.resendMaxMs, this.#resendBackoff * 2);
    this.#resendAt = undefined;
    this.#armResend(now);
  }

  /** Older elements 64 apart, ascending, ending at the highest revealed one. */
  #sendLadder(): void {
    if (this.#ticks === 0) return;
    const rungs = Math.min(MAX_LADDER_RUNGS, Math.ceil(this.#ticks / MAX_TICK_GAP));
    for (let k = rungs - 1; k >= 0; k--) {
      const i = this.#ticks - k * MAX_TICK_GAP;
      if (i >= 1) this.#sendTick(i);
    }
  }

  // --- persistence ---

  #persist(now: number, critical: boolean): void {
    if (!critical && !this.#dirty) return;
    const version = this.#durable.nextVersion();
    this.#lastPersistAt = now;
    this.#dirty = false;
    this.#effects.push({ kind: 'persist', version, critical, snapshot: this.#snapshot(version) });
  }

  /**
   * For a clean stop: the exact state, with the tick ceiling at the ticks really sent.
   * The owner sends nothing after taking it, so the restart resumes where this left
   * off instead of assuming the crash reserve went out (rule 5).
   */
  stopSnapshot(): { version: number; snapshot: PayerSnapshot } {
    const version = this.#durable.nextVersion();
    return { version, snapshot: { ...this.#snapshot(version), tickCeiling: this.#ticks } };
  }

  #snapshot(version: number): PayerSnapshot {
    const t = this.terms;
    return {
      format: 'bitmesh-payer/1',
      version,
      state: this.#state,
      terms: {
        channelId: hex(t.channelId),
        payee: hex(t.payee),
        capacitySat: t.capacitySat.toString(),
        expiryHeight: t.expiryHeight,
        anchor: hex(this.#chain.anchor),
        chainLength: this.#chain.length,
        tickKiB: t.tickKiB,
        priceMsatPerKiB: t.priceMsatPerKiB,
      },
      seed: hex(this.#seed),
      funding: this.#funding ? { txid: hex(this.#funding.txid), vout: this.#funding.vout } : null,
      tickCeiling: this.#durable.requested('tickCeiling'),
      ticks: this.#ticks,
      receivedBytes: this.#received,
    };
  }

  // --- plumbing ---

  #timers(): TimerView<PayerTimerName>[] {
    const out: TimerView<PayerTimerName>[] = [];
    if (this.#resendAt !== undefined) out.push({ name: 'resend', at: this.#resendAt });
    if (this.#dirty && this.#state !== 'Closed') out.push({ name: 'persistDue', at: this.#lastPersistAt + this.#cfg.persistIntervalMs });
    return out;
  }

  #header(now: number): { sender: Uint8Array; ts: number; nonce: Uint8Array } {
    return { sender: this.#deps.self, ts: Math.floor(now), nonce: this.#deps.nonce() };
  }

  #sendOpen(now: number): void {
    const t = this.terms;
    this.#effects.push({
      kind: 'send',
      message: {
        type: 'OPEN',
        body: {
          ...this.#header(now),
          channelId: t.channelId,
          payee: t.payee,
          capacitySat: Number(t.capacitySat),
          expiryHeight: t.expiryHeight,
          anchor: this.#chain.anchor,
          chainLength: this.#chain.length,
          tickKiB: t.tickKiB,
          priceMsatPerKiB: t.priceMsatPerKiB,
        },
      },
    });
  }

  #fund(): void {
    this.#fundWhenDurable = false;
    this.#effects.push({ kind: 'fund', capacitySat: this.terms.capacitySat, payee: this.terms.payee, expiryHeight: this.terms.expiryHeight });
  }

  #sendFunded(): void {
    const f = this.#funding!;
    this.#effects.push({
      kind: 'send',
      message: { type: 'FUNDED', body: { channelId: this.terms.channelId, txid: f.txid, vout: f.vout, capacitySat: Number(this.terms.capacitySat) } },
    });
  }

  #sendTick(i: number): void {
    this.#effects.push({ kind: 'send', message: { type: 'TICK', body: { channelId: this.terms.channelId, index: i, preimage: this.#chain.element(i) } } });
  }

  #sendCommit(): void {
    const c = this.#lastCommit!;
    this.#effects.push({
      kind: 'send',
      message: { type: 'COMMIT', body: { channelId: this.terms.channelId, seq: c.seq, paidMsat: Number(c.paidMsat), sig: c.sig } },
    });
  }

  #transition(to: PayerState): void {
    if (!PAYER_TRANSITIONS[this.#state].includes(to)) throw new ChannelUsageError('bad_transition', `payer ${this.#state} → ${to}`);
    this.#state = to;
    this.#dirty = true;
  }

  #event(event: PayerEvent): void {
    this.#effects.push({ kind: 'event', event });
  }

  #refuse(error: ChannelError): void {
    this.counters.refused++;
    this.#effects.push({ kind: 'error', error });
  }
}
