// Runs the payment channels of one agent: a PayerChannel per channel we pay on, a
// PayeeChannel per channel we are paid on. It feeds them inputs (peer messages,
// metered bytes, chain heights, persistence acks, timeouts) and performs their
// effects (send, persist, grant/revoke, fund, watch funding, close, refund).
//
// One real timer for all machines, re-armed to the earliest pollTimeout() after
// every event. Snapshots go through the StateStore (atomic, rate-bounded); at start
// every channel found in the store is restored.
import { appendFile, readdir, rename, stat } from 'node:fs/promises';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { p2tr } from '../chain/btc/taproot.js';
import type { BitmeshConfig } from '../config/schema.js';
import { buildPayeeClose, commitmentSplit, fundingPrevout, type ChannelTerms } from '../chain/commitment.js';
import { DUST_SAT, feeForVsize, payeeCloseVsize, refundVsize } from '../chain/fees.js';
import { channelFunding, type ChannelFunding } from '../chain/funding.js';
import { buildRefund } from '../chain/refund.js';
import type { Outpoint, SignedTx } from '../chain/tx-taproot.js';
import type { Wallet } from '../chain/wallet.js';
import { RemoteError } from '../core/errors.js';
import { ChainBuilder, type HashChain } from '../core/channel/hash-chain.js';
import { CHAIN_STEP_HASHES } from '../core/channel/constants.js';
import { tickBytes, tickMsat } from '../core/channel/money.js';
import { SnapshotReader } from '../core/channel/snapshot-json.js';
import {
  admitOpen,
  DEFAULT_OPEN_ADMISSION,
  expiredUnfunded,
  OpenRate,
  unfundedDeadline,
  type OpenAdmissionLimits,
  type UnfundedChannel,
} from '../core/channel/open-admission.js';
import { DEFAULT_PAYEE_CONFIG, PayeeChannel, type PayeeConfig, type PayeeEffect } from '../core/channel/payee.js';
import { DEFAULT_PAYER_CONFIG, PayerChannel, type PayerConfig, type PayerEffect } from '../core/channel/payer.js';
import { LruMap } from '../core/market/lru-map.js';
import { channelIdFor, type AcceptProof } from '../core/market/report.js';
import type { AcceptBody, Message } from '../core/wire/messages.js';
import { nodeIdToBech32 } from '../core/wire/node-id.js';
import type { Crypto } from '../crypto/facade.js';
import { nobleAsyncBackend, type AsyncCryptoBackend } from '../crypto/helper-async-backend.js';
import type { DataplaneBackend } from '../dataplane/backend.js';
import type { ChainService } from './chain-service.js';
import { CommitmentCrypto, type CommitmentCryptoStats } from './commitment-crypto.js';
import type { Identity } from './identity.js';
import type { Logger } from './log.js';
import type { StateStore } from './state-store.js';
import { HashChainReserve } from './hash-chain-reserve.js';

/**
 * Longest hash chain a payer makes for one channel; a longer run opens a new channel.
 * 2^17 ticks (2 GiB at 16 KiB) take ~0.4 s with noble on a laptop and a few seconds on a
 * router without the helper: a client must not wait longer than that for its first byte.
 */
const MAX_CHAIN_TICKS = 1 << 17;
/** Upper bound on a funding transaction's size, for the wallet check before an open. */
const FUNDING_VBYTES_BOUND = 400;
/** Channel lifetime: about a week of blocks. */
const DEFAULT_EXPIRY_BLOCKS = 1008;

export class ChannelCommandError extends RemoteError {}

export interface ChannelManagerDeps {
  readonly config: BitmeshConfig;
  readonly identity: Identity;
  readonly crypto: Crypto;
  /**
   * The selected async backend (native helper or noble), read at every use; commitment
   * signatures are checked and signed ahead through it. Default: noble.
   */
  readonly asyncCrypto?: () => AsyncCryptoBackend;
  readonly log: Logger;
  readonly clock: () => number;
  readonly random: (n: number) => Uint8Array;
  readonly chain: ChainService;
  /** The node's wallet, made on first use. */
  readonly wallet: () => Wallet;
  readonly store: StateStore;
  readonly storeDir: string;
  /** Sends a message (body complete; signed types get signed by the agent's codec) to a node. */
  readonly send: (to: Uint8Array, message: Message) => void;
  /** Payee side: where grants go. Absent: grants are only recorded (no data plane yet). */
  readonly dataplane?: DataplaneBackend;
  readonly onEvent?: (event: ChannelEventRecord) => void;
  /** Payee: bounds on channels awaiting funding (open-admission.ts); tests shorten them. */
  readonly openAdmission?: Partial<OpenAdmissionLimits>;
}

export interface ChannelEventRecord {
  readonly channelId: string;
  readonly role: 'payer' | 'payee';
  readonly name: string;
  readonly detail?: Record<string, unknown>;
}

interface Common {
  readonly id: string;
  readonly peer: Uint8Array;
  readonly funding: ChannelFunding;
  outpoint: Outpoint | undefined;
  closeTx: SignedTx | undefined;
  /** Why the last close or refund could not be made (e.g. the share is below fee + dust). */
  closeError: string | undefined;
  grantedBytes: number;
  /** Startup milestones already logged (first grant, first paid byte, …): each once. */
  readonly milestones: Set<string>;
  /** When the channel entry was made: milestones are logged with the time since. */
  readonly createdAt: number;
}
interface PayerEntry extends Common {
  readonly role: 'payer';
  readonly machine: PayerChannel;
}
interface PayeeEntry extends Common {
  readonly role: 'payee';
  readonly machine: PayeeChannel;
  watching: boolean;
}
type Entry = PayerEntry | PayeeEntry;

/**
 * A channel whose funding output was spent this many blocks deep is settled: its coins
 * have moved for good and nothing is left to do on it. It leaves memory and the state
 * directory; its last report goes to SETTLED_ARCHIVE (accounting) and stays in `list()`
 * among the SETTLED_SHOWN most recent. Without this a router would keep, and restore
 * at every start, every channel it ever had.
 */
const SETTLED_CONFIRMATIONS = 6;
const SETTLED_SHOWN = 100;
export const SETTLED_ARCHIVE = 'channels-settled.jsonl';
/** The archive is rotated to `.1` past this size: one old generation is kept. */
const SETTLED_ARCHIVE_MAX_BYTES = 1 << 20;
/** State key of the running totals of settled channels (earned, spent, bytes). */
const SETTLED_TOTALS_KEY = 'settled-totals';

/** Money and bytes of channels, for `bitmesh status`; settled ones included. */
export interface ChannelTotals {
  earnedMsat: number;
  spentMsat: number;
  bytesSold: number;
  bytesBought: number;
  channelsOpen: number;
  channelsSettled: number;
}

