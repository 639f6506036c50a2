// Brings the selected crypto backend (the native helper when it was chosen, noble
// otherwise) into the channel path without touching the sans-I/O machines, whose
// signCommitment and verifyCommitment deps are synchronous (DESIGN.md §6, §8):
//
//  - Payee: the adapter checks an incoming COMMIT's BIP340 signature asynchronously
//    (checkAhead; the helper client batches every check queued in one turn) and hands
//    the COMMIT to the machine afterwards. The machine's verifyCommitment then takes
//    that verdict from a small bounded cache (verify), keyed by channel, amount and
//    signature; without one it checks on noble itself.
//  - Payer: after each step of the machine the adapter pre-signs the states it is
//    likely to sign next (paid = seq × tick price, at the tick jumps seen lately) through
//    the backend (presign); the machine's signCommitment takes a pre-signed state for
//    exactly that amount or signs on noble (sign).
//
// The answers are the ones noble gives (same sighash, same key), so a helper that dies
// mid-run costs speed, never a payment: a pending check is retried on noble by
// AsyncCrypto, and a missing verdict or pre-signed state falls back to noble here.
import { bytesToHex } from '@noble/hashes/utils.js';
import { buildCommitmentTx, commitmentSplit, fundingPrevout, signCommitment, verifyCommitment, type ChannelTerms } from '../chain/commitment.js';
import { taprootSighash } from '../chain/tx-taproot.js';
import type { Crypto } from '../crypto/facade.js';
import { nobleAsyncBackend, type AsyncCryptoBackend } from '../crypto/helper-async-backend.js';

/** Verdicts kept for COMMITs on their way to a machine; a COMMIT normally takes its own within a turn. */
const DEFAULT_VERDICT_CACHE = 256;
/** States signed ahead per channel. Each costs a sighash in JS, so only likely ones. */
const DEFAULT_PRESIGN_AHEAD = 4;
/** Tick jumps remembered per channel to predict the next signed amount. */
const JUMP_HISTORY = 4;

export interface CommitmentSighash {
  readonly sighash: Uint8Array;
  /** The sighash byte this amount requires (SINGLE|ACP with change, NONE|ACP without). */
  readonly hashType: number;
}

export interface CommitmentCryptoDeps {
  /** The selected backend, read at every call (it drops to noble when the helper dies). */
  readonly backend: () => AsyncCryptoBackend;
  /** The synchronous facade: the fallback, and what the machines used before. */
  readonly crypto: Crypto;
  readonly random: (n: number) => Uint8Array;
  readonly verdictCacheSize?: number;
  readonly presignAhead?: number;
}

export interface CommitmentCryptoStats {
  /** COMMIT signatures checked ahead, by the backend that answered. */
  checkedAhead: { helper: number; noble: number };
  /** verifyCommitment answered from a verdict / had to check on noble. */
  verdictHits: number;
  verdictMisses: number;
  /** States signed ahead, by backend. */
  presigned: { helper: number; noble: number };
  /** signCommitment took a pre-signed state / signed on noble. */
  presignHits: number;
  presignMisses: number;
  /** Pre-signed states passed over (the payer jumped past them). */
  presignUnused: number;
  /** Backend calls that failed for another reason than a dead helper (answered on noble). */
  errors: number;
}

/** What the adapter knows of a payer machine after a step. */
export interface PayerProgress {
  readonly paidTicks: number;
  readonly committedMsat: bigint;
  readonly tickMsat: bigint;
  readonly capacitySat: bigint;
}

interface Presigned {
  sig: Uint8Array | undefined;
}

interface PayerTrack {
  lastTicks: number;
  readonly jumps: number[];
  /** paid msat → a state being signed (sig undefined) or signed. */
  readonly states: Map<bigint, Presigned>;
}

/** The commitment sighash, as src/chain/commitment.ts signs and verifies it. */
export function commitmentSighash(terms: ChannelTerms, paidMsat: bigint): CommitmentSighash {
  const { tx, split } = buildCommitmentTx(terms, paidMsat);
  const sighash = taprootSighash(tx, 0, [fundingPrevout(terms)], split.hashType, terms.funding.leafA.script);
  return { sighash, hashType: split.hashType };
}

/**
 * Amounts worth signing ahead: seq = paidTicks + jump for the jumps seen lately (and 1),
 * nearest first, at most `limit`, only those the payer would commit to (a whole sat past
 * the committed amount) and within the capacity.
 */
export function presignCandidates(p: PayerProgress, jumps: readonly number[], limit: number): bigint[] {
  if (p.tickMsat <= 0n || limit <= 0) return [];
  const steps = [...new Set([1, ...jumps.filter((j) => Number.isSafeInteger(j) && j > 0)])].sort((a, b) => a - b);
  const out: bigint[] = [];
  const capMsat = p.capacitySat * 1000n;
  for (const j of steps) {
    const paid = BigInt(p.paidTicks + j) * p.tickMsat;
    if (paid > capMsat) break;
    if (paid / 1000n <= p.committedMsat / 1000n) continue;
    out.push(paid);
    if (out.length >= limit) break;
  }
  return out;
}

export class CommitmentCrypto {
  readonly #d: CommitmentCryptoDeps;
  readonly #verdicts = new Map<string, boolean>();
  readonly #payers = new Map<string, PayerTrack>();
  readonly #cacheSize: number;
  readonly #ahead: number;
  readonly stats: CommitmentCryptoStats = {
    checkedAhead: { helper: 0, noble: 0 },
    verdictHits: 0,
    verdictMisses: 0,
    presigned: { helper: 0, noble: 0 },
    presignHits: 0,
    presignMisses: 0,
    presignUnused: 0,
    errors: 0,
  };

