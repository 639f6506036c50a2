// Durable, rate-bounded persistence of channel snapshots (DESIGN.md §6: atomically and
// at a bounded rate, because router flash wears out).
//
// One JSON file per key in the state dir. A write is: temp file, fsync, rename over
// the old file, fsync the directory — so a power cut leaves the old or the new
// snapshot, never a torn one. Writes for one key are paced by a token bucket: one
// write per `minIntervalMs` on average, with a burst of WRITE_BURST, so that the first
// few writes of a new channel (its opening, its funding, its first tick and grant
// ceilings — each of which something waits on) go out at once instead of one interval
// apart; snapshots arriving while the bucket is empty coalesce (the newest wins). A key
// read back from flash (a channel restored after a restart) starts with one token, not
// a burst: a process that crashes and restarts in a loop writes each key at most once
// per life plus once per interval, as without the burst. When
// a snapshot is on flash the store calls onPersisted(key, version): the channel
// machines only rely on state after that (the `persisted` input).
import { readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './atomic-file.js';
import { LocalError, RemoteError } from '../core/errors.js';

export interface StateStoreOptions {
  readonly dir: string;
  readonly minIntervalMs: number;
  readonly onPersisted?: (key: string, version: number) => void;
  readonly onError?: (key: string, error: Error) => void;
  /** Injected for tests; Date.now by default. */
  readonly clock?: () => number;
}

const KEY = /^[a-z0-9][a-z0-9._-]{0,119}$/;
/** Writes of one key that may follow each other without waiting (then one per interval). */
export const WRITE_BURST = 3;

interface Pending {
  readonly version: number;
  readonly json: string;
}

export class StateStore {
  readonly #opts: StateStoreOptions;
  readonly #clock: () => number;
  readonly #pending = new Map<string, Pending>();
  /** Per key: write tokens left (≤ WRITE_BURST) as of `at`; one comes back per minIntervalMs. */
  readonly #tokens = new Map<string, { tokens: number; at: number }>();
  readonly #timers = new Map<string, NodeJS.Timeout>();
  readonly #inflight = new Map<string, Promise<void>>();
  #writes = 0;
  #closed = false;

  constructor(opts: StateStoreOptions) {
    this.#opts = opts;
    this.#clock = opts.clock ?? Date.now;
  }

  /** Completed writes since start (a test asserts the write rate with it). */
  get writeCount(): number {
    return this.#writes;
  }

  fileFor(key: string): string {
    if (!KEY.test(key)) throw new LocalError('bad_state_key', `state key ${JSON.stringify(key)} is not a safe file name`);
    return path.join(this.#opts.dir, `${key}.json`);
  }

  /** Queues a snapshot; it is written within minIntervalMs of the key's previous write. */
  write(key: string, version: number, snapshot: unknown): void {
    if (this.#closed) throw new LocalError('store_closed', 'write after close');
    this.fileFor(key);
    this.#pending.set(key, { version, json: JSON.stringify(snapshot) });
    this.#schedule(key);
  }

  async read(key: string): Promise<unknown> {
    const file = this.fileFor(key);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    // Restored, not new: its first write goes at once, its burst builds up only with time.
    if (!this.#tokens.has(key)) this.#tokens.set(key, { tokens: 1, at: this.#clock() });
    try {
      return JSON.parse(text) as unknown;
    } catch {
      throw new RemoteError('bad_state_file', `${file}: not JSON`);
    }
  }

  /** Deletes the key's file and everything the store keeps for it (its pace included). */
  async remove(key: string): Promise<void> {
    const file = this.fileFor(key);
    clearTimeout(this.#timers.get(key));
    this.#timers.delete(key);
    this.#pending.delete(key);
    await this.#inflight.get(key);
    this.#pending.delete(key);
    this.#tokens.delete(key);
    await rm(file, { force: true });
  }

  /** Writes everything pending now, ignoring the interval (shutdown). */
  async flush(): Promise<void> {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    await Promise.all([...this.#inflight.values()]);
    await Promise.all([...this.#pending.keys()].map((k) => this.#writeNow(k)));
  }

  async close(): Promise<void> {
    await this.flush();
    this.#closed = true;
  }

  /** Tokens of `key` now. */
  #available(key: string, now: number): number {
    const b = this.#tokens.get(key);
    if (!b) return WRITE_BURST;
    const interval = this.#opts.minIntervalMs;
    return interval <= 0 ? WRITE_BURST : Math.min(WRITE_BURST, b.tokens + Math.max(0, now - b.at) / interval);
  }

  #schedule(key: string): void {
    if (this.#timers.has(key) || this.#inflight.has(key)) return;
    const tokens = this.#available(key, this.#clock());
    const delay = tokens >= 1 ? 0 : Math.ceil((1 - tokens) * this.#opts.minIntervalMs);
    this.#timers.set(
      key,
      setTimeout(() => {
        this.#timers.delete(key);
        void this.#writeNow(key);
      }, delay),
    );
  }

  #writeNow(key: string): Promise<void> {
    const p = this.#pending.get(key);
    if (!p) return Promise.resolve();
    this.#pending.delete(key);
    const now = this.#clock();
    this.#tokens.set(key, { tokens: Math.max(0, this.#available(key, now) - 1), at: now });
    const run = writeFileAtomic(this.fileFor(key), p.json)
      .then(
        () => {
          this.#writes++;
          this.#opts.onPersisted?.(key, p.version);
        },
        (e: unknown) => {
          // Keep the snapshot for the next attempt unless a newer one arrived.
          if (!this.#pending.has(key)) this.#pending.set(key, p);
          this.#opts.onError?.(key, e instanceof Error ? e : new Error(String(e)));
        },
      )
      .finally(() => {
        this.#inflight.delete(key);
        if (this.#pending.has(key) && !this.#closed) this.#schedule(key);
      });
    this.#inflight.set(key, run);
    return run;
  }


}
