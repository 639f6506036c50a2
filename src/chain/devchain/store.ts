// Persistence of the devchain: one JSON snapshot in the state dir, replaced atomically
// (write a temp file, fsync, rename, fsync the dir) so a crash leaves the old or the new
// state, never half of one. Writes are coalesced to at most one per `minIntervalMs`
// because the chain may change many times a second and flash storage wears out.
import { mkdirSync, readFileSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { RemoteError } from '../../core/errors.js';
import type { ChainSnapshot } from './chain-state.js';
import { STORE_MIN_INTERVAL_MS } from './constants.js';

export const STATE_FILE = 'devchain.json';

const HEX64 = /^[0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-f]{2})+$/;

function corrupt(why: string): never {
  throw new RemoteError('devchain_state_corrupt', `devchain state file: ${why}`);
}

function hexList(v: unknown, what: string): string[] {
  if (!Array.isArray(v) || !v.every((x) => typeof x === 'string' && HEX.test(x))) corrupt(`${what}: expected a list of hex strings`);
  return v as string[];
}

/** Strictly checks the shape of a parsed state file. */
export function decodeSnapshot(v: unknown): ChainSnapshot {
  if (typeof v !== 'object' || v === null) return corrupt('not an object');
  const o = v as Record<string, unknown>;
  if (o.format !== 'bitmesh-devchain/1') corrupt(`unknown format ${JSON.stringify(o.format)}`);
  if (typeof o.faucetSecretKey !== 'string' || !HEX64.test(o.faucetSecretKey)) corrupt('faucetSecretKey');
  if (!Array.isArray(o.blocks) || o.blocks.length === 0) corrupt('blocks: expected a non-empty list');
  const blocks = o.blocks.map((b: unknown, i) => {
    if (typeof b !== 'object' || b === null) return corrupt(`blocks[${i}]`);
    const r = b as Record<string, unknown>;
    if (typeof r.hash !== 'string' || !HEX64.test(r.hash)) corrupt(`blocks[${i}].hash`);
    if (typeof r.time !== 'number' || !Number.isSafeInteger(r.time) || r.time < 0 || r.time > 0xffffffff) corrupt(`blocks[${i}].time`);
    const txs = hexList(r.txs, `blocks[${i}].txs`);
    if (txs.length === 0) corrupt(`blocks[${i}].txs: no coinbase`);
    return { hash: r.hash as string, time: r.time as number, txs };
  });
  return { format: 'bitmesh-devchain/1', faucetSecretKey: o.faucetSecretKey as string, blocks, mempool: hexList(o.mempool, 'mempool') };
}

export interface DevchainStoreOptions {
  readonly minIntervalMs?: number;
  /** Reports a failed background write (the next change retries it). */
  readonly onError?: (e: unknown) => void;
}

export class DevchainStore {
  readonly path: string;
  readonly #dir: string;
  readonly #snapshot: () => ChainSnapshot;
  readonly #minIntervalMs: number;
  readonly #onError: (e: unknown) => void;
  #lastWrite = 0;
  #timer: NodeJS.Timeout | undefined;
  #writing: Promise<void> = Promise.resolve();
  #dirty = false;

  constructor(dir: string, snapshot: () => ChainSnapshot, opts: DevchainStoreOptions = {}) {
    this.#dir = dir;
    this.path = join(dir, STATE_FILE);
    this.#snapshot = snapshot;
    this.#minIntervalMs = opts.minIntervalMs ?? STORE_MIN_INTERVAL_MS;
    this.#onError = opts.onError ?? (() => undefined);
  }

  /** The saved snapshot, or undefined when there is none yet. Throws on a corrupt file. */
  static load(dir: string): ChainSnapshot | undefined {
    let text: string;
    try {
      text = readFileSync(join(dir, STATE_FILE), 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    let v: unknown;
    try {
      v = JSON.parse(text);
    } catch {
      return corrupt('not JSON');
    }
    return decodeSnapshot(v);
  }

  /** The chain changed: save it soon, but not sooner than the rate limit allows. */
  changed(now: number = Date.now()): void {
    this.#dirty = true;
    if (this.#timer) return;
    const wait = Math.max(0, this.#lastWrite + this.#minIntervalMs - now);
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.flush().catch(this.#onError);
    }, wait);
  }

  /** Writes now if anything changed since the last write; resolves when it is on disk. */
  async flush(): Promise<void> {
    if (this.#timer) {
      clearTimeout(this.#timer);
      this.#timer = undefined;
    }
    const run = async (): Promise<void> => {
      if (!this.#dirty) return;
      this.#dirty = false;
      this.#lastWrite = Date.now();
      try {
        await this.#writeAtomically(JSON.stringify(this.#snapshot()));
      } catch (e) {
        this.#dirty = true;
        throw e;
      }
    };
    // Serialise writes so two flushes never race on the temp file.
    this.#writing = this.#writing.then(run, run);
    return this.#writing;
  }

  async #writeAtomically(text: string): Promise<void> {
    mkdirSync(this.#dir, { recursive: true });
    const tmp = `${this.path}.tmp`;
    const fh = await open(tmp, 'w', 0o600);
    try {
      await fh.writeFile(text, 'utf8');
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(tmp, this.path);
    const dh = await open(this.#dir, 'r');
    try {
      await dh.sync();
    } finally {
      await dh.close();
    }
  }
}
