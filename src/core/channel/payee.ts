// The payee (gateway) side of a channel: a pure state machine.
//
// Rules (DESIGN.md §6):
//  1. A channel starts from a valid OPEN: the payee answers ACCEPT and waits for the
//     funding. Ticks and commits may arrive early and are kept.
//  2. Funding: FUNDED names the outpoint; the chain adapter reports what it sees. A
//     funding up to zeroConfCapSat is accepted unconfirmed; above it, after
//     minConfirmations. Only then are bytes granted.
//  3. TICK i reveals W_i; it verifies against the highest verified element with at
//     most MAX_TICK_GAP hashes. An index at or below it is a duplicate (ignored). A
//     bad preimage or a wider gap is refused; nothing changes.
//  4. Grant: the client may be served at most
//        paidTicks × tick + writtenOff + credit + tolerance
//     bytes, and never past the durable grant ceiling (rule 8). tolerance is the loss
//     share of the last LOSS_WINDOW_TICKS ticks of bytes served, at least one tick and
//     at most the credit cap: bounded however long the channel lives (rule 10).
//  5. COMMIT: a state with seq = ticks paid for and paidMsat = seq × tick price, signed
//     by the payer (checked by the injected verifier). Lower seq or amount than the
//     best: ignored (counted). A new best is persisted at once.
//  6. Commit lag: once the paid ticks cross a whole satoshi past the best DURABLE
//     commit, a commit is due; if it is not durable within commitLagMs or
//     commitLagTicks ticks, the client is revoked (Suspended) until it is.
//  7. Close: by expiry − 144 blocks, or on request or CLOSE, the payee revokes and
//     emits closeWith(best state) once the Closed state is on flash: a payee that
//     crashed in between restarts Open and has closed nothing, never the reverse (a
//     close on chain and a restarted payee serving on). A payee restored Closed emits
//     closeWith again (the first may not have gone out; the chain takes one).
//  8. Persistence: the payee grants only below a ceiling already on flash, reserved
//     ahead (RESERVE_INTERVALS persist intervals at the measured rate, bounded), so a
//     crash loses at most that reserve + the credit + one tick. Non-critical state
//     (served bytes, ticks) is persisted at most once per persistIntervalMs.
//  9. Credit starts at initialCreditKiB (capped at maxCreditMsat worth, but never below
//     minCreditBytes) and grows as CreditWindow measures (rate × round trip); it is
//     reported by `creditBytes`. The floor is the data plane's: nft forwards a GRO/GSO
//     aggregate of up to 64 KiB whole or not at all, and at a price where 1 sat buys
//     less, the payer, a few bytes short of its next tick boundary, would wait for a
//     packet the kernel never lets through (docs/deviations.md).
// 10. Loss: the two sides count the same flow at two points, so they differ by what is
//     lost between them. The loss allowance is the loss share (default 2 %) of all bytes
//     served, at least one tick; the payee never lets served − paid exceed the credit plus
//     that allowance. Unmatched bytes are first covered by the windowed tolerance (the
//     part of the allowance the grant spends ahead). While more than the credit is
//     unpaid, the payee checks every lossStallMs: what is in flight is at most the rate
//     served over that period × the smallest payment round trip (× CREDIT_HEADROOM, + a
//     tick of slack); unpaid bytes beyond it are lost on our own link, whether they stall
//     the flow (both sides waiting on each other: rate 0) or only shrink its window. If
//     they fit in what is left of the allowance, the payee writes them off (at most the
//     credit in force at a time; event lossWrittenOff) and the flow resumes. If not, the
//     loss is a quality failure of its own link (lossBeyondTolerance) and it closes with
//     its best state: it never serves past paid + credit + allowance. A payer that later
//     pays for written-off bytes takes the write-off back: writtenOff never exceeds
//     served − paid + one tick (an honest payer's prepay).
import { ChannelError, ChannelUsageError } from './errors.js';
import {
  DEFAULT_COMMIT_LAG_MS,
  DEFAULT_COMMIT_LAG_TICKS,
  DEFAULT_INITIAL_CREDIT_KIB,
  DEFAULT_LOSS_STALL_MS,
  DEFAULT_LOSS_TOLERANCE_PERMILLE,
  DEFAULT_MAX_CREDIT_MSAT,
  DEFAULT_MAX_GRANT_RESERVE_BYTES,
  DEFAULT_MIN_CONFIRMATIONS,
  DEFAULT_MIN_GRANT_RESERVE_BYTES,
  DEFAULT_PERSIST_INTERVAL_MS,
  DEFAULT_TICK_KIB,
  BYTES_PER_KIB,
  CREDIT_HEADROOM,
  LOSS_WINDOW_TICKS,
  MAX_CHAIN_LENGTH,
  MSAT_PER_SAT,
  PAYEE_CLOSE_MARGIN_BLOCKS,
  RESERVE_INTERVALS,
  RESERVE_LOW_WATER_PERMILLE,
} from './constants.js';
import { CreditWindow } from './credit-window.js';
import { DurableValues } from './durable.js';
import { bytesEqual, verifyReveal, type KnownElement } from './hash-chain.js';
import type { ChannelDepsBase, CommonInput, ErrorEffect, PersistEffect, SendEffect, TimerView } from './io.js';
import { bytesWorth, firstTickPast, maxTicks, satFloor, tickBytes, tickMsat, type ChannelPrice } from './money.js';
import { SnapshotReader, hex } from './snapshot-json.js';
import type { Message, OpenBody } from '../wire/messages.js';

