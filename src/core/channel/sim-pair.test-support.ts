// A simulated network for one payer and one payee (quinn-proto's `Pair`): virtual
// clock, control datagrams with latency, loss, reordering and duplication (encoded
// and decoded by the real codec, so every body the machines make fits the schema),
// a byte flow from payee to payer at a link rate with a loss share, flash stores
// with a write-rate bound, and crash-restart of either side from its last durable
// snapshot. Deterministic: all randomness comes from `seed`.
import { Crypto } from '../../crypto/facade.js';
import { WireCodec } from '../wire/codec.js';
import { SIGNED_TYPES } from '../wire/constants.js';
import type { Message } from '../wire/messages.js';
import { buildChain, bytesEqual, type HashChain } from './hash-chain.js';
import { DEFAULT_PAYEE_CONFIG, PayeeChannel, type PayeeConfig, type PayeeEffect, type SignedState } from './payee.js';
import { DEFAULT_PAYER_CONFIG, PayerChannel, type PayerConfig, type PayerEffect } from './payer.js';

const crypto = new Crypto();
export const simSha256 = (d: Uint8Array): Uint8Array => crypto.sha256(d);

/** Deterministic stand-in for the chain module's signing: sig = H(paid) ‖ H(H(paid)). */
export function fakeSign(paidMsat: bigint): Uint8Array {
  const a = simSha256(new TextEncoder().encode(`commit:${paidMsat}`));
  const out = new Uint8Array(64);
  out.set(a, 0);
  out.set(simSha256(a), 32);
  return out;
}
export function fakeVerify(paidMsat: bigint, sig: Uint8Array): boolean {
  return bytesEqual(fakeSign(paidMsat), sig);
}

/** mulberry32: small, seeded, good enough for a simulator. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export interface SimOptions {
  readonly seed: number;
  /** One-way control and data latency. */
  readonly latencyMs: number;
  readonly lossRate: number;
  readonly dupRate: number;
  /** Share of datagrams delayed by up to reorderMs more (so they overtake or get overtaken). */
  readonly reorderRate: number;
  readonly reorderMs: number;
  /** Payee → payer link rate. */
  readonly linkBytesPerMs: number;
  /** Share of served bytes that never reach the payer's meter, permille. */
  readonly dataLossPermille: number;
  readonly dataStepMs: number;
  /** The flash store: least time between writes, and how long a write takes. */
  readonly storeMinIntervalMs: number;
  readonly storeWriteMs: number;
  readonly capacitySat: number;
  readonly chainLength: number;
  readonly tickKiB: number;
  readonly priceMsatPerKiB: number;
  readonly payee: Partial<PayeeConfig>;
  readonly payer: Partial<PayerConfig>;
}

export const DEFAULT_SIM: SimOptions = {
  seed: 1,
  latencyMs: 5,
  lossRate: 0,
  dupRate: 0,
  reorderRate: 0,
  reorderMs: 0,
  linkBytesPerMs: 1250,
  dataLossPermille: 0,
  dataStepMs: 1,
  storeMinIntervalMs: 200,
  storeWriteMs: 5,
  capacitySat: 50_000,
  chainLength: 4096,
  tickKiB: 16,
  priceMsatPerKiB: 100,
  payee: {},
  payer: {},
};

type Side = 'payer' | 'payee';

interface Scheduled {
  readonly at: number;
  readonly seq: number;
  readonly run: () => void;
}

/** A flash store twin: coalescing, at most one write per minInterval, lost on crash. */
class SimStore {
  durable: string | undefined;
  writes = 0;
  #pending: { version: number; json: string } | undefined;
  #busyUntil = Number.NEGATIVE_INFINITY;
  #lastStart = Number.NEGATIVE_INFINITY;
  #epoch = 0;
  #scheduled = false;

  constructor(
    private readonly sim: SimPair,
    private readonly side: Side,
  ) {}

  write(version: number, snapshot: unknown): void {
    this.#pending = { version, json: JSON.stringify(snapshot) };
    this.#kick();
  }

  crash(): void {
    this.#pending = undefined;
    this.#epoch++;
    this.#scheduled = false;
    this.#busyUntil = Number.NEGATIVE_INFINITY;
  }