/** Adds a channel's money and bytes: a payee's as earned and sold, a payer's as spent and bought. */
function addToTotals(t: Pick<ChannelTotals, 'earnedMsat' | 'spentMsat' | 'bytesSold' | 'bytesBought'>, c: ChannelReport): void {
  if (c.role === 'payee') {
    t.earnedMsat += Number(c.paidMsat);
    t.bytesSold += c.bytes;
  } else {
    t.spentMsat += Number(c.paidMsat);
    t.bytesBought += c.bytes;
  }
}

/** Messages held per payee channel while a COMMIT ahead of them has its signature checked. */
const MAX_HELD_MESSAGES = 1024;
/** Gateways whose ACCEPT we keep as a REPORT's proof (and salts of channels still opening). */
const MAX_PROOFS = 64;

export interface ChannelReport {
  id: string;
  role: 'payer' | 'payee';
  peer: string;
  state: string;
  capacitySat: number;
  priceMsatPerKiB: number;
  tickKiB: number;
  paidMsat: string;
  /** Ticks paid so far (payee: verified; payer: revealed). */
  paidTicks: number;
  bytes: number;
  grantedBytes: number | null;
  creditBytes: number | null;
  /** Payee: bytes served but never paid that it counted as its own link's loss. */
  lossWrittenOffBytes: number | null;
  expiryHeight: number;
  funding: { txid: string; vout: number; address: string } | null;
  closeTxid: string | null;
  /** Set once the funding output's spend is SETTLED_CONFIRMATIONS deep (the channel then leaves memory). */
  settled?: { txid: string; height: number };
}

export interface CloseResult {
  readonly channelId: string;
  readonly txid: string;
  readonly hex: string;
  /** The outputs the close spends, so anyone can check it. */
  readonly spends: readonly { txid: string; vout: number; scriptHex: string; amountSat: string }[];
}

export class ChannelManager {
  readonly #d: ChannelManagerDeps;
  readonly #channels = new Map<string, Entry>();
  readonly #payeeCfg: PayeeConfig;
  readonly #payerCfg: PayerConfig;
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;
  /** Terms of payer channels whose restore is under way (see #payerDeps). */
  readonly #restoringPayers = new Map<string, ChannelTerms>();
  readonly #commitments: CommitmentCrypto;
  /** Payee channel id → messages waiting, in arrival order, behind a COMMIT being checked (the first). */
  readonly #held = new Map<string, Message[]>();
  /** Salts of the payer channels we opened in this run, until their ACCEPT (report.ts). */
  readonly #salts = new LruMap<string, Uint8Array>(MAX_PROOFS);
  /** Per payee (hex): its newest signed ACCEPT of one of our channels, to prove a REPORT. */
  readonly #proofs = new LruMap<string, AcceptProof>(MAX_PROOFS);
  readonly counters = {
    refusedOpens: 0,
    /** Unfunded channels forgotten: their funding never came in time, or a newer OPEN needed the room. */
    expiredUnfunded: 0,
    evictedUnfunded: 0,
    settled: 0,
    settleErrors: 0,
    unknownChannel: 0,
    machineErrors: 0,
    broadcastErrors: 0,
    heldOverflow: 0,
  };
  readonly #admission: OpenAdmissionLimits;
  /** Reports of the most recently settled channels, oldest first. */
  readonly #settled: ChannelReport[] = [];
  #settledTotals = { earnedMsat: 0, spentMsat: 0, bytesSold: 0, bytesBought: 0, channels: 0 };
  #sweepingSettled = false;
  readonly #openRate: OpenRate;
  /** A payer's next hash chain, built ahead (hash-chain-reserve.ts). */
  readonly #chains: HashChainReserve;