// --- states and transitions -------------------------------------------------------

export const PAYEE_STATES = ['AwaitingFunding', 'Open', 'Suspended', 'Closed'] as const;
export type PayeeState = (typeof PAYEE_STATES)[number];

/** Which transitions exist; anything else is our bug (ChannelUsageError). */
const PAYEE_TRANSITIONS: Readonly<Record<PayeeState, readonly PayeeState[]>> = {
  AwaitingFunding: ['Open', 'Closed'],
  Open: ['Suspended', 'Closed'],
  Suspended: ['Open', 'Closed'],
  Closed: [],
};

/** Message types each state consumes; others are refused as unexpected_message. */
const PAYEE_ACCEPTS: Readonly<Record<PayeeState, ReadonlySet<Message['type']>>> = {
  AwaitingFunding: new Set(['OPEN', 'FUNDED', 'TICK', 'COMMIT', 'CLOSE', 'ERROR']),
  Open: new Set(['OPEN', 'FUNDED', 'TICK', 'COMMIT', 'CLOSE', 'ERROR']),
  Suspended: new Set(['OPEN', 'FUNDED', 'TICK', 'COMMIT', 'CLOSE', 'ERROR']),
  Closed: new Set(['ERROR']),
};

// --- parameters -------------------------------------------------------------------

export interface PayeeConfig {
  readonly tickKiB: number;
  /** The least price this gateway takes (its offer or the auction's clearing price). */
  readonly minPriceMsatPerKiB: number;
  readonly initialCreditKiB: number;
  readonly maxCreditMsat: number;
  readonly lossTolerancePermille: number;
  readonly zeroConfCapSat: number;
  readonly minConfirmations: number;
  readonly minChannelSat: number;
  readonly maxChannelSat: number;
  readonly commitLagMs: number;
  readonly commitLagTicks: number;
  readonly persistIntervalMs: number;
  readonly lossStallMs: number;
  /**
   * How late metered counts can be on the two sides together (rule 9): 0 when bytes are
   * metered as they pass (proxy), both poll intervals when counters are polled (nft).
   */
  readonly meterLagMs: number;
  /**
   * The credit never goes below this, whatever maxCreditMsat buys (rule 9): a data plane
   * that forwards packets whole needs one packet's worth to reach the next tick boundary.
   */
  readonly minCreditBytes: number;
  readonly minGrantReserveBytes: number;
  readonly maxGrantReserveBytes: number;
}

export const DEFAULT_PAYEE_CONFIG: PayeeConfig = {
  tickKiB: DEFAULT_TICK_KIB,
  minPriceMsatPerKiB: 0,
  initialCreditKiB: DEFAULT_INITIAL_CREDIT_KIB,
  maxCreditMsat: DEFAULT_MAX_CREDIT_MSAT,
  lossTolerancePermille: DEFAULT_LOSS_TOLERANCE_PERMILLE,
  zeroConfCapSat: 100_000,
  minConfirmations: DEFAULT_MIN_CONFIRMATIONS,
  minChannelSat: 1000,
  maxChannelSat: 10_000_000,
  commitLagMs: DEFAULT_COMMIT_LAG_MS,
  commitLagTicks: DEFAULT_COMMIT_LAG_TICKS,
  persistIntervalMs: DEFAULT_PERSIST_INTERVAL_MS,
  lossStallMs: DEFAULT_LOSS_STALL_MS,
  meterLagMs: 0,
  minCreditBytes: 0,
  minGrantReserveBytes: DEFAULT_MIN_GRANT_RESERVE_BYTES,
  maxGrantReserveBytes: DEFAULT_MAX_GRANT_RESERVE_BYTES,
};

export interface PayeeDeps extends ChannelDepsBase {
  /**
   * Is `sig` the payer's valid state signature for `paidMsat`? The adapter binds it to
   * the channel's terms (funding outpoint from the watchFunding effect) and the
   * chain module's verifyCommitment (adding the sighash byte the amount implies).
   */
  readonly verifyCommitment: (paidMsat: bigint, sig: Uint8Array) => boolean;
}

/** The terms fixed by OPEN. */
export interface PayeeTerms extends ChannelPrice {
  readonly channelId: Uint8Array;
  readonly payer: Uint8Array;
  readonly capacitySat: bigint;
  readonly expiryHeight: number;
  readonly anchor: Uint8Array;
  readonly chainLength: number;
}

export interface SignedState {
  /** Ticks this state pays for. */
  readonly seq: number;
  readonly paidMsat: bigint;
  readonly sig: Uint8Array;
}

// --- inputs, effects, events ------------------------------------------------------

export interface FundingSeenInput {
  readonly kind: 'fundingSeen';
  readonly txid: Uint8Array;
  readonly vout: number;
  readonly valueSat: number;
  readonly confirmations: number;
}
export type PayeeInput = CommonInput | FundingSeenInput;

