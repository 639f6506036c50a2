// A Map with a size cap: reading or writing an entry makes it the most recent, and
// inserting past the cap evicts the least recent. Market tables key on gateway ids an
// attacker can mint for free, so none of them may grow without bound.
import { MarketOptionError } from './errors.js';

export class LruMap<K, V> {
  readonly #map = new Map<K, V>();
  #evictions = 0;

  constructor(readonly maxEntries: number) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) {
      throw new MarketOptionError(`maxEntries must be a positive integer, got ${maxEntries}`);
    }
  }

  get size(): number {
    return this.#map.size;
  }

  /** Entries dropped to respect the cap since construction. */
  get evictions(): number {
    return this.#evictions;
  }

  /** Reads and marks as most recently used. */
  get(key: K): V | undefined {
    const v = this.#map.get(key);
    if (v === undefined) return undefined;
    this.#map.delete(key);
    this.#map.set(key, v);
    return v;
  }

  /** Reads without changing the order. */
  peek(key: K): V | undefined {
    return this.#map.get(key);
  }

  has(key: K): boolean {
    return this.#map.has(key);
  }

  set(key: K, value: V): void {
    if (this.#map.has(key)) this.#map.delete(key);
    else {
      while (this.#map.size >= this.maxEntries) {
        const oldest = this.#map.keys().next();
        if (oldest.done) break;
        this.#map.delete(oldest.value);
        this.#evictions++;
      }
    }
    this.#map.set(key, value);
  }

  delete(key: K): boolean {
    return this.#map.delete(key);
  }

  /** Least recently used first. */
  entries(): IterableIterator<[K, V]> {
    return this.#map.entries();
  }
}