  constructor(deps: ChannelManagerDeps) {
    this.#d = deps;
    this.#commitments = new CommitmentCrypto({
      backend: deps.asyncCrypto ?? (() => nobleAsyncBackend),
      crypto: deps.crypto,
      random: deps.random,
    });
    const ch = deps.config.channel;
    this.#payeeCfg = {
      ...DEFAULT_PAYEE_CONFIG,
      tickKiB: ch.tickKib,
      minPriceMsatPerKiB: deps.config.market.priceMsatPerKib,
      initialCreditKiB: ch.initialCreditKib,
      maxCreditMsat: ch.maxCreditMsat,
      lossTolerancePermille: ch.lossTolerancePct * 10,
      zeroConfCapSat: ch.zeroConfCapSat,
      persistIntervalMs: ch.persistIntervalMs,
      // Both sides poll alike: the payer's meter lags as ours does.
      meterLagMs: 2 * (deps.dataplane?.meterIntervalMs ?? 0),
      minCreditBytes: deps.dataplane?.minCreditBytes ?? 0,
    };
    this.#payerCfg = { ...DEFAULT_PAYER_CONFIG, persistIntervalMs: ch.persistIntervalMs };
    this.#chains = new HashChainReserve((seed, length) => this.#buildChain(seed, length), deps.random);
    this.#admission = { ...DEFAULT_OPEN_ADMISSION, ...deps.openAdmission };
    this.#openRate = new OpenRate(this.#admission);
  }

  // ---- lifecycle ----

  /** Restores every channel in the store. */
  async start(): Promise<void> {
    let files: string[] = [];
    try {
      files = await readdir(this.#d.storeDir);
    } catch {
      return;
    }
    try {
      const t = (await this.#d.store.read(SETTLED_TOTALS_KEY)) as Partial<ChannelManager['settledTotals']> | undefined;
      if (t) for (const k of Object.keys(this.#settledTotals) as (keyof ChannelManager['settledTotals'])[]) if (Number.isSafeInteger(t[k]) && t[k]! >= 0) this.#settledTotals[k] = t[k]!;
    } catch (e) {
      this.#d.log.error('cannot read the settled channels totals', { error: (e as Error).message });
    }
    for (const f of files.sort()) {
      const m = /^(payer|payee)-([0-9a-f]{64})\.json$/.exec(f);
      if (!m) continue;
      try {
        const raw = await this.#d.store.read(`${m[1]}-${m[2]}`);
        if (m[1] === 'payee') this.#restorePayee(raw);
        else await this.#restorePayer(raw);
      } catch (e) {
        this.#d.log.error('cannot restore channel', { file: f, error: (e as Error).message });
      }
    }
    this.#arm();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#chains.stop();
    if (this.#timer) clearTimeout(this.#timer);
    // A clean stop records exactly which ticks went out: no tick is sent after this, so
    // the restart need not assume the reserve ahead of the last write was spent.
    for (const e of this.#channels.values()) {
      if (e.role !== 'payer' || (e.machine.state !== 'Open' && e.machine.state !== 'Closing')) continue;
      const { version, snapshot } = e.machine.stopSnapshot();
      this.#d.store.write(`payer-${e.id}`, version, snapshot);
    }
  }

  // ---- inputs ----

  /** An authenticated channel message from `from` (node id). */
  onMessage(message: Message, from: Uint8Array, sig?: Uint8Array): void {
    const id = channelIdOf(message);
    if (id === undefined) return;
    const now = this.#d.clock();
    let e = this.#channels.get(id);
    if (!e && message.type === 'OPEN') {
      e = this.#acceptOpen(message.body, now);
      if (!e) return;
    }
    if (!e) {
      this.counters.unknownChannel++;
      return;
    }
    if (!sameBytes(from, e.peer)) {
      this.counters.unknownChannel++;
      return;
    }
    if (message.type === 'FUNDED' && e.role === 'payee' && !e.outpoint) {
      // The payee learns the outpoint from FUNDED; the chain confirms it before any grant.
      e.outpoint = { txid: bytesToHex(message.body.txid), vout: message.body.vout };
    }
    if (e.role === 'payee' && this.#holdForCommitCheck(e, message)) return;
    const opening = e.role === 'payer' && e.machine.state === 'Opening';
    this.#handle(e, { kind: 'message', message }, now);
    if (message.type === 'ACCEPT' && opening && e.machine.state === 'Funding') this.#keepProof(e, message.body, sig);
  }

  /** The payee's signed ACCEPT of a channel we opened, kept as a REPORT's proof. */
  #keepProof(e: Entry, accept: AcceptBody, sig: Uint8Array | undefined): void {
    const salt = this.#salts.peek(e.id);
    this.#salts.delete(e.id);
    if (salt && sig) this.#proofs.set(bytesToHex(e.peer), { accept, sig, salt });
  }

  /** Our proof of a channel with `payee` (hex id), if one was accepted in this run. */
  acceptProof(payee: string): AcceptProof | undefined {
    return this.#proofs.peek(payee);
  }

  /** Commitment checks and signing ahead, per backend, for `bitmesh status`. */
  get commitmentStats(): CommitmentCryptoStats {
    return structuredClone(this.#commitments.stats);
  }

  /**
   * Payee: a new COMMIT has its signature checked through the async backend before the
   * machine sees it; messages arriving meanwhile wait behind it, so the machine sees
   * every message once and in arrival order. True when `m` was held.
   */
  #holdForCommitCheck(e: PayeeEntry, m: Message): boolean {
    const held = this.#held.get(e.id);
    if (held) {
      if (held.length >= MAX_HELD_MESSAGES) {
        this.counters.heldOverflow++; // as a lost datagram: the payer resends
        return true;
      }
      held.push(m);
      return true;
    }
    if (m.type !== 'COMMIT' || !this.#commitments.offloaded) return false;
    const terms = this.#terms(e);
    const best = e.machine.best;
    if (!terms || (best && m.body.seq <= best.seq)) return false; // the machine refuses or ignores it unchecked
    this.#held.set(e.id, [m]);
    void this.#commitments.checkAhead(e.id, terms, BigInt(m.body.paidMsat), m.body.sig).then(() => this.#releaseHeld(e));
    return true;
  }

  #releaseHeld(e: PayeeEntry): void {
    const held = this.#held.get(e.id) ?? [];
    this.#held.delete(e.id);
    for (let i = 0; i < held.length; i++) {
      const m = held[i]!;
      if (i > 0 && this.#holdForCommitCheck(e, m)) {
        this.#held.get(e.id)!.push(...held.slice(i + 1));
        return;
      }
      this.#handle(e, { kind: 'message', message: m }, this.#d.clock());
    }
  }

  /** Bytes metered for a channel since the last report (data plane → machine). */
  metered(channelId: string, bytes: number): void {
    const e = this.#channels.get(channelId);
    if (!e || bytes <= 0) return;
    this.#milestone(e, e.role === 'payer' ? 'first byte received' : 'first byte served', { bytes });
    this.#handle(e, { kind: 'metered', bytes }, this.#d.clock());
  }

  onChainHeight(height: number): void {
    const now = this.#d.clock();
    for (const e of this.#channels.values()) this.#handle(e, { kind: 'chainHeight', height }, now);
    void this.#pollFunding();
    void this.#sweepSettled(height);
  }

  onPersisted(key: string, version: number): void {
    const e = this.#channels.get(key.slice(6));
    if (e) this.#d.log.debug('channel state on flash', { channel: e.id.slice(0, 16), role: e.role, version, afterMs: this.#d.clock() - e.createdAt });
    if (e) this.#handle(e, { kind: 'persisted', version }, this.#d.clock());
  }

  // ---- commands ----

  /**
   * Payer: build a hash chain ahead for the next channel of this size and price (the
   * length open() would use), so that open() need not wait for it.
   */
  prepareChain(opts: { capacitySat: number; priceMsatPerKiB: number; tickKiB?: number }): void {
    if (this.#stopped) return;
    this.#chains.prepare(chainTicks(opts.capacitySat, BigInt((opts.tickKiB ?? this.#d.config.channel.tickKib) * opts.priceMsatPerKiB)).chainLength);
  }

  /** Payer: open a channel to `payee`, fund it from the wallet, and start paying. */
  async open(payee: Uint8Array, opts: { capacitySat: number; priceMsatPerKiB: number; tickKiB?: number; expiryBlocks?: number }): Promise<string> {
    const tip = this.#d.chain.tip;
    if (tip === undefined) throw new ChannelCommandError('chain_unavailable', 'no chain tip yet: is the chain backend reachable?');
    if (!Number.isSafeInteger(opts.capacitySat) || opts.capacitySat < 1000) {
      throw new ChannelCommandError('bad_capacity', 'capacity must be at least 1000 sat');
    }
    const tickKiB = opts.tickKiB ?? this.#d.config.channel.tickKib;
    const tickMsat = BigInt(tickKiB * opts.priceMsatPerKiB);
    let { chainLength } = chainTicks(opts.capacitySat, tickMsat);
    // No money, no channel: without this check every attempt of a client with an empty
    // wallet left a payer record stuck in Funding here, an unfunded one at the gateway,
    // and a spare hash chain spent.
    const payable = tickMsat > 0n ? Number((BigInt(chainLength) * tickMsat + 999n) / 1000n) : opts.capacitySat;
    await this.#mustAfford(Math.max(1000, Math.min(opts.capacitySat, payable)));
    const buildStart = this.#d.clock();
    // A spare built ahead serves if it is no longer than needed and pays at least the
    // smallest channel: the capacity is then cut to what it pays, as for a capped chain.
    const spare = tickMsat > 0n && BigInt(this.#chains.spareLength ?? 0) * tickMsat >= 1_000_000n ? await this.#chains.take(chainLength) : undefined;
    if (spare) chainLength = spare.length;
    const seed = spare?.seed ?? this.#d.random(32);
    const chain = spare?.chain ?? (await this.#buildChain(seed, chainLength));
    const buildMs = this.#d.clock() - buildStart;
    // Capacity the chain cannot pay out would only sit locked until the close.
    if (tickMsat > 0n && (BigInt(opts.capacitySat) * 1000n) / tickMsat > BigInt(chainLength)) {
      opts = { ...opts, capacitySat: Math.max(1000, Number((BigInt(chainLength) * tickMsat + 999n) / 1000n)) };
    }
    // Derived from our key, so that the payee's ACCEPT of it proves it was ours (report.ts).
    const salt = this.#d.random(32);
    const channelId = channelIdFor(this.#d.crypto, this.#d.identity.id, salt);
    const id = bytesToHex(channelId);
    this.#salts.set(id, salt);
    const now = this.#d.clock();
    const machine = PayerChannel.open(
      {
        channelId,
        payee,
        capacitySat: BigInt(opts.capacitySat),
        expiryHeight: tip + (opts.expiryBlocks ?? DEFAULT_EXPIRY_BLOCKS),
        tickKiB,
        priceMsatPerKiB: opts.priceMsatPerKiB,
      },
      chain,
      seed,
      this.#payerCfg,
      this.#payerDeps(id),
      now,
    );
    this.#addPayer(id, machine);
    this.#pump(this.#channels.get(id)!, now);
    this.#d.log.info('channel opening', { channel: id.slice(0, 16), peer: nodeIdToBech32(payee), capacitySat: opts.capacitySat, chainTicks: chainLength, spareChain: spare !== undefined, buildMs });
    return id;
  }

  /**
   * Close a channel. Payee: broadcast the best state through leaf A now. Payer: ask the
   * gateway to close (CLOSE); after expiry, refund through leaf B.
   */
  async close(channelId: string): Promise<CloseResult | { channelId: string; requested: true }> {
    const e = this.#channels.get(channelId);
    if (!e) throw new ChannelCommandError('unknown_channel', `no channel ${channelId}`);
    e.closeError = undefined;
    this.#handle(e, { kind: 'closeRequested', reason: 0 }, this.#d.clock());
    // The machine's closeWith ran synchronously; building and broadcasting is async.
    for (let i = 0; i < 250 && !e.closeTx && !e.closeError && e.role === 'payee'; i++) await new Promise((r) => setTimeout(r, 20));
    if (e.closeError) throw new ChannelCommandError('close_failed', e.closeError);
    if (e.closeTx) return closeResult(e);
    return { channelId, requested: true };
  }

  /** Every channel in memory, then the most recently settled ones. */
  list(): ChannelReport[] {
    return [...[...this.#channels.values()].map((e) => this.#report(e)), ...this.#settled];
  }

  /** Running totals of the channels settled so far (kept across restarts). */
  get settledTotals(): { earnedMsat: number; spentMsat: number; bytesSold: number; bytesBought: number; channels: number } {
    return { ...this.#settledTotals };
  }

  /** Earned, spent and bytes over every channel, settled ones included; open ones counted. */
  totals(): ChannelTotals {
    const s = this.#settledTotals;
    const t: ChannelTotals = { earnedMsat: s.earnedMsat, spentMsat: s.spentMsat, bytesSold: s.bytesSold, bytesBought: s.bytesBought, channelsOpen: 0, channelsSettled: s.channels };
    for (const e of this.#channels.values()) {
      const c = this.#report(e);
      addToTotals(t, c);
      if (c.state === 'Open') t.channelsOpen++;
    }
    return t;
  }

  /** Payee: the credit in force per channel (DESIGN §6: the agent reports it). */
  creditInForce(): { channelId: string; creditBytes: number }[] {
    return [...this.#channels.values()].flatMap((e) => (e.role === 'payee' ? [{ channelId: e.id, creditBytes: e.machine.creditBytes }] : []));
  }

  get size(): number {
    return this.#channels.size;
  }

  /**
   * Role, peer and state of a channel, for the data plane's admission decisions; for a
   * payer also the share of what it can ever pay that it has paid (0..1).
   */
  describe(
    channelId: string,
  ): { role: 'payer' | 'payee'; peer: Uint8Array; state: string; usedShare?: number; paidBytes?: number; servedBytes?: number; tickBytes?: number } | undefined {
    const e = this.#channels.get(channelId);
    if (!e) return undefined;
    if (e.role === 'payee') {
      const m = e.machine;
      return { role: e.role, peer: e.peer, state: m.state, paidBytes: m.paidBytes, servedBytes: m.servedBytes, tickBytes: tickBytes(m.terms) };
    }
    return { role: e.role, peer: e.peer, state: e.machine.state, usedShare: e.machine.maxTicks > 0 ? e.machine.paidTicks / e.machine.maxTicks : 1 };
  }

  /** Payee: bytes served so far per client (hex id), summed over its channels in memory. */
  servedByClient(): Map<string, number> {
    const out = new Map<string, number>();
    for (const e of this.#channels.values()) {
      if (e.role !== 'payee') continue;
      const client = bytesToHex(e.peer);
      out.set(client, (out.get(client) ?? 0) + e.machine.servedBytes);
    }
    return out;
  }

  /** Our open payer channels, newest first: where traffic may be routed. */
  openPayerChannels(): { id: string; peer: Uint8Array }[] {
    return [...this.#channels.values()]
      .filter((e) => e.role === 'payer' && e.machine.state === 'Open')
      .reverse()
      .map((e) => ({ id: e.id, peer: e.peer }));
  }

  // ---- machines ----

  #acceptOpen(open: Extract<Message, { type: 'OPEN' }>['body'], now: number): PayeeEntry | undefined {
    if (this.#d.config.agent.role === 'client') return this.#refuse(open, 'not a gateway');
    if (!sameBytes(open.payee, this.#d.identity.id)) return this.#refuse(open, 'not addressed to us');
    const tip = this.#d.chain.tip;
    if (tip === undefined) return this.#refuse(open, 'no chain tip');
    const id = bytesToHex(open.channelId);
    // The machine's first effect is its write to flash; nothing runs until #pump, so a
    // refused OPEN below leaves no trace.
    const r = PayeeChannel.fromOpen(open, this.#payeeCfg, this.#payeeDeps(id), tip, now);
    if (!r.ok) return this.#refuse(open, r.error.message);
    this.#forgetExpired(now);
    const admit = admitOpen(bytesToHex(open.sender), this.#unfunded(), this.#admission);
    if (!admit.ok) return this.#refuse(open, admit.message, true);
    if (!this.#openRate.take(now)) return this.#refuse(open, 'too many channels opening at once: try again shortly', true);
    const evicted = admit.evict === undefined ? undefined : this.#channels.get(admit.evict);
    if (evicted?.role === 'payee') this.#forget(evicted, 'evicted');
    const e = this.#addPayee(id, r.channel, open.sender);
    this.#d.log.info('channel offered', { channel: id.slice(0, 16), peer: nodeIdToBech32(open.sender), capacitySat: open.capacitySat });
    this.#pump(e, now);
    return undefined; // the OPEN itself was consumed by fromOpen
  }

  /** `quiet`: a refusal a flood of OPENs would repeat, logged at debug level only. */
  #refuse(open: { channelId: Uint8Array; sender: Uint8Array }, why: string, quiet = false): undefined {
    this.counters.refusedOpens++;
    this.#d.log[quiet ? 'debug' : 'warn']('channel refused', { channel: bytesToHex(open.channelId).slice(0, 16), reason: why });
    this.#d.send(open.sender, { type: 'ERROR', body: { channelId: open.channelId, code: 1, message: why.slice(0, 200) } });
    return undefined;
  }

  /** Payee channels still waiting for their funding to be accepted. */
  #unfunded(): UnfundedChannel[] {
    const out: UnfundedChannel[] = [];
    for (const e of this.#channels.values()) {
      if (e.role !== 'payee' || e.machine.state !== 'AwaitingFunding') continue;
      out.push({ id: e.id, peer: bytesToHex(e.peer), since: e.createdAt, fundingSeen: e.outpoint !== undefined });
    }
    return out;
  }

  #forgetExpired(now: number): void {
    for (const c of expiredUnfunded(this.#unfunded(), now, this.#admission)) {
      const e = this.#channels.get(c.id);
      if (e?.role === 'payee') this.#forget(e, 'expired');
    }
  }

  /**
   * Drops an unfunded payee channel: its entry, its state file, and the messages held
   * for it. Its payer hears why; nothing was granted on it, so the data plane holds nothing.
   */
  #forget(e: PayeeEntry, why: 'expired' | 'evicted'): void {
    this.#channels.delete(e.id);
    this.#held.delete(e.id);
    if (why === 'expired') this.counters.expiredUnfunded++;
    else this.counters.evictedUnfunded++;
    const message = why === 'expired' ? 'funding did not come in time: channel forgotten' : 'too many channels await funding: channel forgotten';
    this.#d.log.info('unfunded channel forgotten', { channel: e.id.slice(0, 16), reason: why, fundingSeen: e.outpoint !== undefined });
    this.#event(e, 'forgotten', { reason: why });
    this.#d.send(e.peer, { type: 'ERROR', body: { channelId: hexToBytes(e.id), code: 1, message } });
    void this.#d.store.remove(`payee-${e.id}`).catch((err: Error) => this.#d.log.error('cannot remove state file', { channel: e.id.slice(0, 16), error: err.message }));
  }

  #fundingFor(payerX: Uint8Array, payeeX: Uint8Array, expiryHeight: number): ChannelFunding {
    return channelFunding({ payerX, payeeX, expiryHeight, network: this.#d.config.chain.network });
  }

  #addPayee(id: string, machine: PayeeChannel, payer: Uint8Array): PayeeEntry {
    const t = machine.terms;
    const e: PayeeEntry = {
      id,
      role: 'payee',
      machine,
      peer: new Uint8Array(payer),
      funding: this.#fundingFor(t.payer, this.#d.identity.id, t.expiryHeight),
      outpoint: undefined,
      closeTx: undefined,
      closeError: undefined,
      grantedBytes: 0,
      milestones: new Set(),
      createdAt: this.#d.clock(),
      watching: false,
    };
    this.#channels.set(id, e);
    return e;
  }

  #addPayer(id: string, machine: PayerChannel): PayerEntry {
    const t = machine.terms;
    const e: PayerEntry = {
      id,
      role: 'payer',
      machine,
      peer: new Uint8Array(t.payee),
      funding: this.#fundingFor(this.#d.identity.id, t.payee, t.expiryHeight),
      outpoint: undefined,
      closeTx: undefined,
      closeError: undefined,
      grantedBytes: 0,
      milestones: new Set(),
      createdAt: this.#d.clock(),
    };
    this.#channels.set(id, e);
    return e;
  }

  /**
   * Logs a startup milestone of a channel once (first grant, first paid byte, …), with
   * the time since the channel was made: where a client's first seconds go.
   */
  #milestone(e: Entry, name: string, fields: Record<string, string | number> = {}): void {
    if (e.milestones.has(name)) return;
    e.milestones.add(name);
    this.#d.log.info(`channel ${name}`, { channel: e.id.slice(0, 16), role: e.role, afterMs: this.#d.clock() - e.createdAt, ...fields });
  }

  #terms(e: Entry): ChannelTerms | undefined {
    if (!e.outpoint) return undefined;
    const payerX = e.role === 'payer' ? this.#d.identity.id : e.peer;
    return {
      funding: e.funding,
      fundingOutpoint: e.outpoint,
      capacitySat: e.machine.terms.capacitySat,
      // The payer's change goes to its wallet: P2TR of its node key (BIP86 tweak).
      payerScript: p2tr(payerX).script,
    };
  }

  #payeeDeps(id: string) {
    return {
      self: this.#d.identity.id,
      nonce: () => this.#d.random(8),
      sha256: (b: Uint8Array) => this.#d.crypto.sha256(b),
      // Usually answered by the check made ahead (#holdForCommitCheck); else noble now.
      verifyCommitment: (paidMsat: bigint, sig: Uint8Array): boolean => {
        const e = this.#channels.get(id);
        const terms = e && this.#terms(e);
        if (!terms) return false;
        return this.#commitments.verify(id, terms, paidMsat, sig);
      },
    };
  }

  #payerDeps(id: string) {
    return {
      self: this.#d.identity.id,
      nonce: () => this.#d.random(8),
      sha256: (b: Uint8Array) => this.#d.crypto.sha256(b),
      signCommitment: (paidMsat: bigint): Uint8Array => {
        const e = this.#channels.get(id);
        // While a payer channel is being restored its entry does not exist yet, but the
        // machine re-signs its latest state: the terms come from the snapshot.
        const terms = e ? this.#terms(e) : this.#restoringPayers.get(id);
        if (!terms) throw new ChannelCommandError('not_funded', 'commitment before funding');
        // Usually a state signed ahead by the async backend (#presign); else noble now.
        return this.#commitments.sign(id, terms, paidMsat, this.#d.identity.secretKey);
      },
    };
  }

  #restorePayee(raw: unknown): void {
    const now = this.#d.clock();
    const machine = PayeeChannel.restore(raw, this.#payeeCfg, this.#payeeDeps(idOfSnapshot(raw)), now);
    const e = this.#addPayee(bytesToHex(machine.terms.channelId), machine, machine.terms.payer);
    const f = (raw as { funding?: { txid: string; vout: number } | null }).funding;
    if (f) e.outpoint = { txid: f.txid, vout: f.vout };
    this.#d.log.info('channel restored', { channel: e.id.slice(0, 16), role: 'payee', state: machine.state, paidMsat: String(machine.best?.paidMsat ?? 0n) });
    this.#pump(e, now);
  }

  async #restorePayer(raw: unknown): Promise<void> {
    const { seed, chainLength } = PayerChannel.readSeed(raw);
    const chain = await this.#buildChain(seed, chainLength);
    const now = this.#d.clock();
    const id = idOfSnapshot(raw);
    const f = (raw as { funding?: { txid: string; vout: number } | null }).funding;
    const t = SnapshotReader.of(raw, 'payer').child('terms');
    if (f) {
      const payee = t.bytes('payee', 32);
      this.#restoringPayers.set(id, {
        funding: this.#fundingFor(this.#d.identity.id, payee, t.uint('expiryHeight')),
        fundingOutpoint: { txid: f.txid, vout: f.vout },
        capacitySat: t.bigint('capacitySat'),
        payerScript: p2tr(this.#d.identity.id).script,
      });
    }
    let machine: PayerChannel;
    try {
      machine = PayerChannel.restore(raw, chain, this.#payerCfg, this.#payerDeps(id), now);
    } finally {
      this.#restoringPayers.delete(id);
    }
    const e = this.#addPayer(id, machine);
    if (f) e.outpoint = { txid: f.txid, vout: f.vout };
    this.#d.log.info('channel restored', { channel: id.slice(0, 16), role: 'payer', state: machine.state });
    this.#pump(e, now);
  }

  /** Builds a hash chain in chunks, yielding to the event loop between them (≤ 50 ms each). */
  async #buildChain(seed: Uint8Array, length: number): Promise<HashChain> {
    const b = new ChainBuilder(seed, length, (x) => this.#d.crypto.sha256(x));
    while (!b.step(CHAIN_STEP_HASHES).done) await new Promise((r) => setImmediate(r));
    return b.finish();
  }

  #handle(e: Entry, input: Parameters<PayeeChannel['handle']>[0] | Parameters<PayerChannel['handle']>[0], now: number): void {
    if (this.#stopped) return;
    if (e.role === 'payee') e.machine.handle(input as Parameters<PayeeChannel['handle']>[0], now);
    else e.machine.handle(input as Parameters<PayerChannel['handle']>[0], now);
    this.#pump(e, now);
  }

  #pump(e: Entry, now: number): void {
    for (let effect = e.machine.poll(); effect; effect = e.machine.poll()) {
      if (e.role === 'payee') this.#payeeEffect(e, effect as PayeeEffect, now);
      else this.#payerEffect(e, effect as PayerEffect);
    }
    if (e.role === 'payer') this.#presign(e);
    this.#arm();
  }

  /** Payer: sign ahead, through the async backend, the states the machine will likely sign next. */
  #presign(e: PayerEntry): void {
    const terms = this.#terms(e);
    if (!terms || e.machine.state !== 'Open') return;
    const t = e.machine.terms;
    this.#commitments.presign(e.id, terms, this.#d.identity.secretKey, {
      paidTicks: e.machine.paidTicks,
      committedMsat: e.machine.committedMsat,
      tickMsat: tickMsat(t),
      capacitySat: t.capacitySat,
    });
  }

  #payeeEffect(e: PayeeEntry, f: PayeeEffect, now: number): void {
    switch (f.kind) {
      case 'send':
        return this.#d.send(e.peer, f.message);
      case 'persist':
        return this.#d.store.write(`payee-${e.id}`, f.version, f.snapshot);
      case 'grantBytes':
        e.grantedBytes = f.totalBytes;
        this.#milestone(e, 'first grant', { bytes: f.totalBytes });
        void this.#d.dataplane?.grant({ channelId: e.id, addresses: [] }, f.totalBytes).catch((err: Error) =>
          this.#d.log.error('grant failed', { channel: e.id.slice(0, 16), error: err.message }),
        );
        return;
      case 'revoke':
        this.#d.log.info('client cut off', { channel: e.id.slice(0, 16), reason: f.reason });
        this.#event(e, 'revoked', { reason: f.reason });
        void this.#d.dataplane?.revoke(e.id).catch(() => {});
        return;
      case 'watchFunding':
        e.outpoint = { txid: bytesToHex(f.txid), vout: f.vout };
        e.watching = true;
        void this.#pollFunding();
        return;
      case 'closeWith':
        void this.#payeeClose(e, f.state.paidMsat, f.state.sig);
        return;
      case 'event':
        this.#event(e, f.event.name, { ...f.event });
        if (f.event.name === 'fundingAccepted') {
          e.watching = false;
          // Known to the data plane from now on: a connection that arrives before the
          // first grant is durable waits for it instead of being refused.
          void this.#d.dataplane?.grant({ channelId: e.id, addresses: [] }, e.grantedBytes).catch(() => {});
        }
        return;
      case 'error':
        this.counters.machineErrors++;
        this.#d.log.debug('channel input refused', { channel: e.id.slice(0, 16), code: f.error.code, at: now });
        return;
    }
  }

  #payerEffect(e: PayerEntry, f: PayerEffect): void {
    switch (f.kind) {
      case 'send':
        if (f.message.type === 'TICK') this.#milestone(e, 'first tick');
        return this.#d.send(e.peer, f.message);
      case 'persist':
        return this.#d.store.write(`payer-${e.id}`, f.version, f.snapshot);
      case 'fund':
        void this.#fund(e, f.capacitySat);
        return;
      case 'refund':
        void this.#refund(e);
        return;
      case 'event':
        this.#event(e, f.event.name, { ...f.event });
        return;
      case 'error':
        this.counters.machineErrors++;
        return;
    }
  }

  /** Throws `insufficient_funds` unless the wallet holds `capacitySat` plus a funding fee. */
  async #mustAfford(capacitySat: number): Promise<void> {
    const wallet = this.#d.wallet();
    let utxos: Awaited<ReturnType<ChannelManagerDeps['chain']['esplora']['addressUtxos']>>;
    let feeRate: number;
    try {
      [utxos, feeRate] = await Promise.all([this.#d.chain.esplora.addressUtxos(wallet.address), this.#d.chain.feeRate()]);
    } catch (err) {
      throw new ChannelCommandError('chain_unavailable', `cannot read the wallet's coins: ${(err as Error).message}`);
    }
    const held = utxos.reduce((sum, u) => sum + u.valueSat, 0n);
    // A funding transaction of a few inputs and two outputs stays under 400 vB.
    const need = BigInt(capacitySat) + BigInt(Math.ceil(feeRate * FUNDING_VBYTES_BOUND));
    if (held < need) {
      throw new ChannelCommandError('insufficient_funds', `the wallet holds ${held} sat; a ${capacitySat} sat channel needs ${need} sat with its fee (fund ${wallet.address})`);
    }
  }

  async #fund(e: PayerEntry, capacitySat: bigint): Promise<void> {
    const { chain, log } = this.#d;
    const wallet = this.#d.wallet();
    try {
      wallet.utxos.replaceWith((await chain.esplora.addressUtxos(wallet.address)).map(toWalletUtxo));
      const feeRate = await chain.feeRate();
      const p = wallet.fundChannel(e.funding, capacitySat, { feeRate, rand: () => this.#d.random(32) });
      try {
        await chain.broadcast(p.signed.hex);
      } catch (err) {
        wallet.abandon(p);
        throw err;
      }
      e.outpoint = p.fundingOutpoint;
      log.info('channel funded', { channel: e.id.slice(0, 16), txid: p.signed.txid, capacitySat: String(capacitySat) });
      this.#handle(e, { kind: 'fundingBroadcast', txid: hexToBytes(p.signed.txid), vout: p.fundingOutpoint.vout }, this.#d.clock());
    } catch (err) {
      this.counters.broadcastErrors++;
      log.error('channel funding failed', { channel: e.id.slice(0, 16), error: (err as Error).message, wallet: wallet.address });
      this.#event(e, 'fundingFailed', { error: (err as Error).message });
    }
  }

  async #pollFunding(): Promise<void> {
    for (const e of this.#channels.values()) {
      if (e.role !== 'payee' || !e.watching || !e.outpoint) continue;
      const seen = await this.#d.chain.fundingStatus(hexToBytes(e.outpoint.txid), e.outpoint.vout, e.funding.script);
      if (!seen) continue;
      this.#handle(e, { kind: 'fundingSeen', txid: hexToBytes(e.outpoint.txid), vout: e.outpoint.vout, ...seen }, this.#d.clock());
    }
  }

  /**
   * Every funded channel's output is looked up on chain once a block (one query each: a
   * gateway has tens, a client a few); one whose spend is SETTLED_CONFIRMATIONS deep is
   * settled, whatever its machine thinks: a payer is not always told its gateway closed.
   */
  async #sweepSettled(height: number): Promise<void> {
    if (this.#sweepingSettled || this.#stopped) return;
    this.#sweepingSettled = true;
    try {
      for (const e of [...this.#channels.values()]) {
        if (this.#stopped) return;
        if (!e.outpoint) continue;
        let spend: Awaited<ReturnType<ChannelManagerDeps['chain']['esplora']['txOutspend']>>;
        try {
          spend = await this.#d.chain.esplora.txOutspend(e.outpoint.txid, e.outpoint.vout);
        } catch {
          this.counters.settleErrors++; // the chain backend is down or answered junk: next block
          continue;
        }
        if (!spend?.spent || !spend.status.confirmed) continue;
        if (height - spend.status.blockHeight + 1 < SETTLED_CONFIRMATIONS) continue;
        await this.#settle(e, spend.txid, spend.status.blockHeight);
      }
    } finally {
      this.#sweepingSettled = false;
    }
  }

  /**
   * Takes a settled channel out of memory and the state directory. Its report is
   * appended to the archive first, so a crash in between leaves the channel to be
   * restored and settled again (a second archive line), never lost.
   */
  async #settle(e: Entry, txid: string, height: number): Promise<void> {
    const report: ChannelReport = { ...this.#report(e), settled: { txid, height } };
    try {
      const file = path.join(this.#d.storeDir, SETTLED_ARCHIVE);
      const size = await stat(file).then((s) => s.size, () => 0);
      if (size > SETTLED_ARCHIVE_MAX_BYTES) await rename(file, `${file}.1`);
      await appendFile(file, `${JSON.stringify(report)}\n`, { mode: 0o600 });
    } catch (err) {
      this.counters.settleErrors++;
      this.#d.log.error('cannot archive a settled channel', { channel: e.id.slice(0, 16), error: (err as Error).message });
      return;
    }
    if (this.#channels.get(e.id) !== e) return;
    this.#channels.delete(e.id);
    this.#held.delete(e.id);
    this.#commitments.forget(e.id);
    this.#settled.push(report);
    if (this.#settled.length > SETTLED_SHOWN) this.#settled.shift();
    const t = this.#settledTotals;
    addToTotals(t, report);
    t.channels++;
    this.counters.settled++;
    this.#d.store.write(SETTLED_TOTALS_KEY, t.channels, t);
    this.#d.log.info('channel settled', { channel: e.id.slice(0, 16), role: e.role, txid, height });
    this.#event(e, 'settled', { txid, height });
    if (e.role === 'payee') void this.#d.dataplane?.remove(e.id).catch(() => {});
    await this.#d.store.remove(`${e.role}-${e.id}`).catch((err: Error) => this.#d.log.error('cannot remove state file', { channel: e.id.slice(0, 16), error: err.message }));
  }

  async #payeeClose(e: PayeeEntry, paidMsat: bigint, sig: Uint8Array): Promise<void> {
    const terms = this.#terms(e);
    if (!terms) return;
    // A payee restored Closed asks again (its close may not have gone out before the
    // crash): if the funding output is already spent, there is nothing to send.
    if (e.outpoint) {
      let spend: Awaited<ReturnType<ChannelManagerDeps['chain']['esplora']['txOutspend']>> = null;
      try {
        spend = await this.#d.chain.esplora.txOutspend(e.outpoint.txid, e.outpoint.vout);
      } catch {
        // Unknown: broadcast, as before; the chain refuses a second spend anyway.
      }
      if (spend?.spent) {
        this.#d.log.info('channel already closed on chain', { channel: e.id.slice(0, 16), txid: spend.txid });
        e.closeError = `already closed on chain by ${spend.txid}`;
        return;
      }
    }
    try {
      const split = commitmentSplit(terms.capacitySat, paidMsat);
      const feeRate = await this.#d.chain.feeRate();
      const feeSat = feeForVsize(feeRate, payeeCloseVsize(split.hasChange));
      const share = split.hasChange ? split.payeeSat : terms.capacitySat;
      if (share - feeSat < DUST_SAT) {
        // Not a failure: what this channel earned does not pay for its own close yet.
        // It stays closable with the best state; the payer refunds at expiry otherwise.
        e.closeError = `not worth closing yet (its output would be below dust): earned ${share} sat, the close costs ${feeSat} sat + ${DUST_SAT} sat dust`;
        this.#d.log.warn('channel not closed', { channel: e.id.slice(0, 16), reason: e.closeError });
        return;
      }
      const tx = buildPayeeClose(this.#d.crypto, {
        terms,
        state: { paidMsat, payerSig: withHashType(sig, split.hashType) },
        payeeSecretKey: this.#d.identity.secretKey,
        payeeScript: this.#d.wallet().script,
        feeSat,
        aux: this.#d.random(32),
      });
      e.closeTx = tx;
      await this.#d.chain.broadcast(tx.hex);
      this.#d.log.info('channel closed', { channel: e.id.slice(0, 16), txid: tx.txid, paidMsat: String(paidMsat) });
      this.#event(e, 'closed', { txid: tx.txid, paidMsat: String(paidMsat) });
      // The channel is settled: its client leaves the data plane (nft: rule and counters).
      void this.#d.dataplane?.remove(e.id).catch(() => {});
    } catch (err) {
      this.counters.broadcastErrors++;
      e.closeError = (err as Error).message;
      this.#d.log.error('channel close failed', { channel: e.id.slice(0, 16), error: e.closeError });
    }
  }

  async #refund(e: PayerEntry): Promise<void> {
    const terms = this.#terms(e);
    if (!terms) return;
    try {
      const feeRate = await this.#d.chain.feeRate();
      const tx = buildRefund(this.#d.crypto, {
        terms,
        payerSecretKey: this.#d.identity.secretKey,
        toScript: this.#d.wallet().script,
        feeSat: feeForVsize(feeRate, refundVsize()),
        aux: this.#d.random(32),
      });
      e.closeTx = tx;
      await this.#d.chain.broadcast(tx.hex);
      this.#event(e, 'refunded', { txid: tx.txid });
    } catch (err) {
      this.counters.broadcastErrors++;
      e.closeError = (err as Error).message;
      this.#d.log.error('refund failed', { channel: e.id.slice(0, 16), error: (err as Error).message });
    }
  }

  #event(e: Entry, name: string, detail?: Record<string, unknown>): void {
    this.#d.onEvent?.({ channelId: e.id, role: e.role, name, ...(detail ? { detail } : {}) });
  }

  #arm(): void {
    if (this.#stopped) return;
    let next = Infinity;
    for (const e of this.#channels.values()) next = Math.min(next, e.machine.pollTimeout() ?? Infinity);
    for (const c of this.#unfunded()) next = Math.min(next, unfundedDeadline(c, this.#admission));
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (next === Infinity) return;
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, next - this.#d.clock()));
  }

  #onTimer(): void {
    this.#timer = undefined;
    const now = this.#d.clock();
    this.#forgetExpired(now);
    for (const e of this.#channels.values()) {
      const at = e.machine.pollTimeout();
      if (at !== undefined && at <= now) {
        e.machine.handleTimeout(now);
        for (let effect = e.machine.poll(); effect; effect = e.machine.poll()) {
          if (e.role === 'payee') this.#payeeEffect(e, effect as PayeeEffect, now);
          else this.#payerEffect(e, effect as PayerEffect);
        }
        if (e.role === 'payer') this.#presign(e);
      }
    }
    this.#arm();
  }

  #report(e: Entry): ChannelReport {
    const t = e.machine.terms;
    return {
      id: e.id,
      role: e.role,
      peer: nodeIdToBech32(e.peer),
      state: e.machine.state,
      capacitySat: Number(t.capacitySat),
      priceMsatPerKiB: t.priceMsatPerKiB,
      tickKiB: t.tickKiB,
      paidMsat: String(e.role === 'payee' ? (e.machine.best?.paidMsat ?? 0n) : e.machine.committedMsat),
      paidTicks: e.machine.paidTicks,
      bytes: e.role === 'payee' ? e.machine.servedBytes : e.machine.receivedBytes,
      grantedBytes: e.role === 'payee' ? e.machine.grantedBytes : null,
      creditBytes: e.role === 'payee' ? e.machine.creditBytes : null,
      lossWrittenOffBytes: e.role === 'payee' ? e.machine.lossWrittenOffBytes : null,
      expiryHeight: t.expiryHeight,
      funding: e.outpoint ? { ...e.outpoint, address: e.funding.address } : null,
      closeTxid: e.closeTx?.txid ?? null,
    };
  }
}

/** The hash chain a channel of this capacity needs at this tick price (at most MAX_CHAIN_TICKS). */
function chainTicks(capacitySat: number, tickMsat: bigint): { chainLength: number } {
  const ticks = tickMsat === 0n ? MAX_CHAIN_TICKS : Number((BigInt(capacitySat) * 1000n) / tickMsat);
  return { chainLength: Math.max(1, Math.min(MAX_CHAIN_TICKS, ticks)) };
}

function closeResult(e: Entry): CloseResult {
  const tx = e.closeTx!;
  const prev = fundingPrevout({ funding: e.funding, capacitySat: e.machine.terms.capacitySat });
  return {
    channelId: e.id,
    txid: tx.txid,
    hex: tx.hex,
    spends: [{ txid: e.outpoint!.txid, vout: e.outpoint!.vout, scriptHex: bytesToHex(prev.script), amountSat: String(prev.amount) }],
  };
}

function channelIdOf(m: Message): string | undefined {
  switch (m.type) {
    case 'OPEN':
    case 'ACCEPT':
    case 'FUNDED':
    case 'TICK':
    case 'COMMIT':
    case 'CLOSE':
      return bytesToHex(m.body.channelId);
    case 'ERROR':
      return m.body.channelId.length === 32 ? bytesToHex(m.body.channelId) : undefined;
    default:
      return undefined;
  }
}

function idOfSnapshot(raw: unknown): string {
  const id = (raw as { terms?: { channelId?: unknown } } | undefined)?.terms?.channelId;
  if (typeof id !== 'string' || !/^[0-9a-f]{64}$/.test(id)) throw new ChannelCommandError('bad_snapshot', 'snapshot without a channel id');
  return id;
}

function withHashType(sig64: Uint8Array, hashType: number): Uint8Array {
  const out = new Uint8Array(65);
  out.set(sig64.subarray(0, 64));
  out[64] = hashType;
  return out;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function toWalletUtxo(u: { txid: string; vout: number; valueSat: bigint; status: { confirmed: boolean; blockHeight?: number } }) {
  return { txid: u.txid, vout: u.vout, valueSat: u.valueSat, height: u.status.confirmed ? (u.status.blockHeight ?? null) : null };
}