export type PayeeEvent =
  | { readonly name: 'fundingAccepted'; readonly confirmations: number }
  | { readonly name: 'commitLate'; readonly dueSinceMs: number; readonly ticksPastDue: number }
  | { readonly name: 'commitCaughtUp' }
  | { readonly name: 'lossWrittenOff'; readonly bytes: number; readonly totalBytes: number }
  | { readonly name: 'lossBeyondTolerance'; readonly servedBytes: number; readonly paidBytes: number; readonly creditBytes: number; readonly writtenOffBytes: number; readonly allowanceBytes: number }
  | { readonly name: 'peerError'; readonly code: number; readonly message: string }
  | { readonly name: 'closing'; readonly reason: CloseReason };

type CloseReason = 'expiry' | 'requested' | 'peer' | 'loss';

export type PayeeEffect =
  | SendEffect
  | PersistEffect<PayeeSnapshot>
  | ErrorEffect
  /** New total allowance for the client, in bytes since the channel opened; remaining = total − served now. */
  | { readonly kind: 'grantBytes'; readonly totalBytes: number; readonly remainingBytes: number }
  | { readonly kind: 'revoke'; readonly reason: 'commitLate' | 'closing' }
  /** Ask the chain adapter to report this outpoint (fundingSeen) until it is accepted. */
  | { readonly kind: 'watchFunding'; readonly txid: Uint8Array; readonly vout: number; readonly capacitySat: number }
  /** Broadcast the best state (leaf A), or close cooperatively if the payer is there. */
  | { readonly kind: 'closeWith'; readonly state: SignedState }
  | { readonly kind: 'event'; readonly event: PayeeEvent };

export type PayeeTimerName = 'commitDeadline' | 'lossStall' | 'persistDue';

export interface PayeeCounters {
  duplicateTicks: number;
  staleCommits: number;
  refused: number;
}

// --- snapshot ---------------------------------------------------------------------

export interface PayeeSnapshot {
  readonly format: 'bitmesh-payee/1';
  readonly version: number;
  readonly state: PayeeState;
  readonly terms: {
    readonly channelId: string;
    readonly payer: string;
    readonly capacitySat: string;
    readonly expiryHeight: number;
    readonly anchor: string;
    readonly chainLength: number;
    readonly tickKiB: number;
    readonly priceMsatPerKiB: number;
  };
  readonly funding: { readonly txid: string; readonly vout: number } | null;
  readonly known: { readonly index: number; readonly element: string };
  readonly servedBytes: number;
  readonly creditBytes: number;
  /** Rule 10 (absent in older snapshots: 0). */
  readonly lossWrittenOffBytes: number;
  readonly lossWriteOffs: number;
  /** Grants never pass this; it was durable before any grant relied on it. */
  readonly grantCeiling: number;
  readonly best: { readonly seq: number; readonly paidMsat: string; readonly sig: string } | null;
}

// --- the machine ------------------------------------------------------------------

type Durable = 'grantCeiling' | 'commitSeq';

export class PayeeChannel {
  #state: PayeeState;
  readonly terms: PayeeTerms;
  readonly #cfg: PayeeConfig;
  readonly #deps: PayeeDeps;
  readonly #effects: PayeeEffect[] = [];
  readonly counters: PayeeCounters = { duplicateTicks: 0, staleCommits: 0, refused: 0 };

  #funding: { txid: Uint8Array; vout: number } | undefined;
  #known: KnownElement;
  #served = 0;
  #granted = 0;
  #best: SignedState | undefined;
  readonly #credit: CreditWindow;
  readonly #durable: DurableValues<Durable>;
  readonly #maxTicks: number;
  /** Arrival of the first tick past each satoshi not yet durably committed: [tick, time]. */
  #dueQueue: [number, number][] = [];
  #lastPersistAt = Number.NEGATIVE_INFINITY;
  #dirty = false;
  /** Rule 10: when to look for served bytes that stayed unpaid too long. */
  #lossCheckAt: number | undefined;
  /** (time, served) samples at least lossStallMs / 8 apart, back to lossStallMs ago. */
  #servedLog: [number, number][] = [];
  #writtenOff = 0;
  #writeOffs = 0;
  /** ACCEPT waits for this snapshot version to be durable; 0 once sent. */
  #acceptAfter = 0;
  /** closeWith waits for this snapshot version (the Closed state) to be durable; 0 once emitted. */
  #closeAfter = 0;

  private constructor(terms: PayeeTerms, cfg: PayeeConfig, deps: PayeeDeps, state: PayeeState, version: number, durable: Record<Durable, number>) {
    this.terms = terms;
    this.#cfg = cfg;
    this.#deps = deps;
    this.#state = state;
    this.#known = { index: 0, element: terms.anchor };
    this.#maxTicks = maxTicks(terms, terms.capacitySat, terms.chainLength);
    const cap = Math.max(0, cfg.minCreditBytes, bytesWorth(cfg.maxCreditMsat, terms.priceMsatPerKiB));
    this.#credit = new CreditWindow(cfg.initialCreditKiB * BYTES_PER_KIB, cap, tickBytes(terms), cfg.meterLagMs);
    this.#durable = new DurableValues<Durable>(durable, version);
  }

