// A spare PayWord hash chain, built ahead, so that opening a payer channel does not
// wait for tens of thousands of hashes (a 50,000-tick chain is 0.3–0.7 s of CPU here,
// seconds on a router) — on a client's first award and, above all, on a failover.
//
// The spare is built in the background as soon as its length is known and again after
// each take. A chain of length N serves any channel that needs at least N ticks: the
// channel's capacity is then cut to what N ticks pay (ChannelManager.open), as it is
// when a chain is capped at its maximum length. A seed is used for one channel only:
// take() hands the spare over and forgets it.
import type { HashChain } from '../core/channel/hash-chain.js';

export interface ReservedChain {
  readonly seed: Uint8Array;
  readonly length: number;
  readonly chain: HashChain;
}

interface Spare {
  readonly seed: Uint8Array;
  readonly length: number;
  readonly ready: Promise<HashChain | undefined>;
}

export class HashChainReserve {
  readonly #build: (seed: Uint8Array, length: number) => Promise<HashChain>;
  readonly #random: (n: number) => Uint8Array;
  #spare: Spare | undefined;
  #stopped = false;
  /** Spares handed out and spares built, for status and tests. */
  readonly stats = { taken: 0, built: 0 };

  constructor(build: (seed: Uint8Array, length: number) => Promise<HashChain>, random: (n: number) => Uint8Array) {
    this.#build = build;
    this.#random = random;
  }

  /** Length of the spare kept (ready or building), if any. */
  get spareLength(): number | undefined {
    return this.#spare?.length;
  }

  /** Keeps a spare of `length` ticks from now on (a spare of another length is replaced). */
  prepare(length: number): void {
    if (this.#stopped || !Number.isSafeInteger(length) || length < 1 || this.#spare?.length === length) return;
    const seed = this.#random(32);
    const ready = this.#build(seed, length).then(
      (chain) => {
        this.stats.built++;
        return chain;
      },
      () => undefined,
    );
    this.#spare = { seed, length, ready };
  }

  /**
   * The spare, if it has at most `maxLength` ticks (waiting for it if it is still being
   * built), and a new one of the same length is started; otherwise undefined.
   */
  async take(maxLength: number): Promise<ReservedChain | undefined> {
    const s = this.#spare;
    if (!s || s.length > maxLength) return undefined;
    this.#spare = undefined;
    this.prepare(s.length);
    const chain = await s.ready;
    if (!chain) return undefined;
    this.stats.taken++;
    return { seed: s.seed, length: s.length, chain };
  }

  /** No more spares are started. */
  stop(): void {
    this.#stopped = true;
    this.#spare = undefined;
  }
}
