// Freshness for signed messages: a ±skew timestamp window plus a bounded cache of
// (sender, nonce) seen inside it.
//
// The cache holds at most `capacity` entries. When it must evict, it raises a floor:
// any message stamped at or before the newest evicted timestamp is refused, because
// the cache can no longer vouch that it is not a replay. So a full cache costs at
// worst a few refused fresh messages, never an accepted replay, and memory stays
// fixed whatever an attacker sends.
import { WireError } from './errors.js';

export interface ReplayGuardOptions {
  readonly capacity: number;
  readonly skewMs: number;
}

export class ReplayGuard {
  // Insertion-ordered; value = timestamp. Ordered by arrival, not by ts, so eviction
  // drops the oldest arrival and the floor takes the max ts ever evicted.
  readonly #seen = new Map<string, number>();
  #floorTs = -1;
  constructor(private readonly opts: ReplayGuardOptions) {}

  get size(): number {
    return this.#seen.size;
  }

  /** Refusal reason, or undefined if the message is fresh. Does not record it. */
  check(sender: Uint8Array, nonce: Uint8Array, ts: number, now: number): WireError | undefined {
    if (Math.abs(ts - now) > this.opts.skewMs) {
      return new WireError('stale_timestamp', `timestamp ${ts} is ${ts - now} ms from now`);
    }
    if (ts <= this.#floorTs) return new WireError('replay', 'older than the replay window can vouch for');
    if (this.#seen.has(key(sender, nonce))) return new WireError('replay', 'nonce already seen');
    return undefined;
  }

  /** Records a message whose signature has been verified. Call after check(). */
  record(sender: Uint8Array, nonce: Uint8Array, ts: number, now: number): void {
    this.#expire(now);
    while (this.#seen.size >= this.opts.capacity) {
      const first = this.#seen.entries().next().value as [string, number];
      this.#seen.delete(first[0]);
      if (first[1] > this.#floorTs) this.#floorTs = first[1];
    }
    this.#seen.set(key(sender, nonce), ts);
  }

  // Entries older than the window need no memory: the timestamp check refuses them.
  #expire(now: number): void {
    const horizon = now - this.opts.skewMs;
    for (const [k, ts] of this.#seen) {
      if (ts >= horizon) break; // arrival order roughly follows ts; stop at the first fresh one
      this.#seen.delete(k);
    }
  }
}

// One char per byte (not hex): a third of the time per message, and the same key for
// the same (sender, nonce) bytes.
function key(sender: Uint8Array, nonce: Uint8Array): string {
  return String.fromCharCode(...sender, ...nonce);
}