  /**
   * Should be called for an authenticated OPEN addressed to us. Returns the machine
   * (with ACCEPT queued) or the reason the terms are refused.
   */
  static fromOpen(
    open: OpenBody,
    cfg: PayeeConfig,
    deps: PayeeDeps,
    chainHeight: number,
    now: number,
  ): { ok: true; channel: PayeeChannel } | { ok: false; error: ChannelError } {
    const problem = checkOpen(open, cfg, deps.self, chainHeight);
    if (problem) return { ok: false, error: new ChannelError('bad_terms', problem) };
    const terms: PayeeTerms = {
      channelId: new Uint8Array(open.channelId),
      payer: new Uint8Array(open.sender),
      capacitySat: BigInt(open.capacitySat),
      expiryHeight: open.expiryHeight,
      anchor: new Uint8Array(open.anchor),
      chainLength: open.chainLength,
      tickKiB: open.tickKiB,
      priceMsatPerKiB: open.priceMsatPerKiB,
    };
    const ch = new PayeeChannel(terms, cfg, deps, 'AwaitingFunding', 0, { grantCeiling: 0, commitSeq: 0 });
    // ACCEPT only once the channel is on flash: a payer never funds a channel we could forget.
    ch.#persist(now, true);
    ch.#acceptAfter = ch.#durable.version;
    return { ok: true, channel: ch };
  }

