// PayWord hash chains (DESIGN.md §6). W_n = seed, W_{i−1} = SHA-256(W_i); the anchor
// W_0 is committed in OPEN and TICK i reveals W_i, checked by H(W_i) = W_{i−1}.
//
// Building hashes from W_n down to W_0, so nothing is known until the end. A router
// cannot hold 2^20 × 32 B, nor block its event loop for a second: ChainBuilder.step
// hashes a bounded chunk and the adapter yields between chunks; the finished
// HashChain keeps one element every CHAIN_CHECKPOINT_INTERVAL and regenerates the
// segment below a checkpoint on demand (at most one interval of hashes per reveal,
// and reveals go upwards, so each segment is built once).
//
// Hashing goes through an injected `sha256` (the Crypto facade's) so the native
// helper can take it over.
import { CHAIN_CHECKPOINT_INTERVAL, MAX_TICK_GAP } from './constants.js';
import { ChannelError, ChannelUsageError } from './errors.js';

export type Sha256 = (data: Uint8Array) => Uint8Array;

export interface BuildProgress {
  readonly done: boolean;
  /** Elements still to hash. */
  readonly remaining: number;
  readonly length: number;
}

export class ChainBuilder {
  readonly #sha256: Sha256;
  readonly #length: number;
  readonly #interval: number;
  readonly #checkpoints = new Map<number, Uint8Array>();
  /** Index of the element in #cur. */
  #index: number;
  #cur: Uint8Array;

  constructor(seed: Uint8Array, length: number, sha256: Sha256, interval = CHAIN_CHECKPOINT_INTERVAL) {
    if (!(seed instanceof Uint8Array) || seed.length !== 32) throw new ChannelUsageError('bad_seed', '"seed" expected 32 bytes');
    if (!Number.isSafeInteger(length) || length < 1) throw new ChannelUsageError('bad_length', `"length" expected ≥ 1, got ${length}`);
    if (!Number.isSafeInteger(interval) || interval < 1) throw new ChannelUsageError('bad_interval', `"interval" expected ≥ 1, got ${interval}`);
    this.#sha256 = sha256;
    this.#length = length;
    this.#interval = interval;
    this.#index = length;
    this.#cur = new Uint8Array(seed);
    this.#checkpoints.set(length, this.#cur);
  }

  /** Hashes at most `maxHashes` more elements. */
  step(maxHashes: number): BuildProgress {
    let budget = Math.max(0, Math.floor(maxHashes));
    while (budget > 0 && this.#index > 0) {
      this.#cur = this.#sha256(this.#cur);
      this.#index--;
      budget--;
      if (this.#index % this.#interval === 0) this.#checkpoints.set(this.#index, this.#cur);
    }
    return { done: this.#index === 0, remaining: this.#index, length: this.#length };
  }

  /** The finished chain; throws if step() has not reached W_0. */
  finish(): HashChain {
    if (this.#index !== 0) throw new ChannelUsageError('chain_unfinished', `${this.#index} elements left to hash`);
    return new HashChain(this.#length, this.#interval, this.#checkpoints, this.#sha256);
  }
}

/** Builds a chain in one go (tests, short chains). Adapters should step with yields. */
export function buildChain(seed: Uint8Array, length: number, sha256: Sha256, interval = CHAIN_CHECKPOINT_INTERVAL): HashChain {
  const b = new ChainBuilder(seed, length, sha256, interval);
  b.step(length);
  return b.finish();
}

export class HashChain {
  /** Segment cache: elements (top − interval, top] as computed from checkpoint `top`. */
  #segTop = -1;
  #seg: Uint8Array[] = [];

  constructor(
    readonly length: number,
    private readonly interval: number,
    private readonly checkpoints: ReadonlyMap<number, Uint8Array>,
    private readonly sha256: Sha256,
  ) {}

  get anchor(): Uint8Array {
    return this.checkpoints.get(0)!;
  }

  /** W_i for 0 ≤ i ≤ length. Costs at most one interval of hashes on a segment change. */
  element(i: number): Uint8Array {
    if (!Number.isSafeInteger(i) || i < 0 || i > this.length) {
      throw new ChannelUsageError('bad_index', `element ${i} outside 0..${this.length}`);
    }
    const cp = this.checkpoints.get(i);
    if (cp) return cp;
    const top = Math.min(this.length, Math.ceil(i / this.interval) * this.interval);
    if (top !== this.#segTop) this.#fillSegment(top);
    return this.#seg[top - i]!;
  }

  #fillSegment(top: number): void {
    const bottom = top - (top % this.interval === 0 ? this.interval : top % this.interval);
    const seg: Uint8Array[] = [this.checkpoints.get(top)!];
    for (let k = top - 1; k > bottom; k--) seg.push(this.sha256(seg[seg.length - 1]!));
    this.#seg = seg;
    this.#segTop = top;
  }
}

/** What the payee last verified: the highest index and its element. */
export interface KnownElement {
  readonly index: number;
  readonly element: Uint8Array;
}

/**
 * Payee: does `element` at `index` extend `known`? H^(index − known.index)(element)
 * must equal known.element. Refuses (typed) a gap past `maxGap` before hashing.
 * The caller handles index ≤ known.index (a duplicate) before calling.
 */
export function verifyReveal(
  sha256: Sha256,
  known: KnownElement,
  index: number,
  element: Uint8Array,
  maxGap = MAX_TICK_GAP,
): ChannelError | undefined {
  const gap = index - known.index;
  if (!Number.isSafeInteger(gap) || gap < 1) throw new ChannelUsageError('bad_gap', `verifyReveal with gap ${gap}`);
  if (gap > maxGap) return new ChannelError('tick_gap', `tick ${index} is ${gap} past ${known.index} (max ${maxGap})`);
  if (element.length !== 32) return new ChannelError('bad_preimage', `tick ${index}: element is ${element.length} bytes`);
  let h = element;
  for (let k = 0; k < gap; k++) h = sha256(h);
  return bytesEqual(h, known.element) ? undefined : new ChannelError('bad_preimage', `tick ${index} does not hash to element ${known.index}`);
}

export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let d = 0;
  for (let i = 0; i < a.length; i++) d |= a[i]! ^ b[i]!;
  return d === 0;
}