  constructor(deps: CommitmentCryptoDeps) {
    this.#d = deps;
    this.#cacheSize = Math.max(1, deps.verdictCacheSize ?? DEFAULT_VERDICT_CACHE);
    this.#ahead = Math.max(0, deps.presignAhead ?? DEFAULT_PRESIGN_AHEAD);
  }

  /**
   * True while the backend works off the main thread (the helper). On noble, work done
   * ahead costs the same main-thread time as inline, plus the states signed for nothing,
   * so the adapter then leaves both checks and signatures to the machine, as before.
   */
  get offloaded(): boolean {
    return this.#d.backend().name !== nobleAsyncBackend.name;
  }

  // ---- payee ----

  /**
   * Checks a COMMIT's signature (64 bytes, sighash byte implied by the amount) through
   * the backend and keeps the verdict for verify(). Never rejects: on any failure no
   * verdict is kept and verify() checks on noble.
   */
  async checkAhead(channelId: string, terms: ChannelTerms, paidMsat: bigint, sig: Uint8Array): Promise<void> {
    if (sig.length !== 64) return; // the machine's own check decides oddities
    let verdict: boolean;
    try {
      const { sighash } = commitmentSighash(terms, paidMsat);
      verdict = await this.#d.backend().schnorrVerify(sig, sighash, terms.funding.payerX);
      this.stats.checkedAhead[this.#d.backend().name === 'helper' ? 'helper' : 'noble']++;
    } catch {
      // Bad amount (commitmentSplit refuses it) or a backend error: let verify() decide.
      this.stats.errors++;
      return;
    }
    const key = verdictKey(channelId, paidMsat, sig);
    this.#verdicts.delete(key);
    this.#verdicts.set(key, verdict);
    while (this.#verdicts.size > this.#cacheSize) this.#verdicts.delete(this.#verdicts.keys().next().value!);
  }

  /** The machine's verifyCommitment: the verdict checked ahead, else noble now. */
  verify(channelId: string, terms: ChannelTerms, paidMsat: bigint, sig: Uint8Array): boolean {
    const key = verdictKey(channelId, paidMsat, sig);
    const verdict = this.#verdicts.get(key);
    if (verdict !== undefined) {
      this.#verdicts.delete(key);
      this.stats.verdictHits++;
      return verdict;
    }
    this.stats.verdictMisses++;
    try {
      const hashType = commitmentSplit(terms.capacitySat, paidMsat).hashType;
      return verifyCommitment(this.#d.crypto, terms, { paidMsat, payerSig: withHashType(sig, hashType) });
    } catch {
      return false;
    }
  }

  // ---- payer ----

  /** After a payer step: sign ahead the states it will likely sign next (fire and forget). */
  presign(channelId: string, terms: ChannelTerms, secretKey: Uint8Array, p: PayerProgress): void {
    let t = this.#payers.get(channelId);
    if (!t) {
      t = { lastTicks: p.paidTicks, jumps: [], states: new Map() };
      this.#payers.set(channelId, t);
    }
    if (p.paidTicks > t.lastTicks) {
      t.jumps.unshift(p.paidTicks - t.lastTicks);
      t.jumps.length = Math.min(t.jumps.length, JUMP_HISTORY);
      t.lastTicks = p.paidTicks;
    }
    const paidNow = BigInt(p.paidTicks) * p.tickMsat;
    for (const [amount, s] of t.states) {
      if (amount > paidNow) continue;
      t.states.delete(amount);
      if (s.sig) this.stats.presignUnused++;
    }
    if (!this.offloaded) return;
    const room = this.#ahead - t.states.size;
    if (room <= 0) return;
    for (const amount of presignCandidates(p, t.jumps, this.#ahead)) {
      if (t.states.size >= this.#ahead) break;
      if (t.states.has(amount)) continue;
      const entry: Presigned = { sig: undefined };
      t.states.set(amount, entry);
      void this.#signAhead(terms, amount, secretKey).then((sig) => {
        entry.sig = sig;
      });
    }
  }

  /** The channel is gone (settled): drop what was signed ahead for it. */
  forget(channelId: string): void {
    this.#payers.delete(channelId);
  }

  /** The machine's signCommitment: the pre-signed state for this amount, else noble now. 64 bytes. */
  sign(channelId: string, terms: ChannelTerms, paidMsat: bigint, secretKey: Uint8Array): Uint8Array {
    const t = this.#payers.get(channelId);
    const sig = t?.states.get(paidMsat)?.sig;
    if (t) t.states.delete(paidMsat);
    if (sig) {
      this.stats.presignHits++;
      return sig;
    }
    this.stats.presignMisses++;
    return signCommitment(this.#d.crypto, terms, paidMsat, secretKey, this.#d.random(32)).payerSig.subarray(0, 64);
  }

  async #signAhead(terms: ChannelTerms, paidMsat: bigint, secretKey: Uint8Array): Promise<Uint8Array | undefined> {
    try {
      const { sighash } = commitmentSighash(terms, paidMsat);
      const sig = await this.#d.backend().schnorrSign(sighash, secretKey, this.#d.random(32));
      this.stats.presigned[this.#d.backend().name === 'helper' ? 'helper' : 'noble']++;
      return sig;
    } catch {
      this.stats.errors++;
      return undefined;
    }
  }
}

function verdictKey(channelId: string, paidMsat: bigint, sig: Uint8Array): string {
  return `${channelId}:${paidMsat}:${bytesToHex(sig)}`;
}

function withHashType(sig64: Uint8Array, hashType: number): Uint8Array {
  const out = new Uint8Array(65);
  out.set(sig64.subarray(0, 64));
  out[64] = hashType;
  return out;
}