  #kick(): void {
    if (this.#scheduled || !this.#pending) return;
    const o = this.sim.opts;
    const start = Math.max(this.sim.now, this.#busyUntil, this.#lastStart + o.storeMinIntervalMs);
    const epoch = this.#epoch;
    this.#scheduled = true;
    this.sim.at(start, () => {
      if (epoch !== this.#epoch) return;
      const w = this.#pending!;
      this.#pending = undefined;
      this.#lastStart = this.sim.now;
      this.#busyUntil = this.sim.now + o.storeWriteMs;
      this.sim.at(this.#busyUntil, () => {
        if (epoch !== this.#epoch) return;
        this.durable = w.json;
        this.writes++;
        this.#scheduled = false;
        this.sim.persisted(this.side, w.version);
        this.#kick();
      });
    });
  }
}

export class SimPair {
  now = 0;
  readonly opts: SimOptions;
  readonly rand: () => number;
  readonly codec = new WireCodec();
  payer: PayerChannel;
  payee: PayeeChannel | undefined;
  readonly payerStore: SimStore;
  readonly payeeStore: SimStore;
  readonly payeeCfg: PayeeConfig;
  readonly payerCfg: PayerConfig;
  readonly payerId = new Uint8Array(32).fill(0xaa);
  readonly payeeId = new Uint8Array(32).fill(0xbb);
  readonly channelId = new Uint8Array(32).fill(0xcc);
  readonly chainSeed = new Uint8Array(32).fill(0x5e);
  readonly #chain: HashChain;
  #queue: Scheduled[] = [];
  #seq = 0;
  #nonce = 0;

  // The truth, as an outside observer sees it.
  realServed = 0;
  realReceived = 0;
  /** The data plane's limit, in realServed terms. Fail closed: 0 until granted. */
  dpLimit = 0;
  #dataCarry = 0;
  #lastServe = 0;
  /** Served bytes still to be stranded (see strand()). */
  #strandLeft = 0;
  /** Bytes stranded so far: served and counted by the payee, never seen by the payer. */
  stranded = 0;
  readonly payeeEvents: PayeeEffect[] = [];
  readonly payerEvents: PayerEffect[] = [];
  readonly closes: SignedState[] = [];
  refunds = 0;
  payeeErrors = 0;
  payerErrors = 0;
  datagrams = 0;
  payerCrashes = 0;
  payeeCrashes = 0;
  /** Per payee crash: real served bytes its restored snapshot does not account for. */
  readonly payeeCrashGaps: number[] = [];
  /** Hook after every input handled by either side (invariant checks). */
  onStep: ((sim: SimPair) => void) | undefined;

  constructor(opts: Partial<SimOptions> = {}) {
    this.opts = { ...DEFAULT_SIM, ...opts };
    this.rand = prng(this.opts.seed);
    this.payeeCfg = {
      ...DEFAULT_PAYEE_CONFIG,
      tickKiB: this.opts.tickKiB,
      zeroConfCapSat: 1_000_000,
      maxChannelSat: 10_000_000,
      persistIntervalMs: this.opts.storeMinIntervalMs,
      ...this.opts.payee,
    };
    this.payerCfg = { ...DEFAULT_PAYER_CONFIG, persistIntervalMs: this.opts.storeMinIntervalMs, ...this.opts.payer };
    this.payerStore = new SimStore(this, 'payer');
    this.payeeStore = new SimStore(this, 'payee');
    this.#chain = buildChain(this.chainSeed, this.opts.chainLength, simSha256);
    this.payer = this.#openPayer();
    this.#drainPayer();
  }

  #openPayer(): PayerChannel {
    return PayerChannel.open(
      {
        channelId: this.channelId,
        payee: this.payeeId,
        capacitySat: BigInt(this.opts.capacitySat),
        expiryHeight: 1000,
        tickKiB: this.opts.tickKiB,
        priceMsatPerKiB: this.opts.priceMsatPerKiB,
      },
      this.#chain,
      this.chainSeed,
      this.payerCfg,
      this.#payerDeps(),
      this.now,
    );
  }

  #deps(self: Uint8Array) {
    return { self, nonce: () => this.#nextNonce(), sha256: simSha256 };
  }
  #payerDeps() {
    return { ...this.#deps(this.payerId), signCommitment: fakeSign };
  }
  #payeeDeps() {
    return { ...this.#deps(this.payeeId), verifyCommitment: fakeVerify };
  }
  #nextNonce(): Uint8Array {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setUint32(4, ++this.#nonce);
    return n;
  }