  /** Rebuilds a payee from its last durable snapshot (after a crash or restart). */
  static restore(raw: unknown, cfg: PayeeConfig, deps: PayeeDeps, now: number): PayeeChannel {
    const r = SnapshotReader.of(raw, 'payee');
    r.literal('format', 'bitmesh-payee/1');
    const t = r.child('terms');
    const terms: PayeeTerms = {
      channelId: t.bytes('channelId', 32),
      payer: t.bytes('payer', 32),
      capacitySat: t.bigint('capacitySat'),
      expiryHeight: t.uint('expiryHeight'),
      anchor: t.bytes('anchor', 32),
      chainLength: t.uint('chainLength'),
      tickKiB: t.uint('tickKiB'),
      priceMsatPerKiB: t.uint('priceMsatPerKiB'),
    };
    const b = r.optionalChild('best');
    const best = b ? { seq: b.uint('seq'), paidMsat: b.bigint('paidMsat'), sig: b.bytes('sig', 64) } : undefined;
    const ceiling = r.uint('grantCeiling');
    // A suspended client is judged afresh: the due-commit queue is rebuilt as ticks come.
    const saved = r.oneOf('state', PAYEE_STATES);
    const ch = new PayeeChannel(terms, cfg, deps, saved === 'Suspended' ? 'Open' : saved, r.uint('version'), {
      grantCeiling: ceiling,
      commitSeq: best?.seq ?? 0,
    });
    const f = r.optionalChild('funding');
    if (f) ch.#funding = { txid: f.bytes('txid', 32), vout: f.uint('vout') };
    const k = r.child('known');
    ch.#known = { index: k.uint('index'), element: k.bytes('element', 32) };
    ch.#served = r.uint('servedBytes');
    ch.#writtenOff = r.optionalUint('lossWrittenOffBytes', 0);
    ch.#writeOffs = r.optionalUint('lossWriteOffs', 0);
    ch.#best = best;
    ch.#credit.restore(r.uint('creditBytes'));
    // What was granted before the crash is unknown beyond the durable ceiling; grant afresh.
    if (ch.#state === 'Open') {
      ch.#credit.start(ch.#served, now);
      ch.#updateGrant(now);
    }
    if (ch.#state === 'Closed' && best && satFloor(best.paidMsat) > 0n) ch.#effects.push({ kind: 'closeWith', state: best });
    return ch;
  }

  get state(): PayeeState {
    return this.#state;
  }
  /** The credit in force, in bytes (the agent reports it). */
  get creditBytes(): number {
    return this.#credit.creditBytes;
  }
  get creditCapBytes(): number {
    return this.#credit.capBytes;
  }
  get servedBytes(): number {
    return this.#served;
  }
  get paidTicks(): number {
    return this.#known.index;
  }
  get paidBytes(): number {
    return this.#known.index * tickBytes(this.terms);
  }
  /** Served bytes written off as lost on our own link (rule 10; the agent reports it). */
  get lossWrittenOffBytes(): number {
    return this.#writtenOff;
  }
  /** Write-offs so far. */
  get lossWriteOffs(): number {
    return this.#writeOffs;
  }
  /** Rule 10: the loss share of everything served (at least a tick): what loss may cost us in all. */
  get lossAllowanceBytes(): number {
    return lossAllowanceBytes(this.#served, this.#cfg.lossTolerancePermille, tickBytes(this.terms));
  }
  /**
   * The loss tolerance in force (rule 4): the loss share of a recent window, bounded, and
   * never more than what write-offs left of the allowance.
   */
  get toleranceBytes(): number {
    const windowed = toleranceBytes(this.#served, this.#cfg.lossTolerancePermille, tickBytes(this.terms), this.#credit.capBytes);
    return Math.min(windowed, Math.max(0, this.lossAllowanceBytes - this.#writtenOff));
  }
  get grantedBytes(): number {
    return this.#granted;
  }
  get best(): SignedState | undefined {
    return this.#best;
  }
  /** The highest commit seq known to be on flash. */
  get durableCommitSeq(): number {
    return this.#durable.durable('commitSeq');
  }
  get grantCeiling(): number {
    return this.#durable.durable('grantCeiling');
  }
  get srttMs(): number | undefined {
    return this.#credit.srttMs;
  }
  get rateBytesPerMs(): number {
    return this.#credit.rateBytesPerMs;
  }

  // --- inputs ---

  handle(input: PayeeInput, now: number): void {
    switch (input.kind) {
      case 'message':
        return this.#onMessage(input.message, now);
      case 'metered':
        return this.#onMetered(input.bytes, now);
      case 'fundingSeen':
        return this.#onFundingSeen(input, now);
      case 'chainHeight':
        if (input.height >= this.terms.expiryHeight - PAYEE_CLOSE_MARGIN_BLOCKS) this.#close('expiry', now);
        return;
      case 'persisted':
        if (this.#acceptAfter > 0 && input.version >= this.#acceptAfter) {
          this.#acceptAfter = 0;
          this.#sendAccept(now);
        }
        if (this.#closeAfter > 0 && input.version >= this.#closeAfter) {
          this.#closeAfter = 0;
          if (this.#best && satFloor(this.#best.paidMsat) > 0n) this.#effects.push({ kind: 'closeWith', state: this.#best });
        }
        if (this.#durable.persisted(input.version)) this.#afterDurable(now);
        return;
      case 'closeRequested':
        return this.#close('requested', now);
    }
  }

  handleTimeout(now: number): void {
    for (const t of this.#timers()) {
      if (t.at > now) continue;
      if (t.name === 'commitDeadline') this.#expiredCommitDeadline(now);
      else if (t.name === 'lossStall') this.#expiredLossStall(now);
      else this.#persist(now, false);
    }
  }

  pollTimeout(): number | undefined {
    let min: number | undefined;
    for (const t of this.#timers()) if (min === undefined || t.at < min) min = t.at;
    return min;
  }

  /** The named deadlines now armed (for logs and tests). */
  timers(): readonly TimerView<PayeeTimerName>[] {
    return this.#timers();
  }

  poll(): PayeeEffect | undefined {
    return this.#effects.shift();
  }

  /** Drains every pending effect. */
  drain(): PayeeEffect[] {
    return this.#effects.splice(0);
  }

  snapshot(): PayeeSnapshot {
    return this.#snapshot(this.#durable.version);
  }

  // --- messages ---

  #onMessage(m: Message, now: number): void {
    if (!PAYEE_ACCEPTS[this.#state].has(m.type)) return this.#refuse(new ChannelError('unexpected_message', `${m.type} in ${this.#state}`));
    if (m.type === 'ERROR') {
      this.#event({ name: 'peerError', code: m.body.code, message: m.body.message });
      return;
    }
    if (!('channelId' in m.body) || !bytesEqual(m.body.channelId, this.terms.channelId)) {
      return this.#refuse(new ChannelError('wrong_channel', `${m.type} for another channel`));
    }
    switch (m.type) {
      case 'OPEN':
        // Our ACCEPT was lost: say it again (same terms only).
        if (!bytesEqual(m.body.anchor, this.terms.anchor)) return this.#refuse(new ChannelError('bad_terms', 'OPEN again with another anchor'));
        if (this.#acceptAfter === 0 && this.#state !== 'Closed') this.#sendAccept(now);
        return;
      case 'FUNDED':
        return this.#onFunded(m.body.txid, m.body.vout, m.body.capacitySat);
      case 'TICK':
        return this.#onTick(m.body.index, m.body.preimage, now);
      case 'COMMIT':
        return this.#onCommit(m.body.seq, BigInt(m.body.paidMsat), m.body.sig, now);
      case 'CLOSE':
        return this.#close('peer', now);
      default:
        return this.#refuse(new ChannelError('unexpected_message', `${m.type} on a channel`));
    }
  }

  #onFunded(txid: Uint8Array, vout: number, capacitySat: number): void {
    if (BigInt(capacitySat) !== this.terms.capacitySat) {
      return this.#refuse(new ChannelError('bad_terms', `FUNDED capacity ${capacitySat} ≠ OPEN ${this.terms.capacitySat}`));
    }
    if (this.#funding && !(bytesEqual(this.#funding.txid, txid) && this.#funding.vout === vout)) {
      return this.#refuse(new ChannelError('bad_terms', 'FUNDED names another outpoint'));
    }
    if (!this.#funding) {
      this.#funding = { txid: new Uint8Array(txid), vout };
      this.#dirty = true;
    }

    if (this.#state === 'AwaitingFunding') this.#effects.push({ kind: 'watchFunding', txid: new Uint8Array(txid), vout, capacitySat });
  }

  #onFundingSeen(f: FundingSeenInput, now: number): void {
    if (this.#state !== 'AwaitingFunding' || !this.#funding) return;
    if (!bytesEqual(f.txid, this.#funding.txid) || f.vout !== this.#funding.vout) return;
    if (BigInt(f.valueSat) !== this.terms.capacitySat) {
      return this.#refuse(new ChannelError('funding_mismatch', `output holds ${f.valueSat} sat, OPEN said ${this.terms.capacitySat}`));
    }
    const zeroConfOk = this.terms.capacitySat <= BigInt(this.#cfg.zeroConfCapSat);
    if (!zeroConfOk && f.confirmations < this.#cfg.minConfirmations) return;
    this.#transition('Open');
    this.#event({ name: 'fundingAccepted', confirmations: f.confirmations });
    this.#credit.start(this.#served, now);
    // The first grant reserves a ceiling, whose critical snapshot also records Open.
    this.#updateGrant(now);
  }

  #onTick(index: number, preimage: Uint8Array, now: number): void {
    if (index <= this.#known.index) {
      this.counters.duplicateTicks++;
      return;
    }
    if (index > this.#maxTicks) {
      return this.#refuse(new ChannelError('tick_beyond_chain', `tick ${index} past the ${this.#maxTicks} this channel can pay`));
    }
    const err = verifyReveal(this.#deps.sha256, this.#known, index, preimage);
    if (err) return this.#refuse(err);
    const before = this.#known.index;
    this.#known = { index, element: new Uint8Array(preimage) };
    this.#dirty = true;
    // Rule 10: bytes paid for after all were not lost; take that part of a write-off back.
    this.#writtenOff = Math.min(this.#writtenOff, Math.max(0, this.#served - this.paidBytes + tickBytes(this.terms)));
    if (this.#state !== 'AwaitingFunding') this.#credit.onTick(index, now);
    this.#noteDue(before, index, now);
    this.#updateGrant(now);
    this.#checkCommitLag(now);
  }

  #onCommit(seq: number, paidMsat: bigint, sig: Uint8Array, now: number): void {
    const best = this.#best;
    if (best && seq <= best.seq) {
      this.counters.staleCommits++;
      return;
    }
    const per = tickMsat(this.terms);
    if (paidMsat !== BigInt(seq) * per) {
      return this.#refuse(new ChannelError('commit_not_tick_aligned', `COMMIT seq ${seq} pays ${paidMsat} msat, expected ${BigInt(seq) * per}`));
    }
    if (paidMsat > this.terms.capacitySat * MSAT_PER_SAT) {
      return this.#refuse(new ChannelError('commit_over_capacity', `COMMIT pays ${paidMsat} msat of ${this.terms.capacitySat} sat`));
    }
    if (!this.#deps.verifyCommitment(paidMsat, sig)) {
      return this.#refuse(new ChannelError('bad_commit_sig', `COMMIT seq ${seq}: signature refused`));
    }
    this.#best = { seq, paidMsat, sig: new Uint8Array(sig) };
    this.#durable.request('commitSeq', seq);
    this.#persist(now, true);
  }

  // --- metering, grants, credit ---

  #onMetered(bytes: number, now: number): void {
    if (!Number.isSafeInteger(bytes) || bytes < 0) throw new ChannelUsageError('bad_metered', `metered bytes ${bytes}`);
    if (bytes === 0) return;
    this.#served += bytes;
    this.#dirty = true;
    if (this.#state === 'Open') this.#credit.onServed(bytes, this.#served, now);
    this.#logServed(now);
    this.#updateGrant(now);
  }

  /** Bytes the rules allow now (rule 4), before the durable ceiling. */
  #wantedGrant(): number {
    return this.paidBytes + this.#writtenOff + this.#credit.creditBytes + this.toleranceBytes;
  }

  #updateGrant(now: number): void {
    if (this.#state !== 'Open') return;
    const wanted = this.#wantedGrant();
    this.#reserveCeiling(wanted, now);
    const grant = Math.min(wanted, this.#durable.durable('grantCeiling'));
    if (grant > this.#granted) {
      this.#granted = grant;
      this.#effects.push({ kind: 'grantBytes', totalBytes: grant, remainingBytes: Math.max(0, grant - this.#served) });
    }
    this.#trackBlocked(now);
  }

  /** Rule 8: keep a durable ceiling a reserve ahead of what the rules would grant. */
  #reserveCeiling(wanted: number, now: number): void {
    const rate = this.#credit.rateBytesPerMs;
    const reserve = Math.min(
      this.#cfg.maxGrantReserveBytes,
      Math.max(this.#cfg.minGrantReserveBytes, Math.ceil(rate * this.#cfg.persistIntervalMs * RESERVE_INTERVALS)),
    );
    const lowWater = Math.floor((reserve * RESERVE_LOW_WATER_PERMILLE) / 1000);
    if (wanted + lowWater > this.#durable.requested('grantCeiling')) {
      this.#durable.request('grantCeiling', wanted + reserve);
      this.#persist(now, true);
    }
  }

  #afterDurable(now: number): void {
    this.#updateGrant(now);
    this.#settleDue(now);
  }

  /** Unpaid served bytes not yet written off. */
  #unmatched(): number {
    return this.#served - this.paidBytes - this.#writtenOff;
  }

  #trackBlocked(now: number): void {
    const short = this.#state === 'Open' && this.#unmatched() > this.#credit.creditBytes;
    if (!short) this.#lossCheckAt = undefined;
    else if (this.#lossCheckAt === undefined) this.#lossCheckAt = now + this.#cfg.lossStallMs;
  }

  #logServed(now: number): void {
    const log = this.#servedLog;
    const last = log[log.length - 1];
    if (!last || now - last[0] >= this.#cfg.lossStallMs / 8) log.push([now, this.#served]);
    // Keep one sample at or before now − lossStallMs, and the later ones.
    while (log.length > 1 && log[1]![0] <= now - this.#cfg.lossStallMs) log.shift();
  }

  /**
   * Rule 10: unpaid bytes beyond what can be in flight were lost on our link. The rate
   * is taken over at least lossStallMs (the log's oldest sample is that old or older,
   * so a burst only raises it: the estimate errs towards writing off less).
   */
  #expiredLossStall(now: number): void {
    this.#lossCheckAt = undefined;
    this.#logServed(now);
    const [t0, s0] = this.#servedLog[0]!;
    const rate = (this.#served - s0) / Math.max(1, now - t0);
    // + a tick of slack for the payer's tick granularity (at most half the credit, so a
    // credit smaller than a tick can still be written off).
    const slack = Math.min(tickBytes(this.terms), Math.floor(this.#credit.creditBytes / 2));
    const inFlight = Math.ceil(CREDIT_HEADROOM * rate * (this.#credit.minRttMs ?? this.#cfg.lossStallMs)) + slack;
    const credit = this.#credit.creditBytes;
    const amount = Math.min(this.#unmatched() - inFlight, credit);
    if (amount <= 0) return this.#trackBlocked(now);
    const allowance = this.lossAllowanceBytes;
    if (this.#writtenOff + amount > allowance) {
      this.#event({ name: 'lossBeyondTolerance', servedBytes: this.#served, paidBytes: this.paidBytes, creditBytes: credit, writtenOffBytes: this.#writtenOff, allowanceBytes: allowance });
      return this.#close('loss', now);
    }
    this.#writeOffs++;
    this.#writtenOff += amount;
    this.#event({ name: 'lossWrittenOff', bytes: amount, totalBytes: this.#writtenOff });
    this.#persist(now, false);
    this.#updateGrant(now);
  }

  // --- commit lag (rule 6) ---

  #noteDue(before: number, index: number, now: number): void {
    if (tickMsat(this.terms) === 0n) return;
    // One entry per satoshi crossed by ticks (before, index]; bounded, newest dropped (lenient).
    let sat = satFloor(BigInt(before) * tickMsat(this.terms));
    for (;;) {
      const t = firstTickPast(sat, this.terms);
      if (t > index || this.#dueQueue.length >= 1024) break;
      this.#dueQueue.push([t, now]);
      sat = satFloor(BigInt(t) * tickMsat(this.terms));
    }
    this.#settleDue(now);
  }

  /** Drops due entries a durable commit covers; resumes a suspended client. */
  #settleDue(now: number): void {
    const durableSat = satFloor(BigInt(this.#durable.durable('commitSeq')) * tickMsat(this.terms));
    const coveredTick = this.#durable.durable('commitSeq');
    this.#dueQueue = this.#dueQueue.filter(([t]) => t > coveredTick && satFloor(BigInt(t) * tickMsat(this.terms)) > durableSat);
    if (this.#state === 'Suspended' && !this.#isLate(now)) {
      this.#transition('Open');
      this.#event({ name: 'commitCaughtUp' });
      this.#granted = 0; // the data plane was cut: grant again from scratch
      this.#updateGrant(now);
    }
  }

  #isLate(now: number): boolean {
    const head = this.#dueQueue[0];
    if (!head) return false;
    return now >= head[1] + this.#cfg.commitLagMs || this.#known.index - head[0] >= this.#cfg.commitLagTicks;
  }

  #checkCommitLag(now: number): void {
    if (this.#state === 'Open' && this.#isLate(now)) this.#expiredCommitDeadline(now);
  }

  #expiredCommitDeadline(now: number): void {
    if (this.#state !== 'Open' || !this.#isLate(now)) return;
    const head = this.#dueQueue[0]!;
    this.#transition('Suspended');
    this.#effects.push({ kind: 'revoke', reason: 'commitLate' });
    this.#event({ name: 'commitLate', dueSinceMs: head[1], ticksPastDue: this.#known.index - head[0] });
  }

  // --- close (rule 7) ---

  #close(reason: CloseReason, now: number): void {
    if (this.#state === 'Closed') return;
    const wasServing = this.#state === 'Open';
    this.#transition('Closed');
    if (wasServing) this.#effects.push({ kind: 'revoke', reason: 'closing' });
    this.#event({ name: 'closing', reason });
    this.#persist(now, true);
    this.#closeAfter = this.#durable.version;
  }

  // --- persistence (rule 8) ---

  #persist(now: number, critical: boolean): void {
    if (!critical && !this.#dirty) return;
    const version = this.#durable.nextVersion();
    this.#lastPersistAt = now;
    this.#dirty = false;
    this.#effects.push({ kind: 'persist', version, critical, snapshot: this.#snapshot(version) });
  }

  #snapshot(version: number): PayeeSnapshot {
    const t = this.terms;
    return {
      format: 'bitmesh-payee/1',
      version,
      state: this.#state,
      terms: {
        channelId: hex(t.channelId),
        payer: hex(t.payer),
        capacitySat: t.capacitySat.toString(),
        expiryHeight: t.expiryHeight,
        anchor: hex(t.anchor),
        chainLength: t.chainLength,
        tickKiB: t.tickKiB,
        priceMsatPerKiB: t.priceMsatPerKiB,
      },
      funding: this.#funding ? { txid: hex(this.#funding.txid), vout: this.#funding.vout } : null,
      known: { index: this.#known.index, element: hex(this.#known.element) },
      servedBytes: this.#served,
      creditBytes: this.#credit.creditBytes,
      lossWrittenOffBytes: this.#writtenOff,
      lossWriteOffs: this.#writeOffs,
      grantCeiling: this.#durable.requested('grantCeiling'),
      best: this.#best ? { seq: this.#best.seq, paidMsat: this.#best.paidMsat.toString(), sig: hex(this.#best.sig) } : null,
    };
  }

  // --- plumbing ---

  #timers(): TimerView<PayeeTimerName>[] {
    const out: TimerView<PayeeTimerName>[] = [];
    const head = this.#dueQueue[0];
    if (this.#state === 'Open' && head) out.push({ name: 'commitDeadline', at: head[1] + this.#cfg.commitLagMs });
    if (this.#lossCheckAt !== undefined && this.#state === 'Open') out.push({ name: 'lossStall', at: this.#lossCheckAt });
    if (this.#dirty && this.#state !== 'Closed') out.push({ name: 'persistDue', at: this.#lastPersistAt + this.#cfg.persistIntervalMs });
    return out;
  }

  #sendAccept(now: number): void {
    const m: Message = {
      type: 'ACCEPT',
      body: {
        sender: this.#deps.self,
        ts: Math.floor(now),
        nonce: this.#deps.nonce(),
        channelId: this.terms.channelId,
        creditBytes: this.#credit.creditBytes,
        lossTolerancePermille: this.#cfg.lossTolerancePermille,
        zeroConfCapSat: this.#cfg.zeroConfCapSat,
      },
    };
    this.#effects.push({ kind: 'send', message: m });
  }

  #transition(to: PayeeState): void {
    if (!PAYEE_TRANSITIONS[this.#state].includes(to)) throw new ChannelUsageError('bad_transition', `payee ${this.#state} → ${to}`);
    this.#state = to;
    this.#dirty = true;
  }

  #event(event: PayeeEvent): void {
    this.#effects.push({ kind: 'event', event });
  }

  #refuse(error: ChannelError): void {
    this.counters.refused++;
    this.#effects.push({ kind: 'error', error });
  }
}

function checkOpen(o: OpenBody, cfg: PayeeConfig, self: Uint8Array, height: number): string | undefined {
  if (!bytesEqual(o.payee, self)) return 'OPEN names another payee';
  if (o.tickKiB !== cfg.tickKiB) return `tickKiB ${o.tickKiB} ≠ ${cfg.tickKiB}`;
  if (o.priceMsatPerKiB < cfg.minPriceMsatPerKiB) return `price ${o.priceMsatPerKiB} below ${cfg.minPriceMsatPerKiB} msat/KiB`;
  if (o.capacitySat < cfg.minChannelSat || o.capacitySat > cfg.maxChannelSat) {
    return `capacity ${o.capacitySat} outside ${cfg.minChannelSat}..${cfg.maxChannelSat} sat`;
  }
  if (o.chainLength < 1 || o.chainLength > MAX_CHAIN_LENGTH) return `chainLength ${o.chainLength} outside 1..${MAX_CHAIN_LENGTH}`;
  if (o.expiryHeight - PAYEE_CLOSE_MARGIN_BLOCKS <= height) return `expiry ${o.expiryHeight} leaves no time to close (height ${height})`;
  return undefined;
}

/**
 * Rule 10's loss allowance: the loss share of all bytes served, at least one tick. 0 with
 * no share. Written-off loss and the tolerance in force together stay within it.
 */
export function lossAllowanceBytes(served: number, permille: number, tick: number): number {
  if (permille <= 0) return 0;
  return Math.max(tick, Math.floor((served * permille) / 1000));
}

/**
 * Rule 4's loss tolerance: the loss share of the last LOSS_WINDOW_TICKS ticks of bytes
 * served, at least one tick (so an early loss does not stall a young channel) and at
 * most the credit cap (so it never risks more than the credit does). 0 with no share.
 */
export function toleranceBytes(served: number, permille: number, tick: number, capBytes: number): number {
  if (permille <= 0) return 0;
  const window = Math.min(served, LOSS_WINDOW_TICKS * tick);
  return Math.min(capBytes, Math.max(tick, Math.floor((window * permille) / 1000)));
}