  at(time: number, run: () => void): void {
    const e = { at: time, seq: this.#seq++, run };
    // Sorted insert; queues stay short.
    let i = this.#queue.length;
    while (i > 0 && (this.#queue[i - 1]!.at > e.at || (this.#queue[i - 1]!.at === e.at && this.#queue[i - 1]!.seq > e.seq))) i--;
    this.#queue.splice(i, 0, e);
  }

  // --- the network ---

  #transmit(to: Side, m: Message): void {
    const bodyBytes = this.codec.encodeBody(m.type, m.body as never);
    const datagram = this.codec.encodeEnvelope(m.type, bodyBytes, SIGNED_TYPES.has(m.type) ? new Uint8Array(64) : undefined);
    this.datagrams++;
    const o = this.opts;
    const copies = this.rand() < o.dupRate ? 2 : 1;
    for (let c = 0; c < copies; c++) {
      if (this.rand() < o.lossRate) continue;
      const extra = this.rand() < o.reorderRate ? this.rand() * o.reorderMs : 0;
      this.at(this.now + o.latencyMs + extra + c * 0.01, () => this.#deliver(to, datagram));
    }
  }

  #deliver(to: Side, datagram: Uint8Array): void {
    const d = this.codec.decode(datagram);
    if (!d.ok) throw new Error(`sim: a machine sent an undecodable datagram: ${d.error.message}`);
    const m = d.value.message;
    if (to === 'payer') {
      this.payer.handle({ kind: 'message', message: m }, this.now);
      this.#drainPayer();
    } else {
      if (!this.payee) {
        if (m.type !== 'OPEN') return;
        const r = PayeeChannel.fromOpen(m.body, this.payeeCfg, this.#payeeDeps(), 0, this.now);
        if (!r.ok) throw new Error(`sim: payee refused OPEN: ${r.error.message}`);
        this.payee = r.channel;
      } else {
        this.payee.handle({ kind: 'message', message: m }, this.now);
      }
      this.#drainPayee();
    }
  }

  // --- effects ---

  #drainPayer(): void {
    for (const e of this.payer.drain()) {
      switch (e.kind) {
        case 'send':
          this.#transmit('payee', e.message);
          break;
        case 'persist':
          this.payerStore.write(e.version, e.snapshot);
          break;
        case 'fund':
          this.at(this.now + 1, () => {
            this.payer.handle({ kind: 'fundingBroadcast', txid: new Uint8Array(32).fill(0xf0), vout: 0 }, this.now);
            this.#drainPayer();
          });
          break;
        case 'refund':
          this.refunds++;
          break;
        case 'error':
          this.payerErrors++;
          this.payerEvents.push(e);
          break;
        case 'event':
          this.payerEvents.push(e);
          break;
      }
    }
    this.onStep?.(this);
  }

  #drainPayee(): void {
    if (!this.payee) return;
    for (const e of this.payee.drain()) {
      switch (e.kind) {
        case 'send':
          this.#transmit('payer', e.message);
          break;
        case 'persist':
          this.payeeStore.write(e.version, e.snapshot);
          break;
        case 'grantBytes':
          this.dpLimit = this.realServed + e.remainingBytes;
          break;
        case 'revoke':
          this.dpLimit = this.realServed;
          this.payeeEvents.push(e);
          break;
        case 'watchFunding': {
          const { txid, vout, capacitySat } = e;
          this.at(this.now + 2, () => {
            this.payee?.handle({ kind: 'fundingSeen', txid, vout, valueSat: capacitySat, confirmations: 0 }, this.now);
            this.#drainPayee();
          });
          break;
        }
        case 'closeWith':
          this.closes.push(e.state);
          break;
        case 'error':
          this.payeeErrors++;
          this.payeeEvents.push(e);
          break;
        case 'event':
          this.payeeEvents.push(e);
          break;
      }
    }
    this.onStep?.(this);
  }

  persisted(side: Side, version: number): void {
    if (side === 'payer') {
      this.payer.handle({ kind: 'persisted', version }, this.now);
      this.#drainPayer();
    } else if (this.payee) {
      this.payee.handle({ kind: 'persisted', version }, this.now);
      this.#drainPayee();
    }
  }

  // --- crashes ---

  crashPayer(): void {
    this.payerCrashes++;
    this.payerStore.crash();
    if (this.payerStore.durable === undefined) {
      // Crashed before its first snapshot was on flash: it never funded; start over.
      this.payer = this.#openPayer();
      this.#drainPayer();
      return;
    }
    const raw: unknown = JSON.parse(this.payerStore.durable);
    const { seed, chainLength } = PayerChannel.readSeed(raw);
    const chain = bytesEqual(seed, this.chainSeed) && chainLength === this.#chain.length ? this.#chain : buildChain(seed, chainLength, simSha256);
    this.payer = PayerChannel.restore(raw, chain, this.payerCfg, this.#payerDeps(), this.now);
    this.#drainPayer();
  }

  crashPayee(): void {
    this.payeeCrashes++;
    // What earlier crashes already lost is not this crash's: measure from the drift
    // between the data plane and the machine just before it.
    const driftBefore = this.realServed - (this.payee?.servedBytes ?? 0);
    this.payeeStore.crash();
    this.dpLimit = this.realServed; // fail closed while the agent is down
    const durable = this.payeeStore.durable;
    this.payee = durable === undefined ? undefined : PayeeChannel.restore(JSON.parse(durable), this.payeeCfg, this.#payeeDeps(), this.now);
    this.payeeCrashGaps.push(this.realServed - (this.payee?.servedBytes ?? 0) - driftBefore);
    this.#drainPayee();
  }

  /**
   * An aborted download: the next `bytes` the payee serves are counted by it and never
   * reach the payer's meter (the bytes a relay had written when the connection died).
   */
  strand(bytes: number): void {
    this.#strandLeft += bytes;
  }

  /** Drops later control datagrams (a network partition) or heals it. */
  setControlLoss(rate: number): void {
    (this.opts as { lossRate: number }).lossRate = rate;
  }

  // --- the clock ---

  run(untilMs: number): void {
    while (this.now < untilMs) {
      const next = Math.min(
        this.#queue[0]?.at ?? Infinity,
        this.payer.pollTimeout() ?? Infinity,
        this.payee?.pollTimeout() ?? Infinity,
        this.#lastServe + this.opts.dataStepMs,
        untilMs,
      );
      this.now = Math.max(this.now, next);
      while (this.#queue.length > 0 && this.#queue[0]!.at <= this.now) this.#queue.shift()!.run();
      if ((this.payer.pollTimeout() ?? Infinity) <= this.now) {
        this.payer.handleTimeout(this.now);
        this.#drainPayer();
      }
      if (this.payee && (this.payee.pollTimeout() ?? Infinity) <= this.now) {
        this.payee.handleTimeout(this.now);
        this.#drainPayee();
      }
      if (this.now >= this.#lastServe + this.opts.dataStepMs) this.#serve();
    }
  }

  /** The payee forwards what the link and the data plane allow; the payer meters what arrives. */
  #serve(): void {
    const dt = this.now - this.#lastServe;
    this.#lastServe = this.now;
    const bytes = Math.max(0, Math.min(Math.floor(this.opts.linkBytesPerMs * dt), this.dpLimit - this.realServed));
    if (bytes === 0 || !this.payee) return;
    this.realServed += bytes;
    this.payee.handle({ kind: 'metered', bytes }, this.now);
    this.#drainPayee();
    const lost = Math.min(bytes, this.#strandLeft);
    this.#strandLeft -= lost;
    this.stranded += lost;
    const exact = ((bytes - lost) * (1000 - this.opts.dataLossPermille)) / 1000 + this.#dataCarry;
    const arrive = Math.floor(exact);
    this.#dataCarry = exact - arrive;
    if (arrive === 0) return;
    this.at(this.now + this.opts.latencyMs, () => {
      this.realReceived += arrive;
      this.payer.handle({ kind: 'metered', bytes: arrive }, this.now);
      this.#drainPayer();
    });
  }
}
