// Chooses between the native helper and noble at start (DESIGN.md §8): find the helper,
// run published vectors through it, time it against noble on a batch of Schnorr
// verifies, and keep it only if it got every vector right AND is faster. The reason is
// kept for `bitmesh status`. AsyncCrypto then serves calls from the chosen backend and
// drops to noble for good, retrying the call, the moment the helper dies.
import { accessSync, constants as fsConstants, statSync } from 'node:fs';
import { delimiter, join } from 'node:path';
import { hexToBytes, bytesToHex } from '@noble/hashes/utils.js';
import {
  type AsyncCryptoBackend,
  type HashChainResult,
  type SchnorrVerifyItem,
  nobleAsyncBackend,
} from './helper-async-backend.js';
import { HelperClient, type HelperClientOptions } from './helper-client.js';
import { HelperUnavailableError } from './helper-errors.js';
import { BIP340_VECTORS, SHA256_VECTORS } from './helper-vectors.js';
import { nobleBackend } from './noble.js';

export const HELPER_BINARY = 'bitmesh-helper';
const DEFAULT_BENCH_ITEMS = 16;

export interface SelectOptions {
  /** Configured helper path (UCI `helper_path`); when set, PATH is not searched. */
  readonly helperPath?: string;
  /** PATH-style directory list to search; default process.env.PATH. */
  readonly searchPath?: string;
  /** Schnorr verifies in the speed comparison (default 16: noble is slow on routers). */
  readonly benchItems?: number;
  readonly clientOptions?: HelperClientOptions;
  /** Monotonic milliseconds, for the timing (default performance.now). */
  readonly now?: () => number;
}

export interface BackendSelection {
  readonly backend: 'helper' | 'noble';
  readonly reason: string;
  /** Running client when the helper was chosen; the caller owns it (close() it). */
  readonly helper?: HelperClient;
}

export function findHelper(options: Pick<SelectOptions, 'helperPath' | 'searchPath'>): string | { missing: string } {
  if (options.helperPath !== undefined) {
    const path = options.helperPath;
    return isExecutable(path) ? path : { missing: `helper not found at ${path}` };
  }
  const searchPath = options.searchPath ?? process.env.PATH ?? '';
  for (const dir of searchPath.split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, HELPER_BINARY);
    if (isExecutable(candidate)) return candidate;
  }
  return { missing: `helper not found at ${HELPER_BINARY} in PATH (${searchPath})` };
}

function isExecutable(path: string): boolean {
  try {
    accessSync(path, fsConstants.X_OK);
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

export async function selectCryptoBackend(options: SelectOptions = {}): Promise<BackendSelection> {
  const found = findHelper(options);
  if (typeof found !== 'string') return { backend: 'noble', reason: found.missing };
  const helper = HelperClient.spawn(found, options.clientOptions);
  try {
    await helper.info();
    const failure = await runHelperSelfTest(helper);
    if (failure !== null) {
      await helper.close();
      return { backend: 'noble', reason: `helper ${found} failed ${failure}` };
    }
    const now = options.now ?? (() => performance.now());
    const count = options.benchItems ?? DEFAULT_BENCH_ITEMS;
    const { helperMs, nobleMs } = await timeSchnorrVerify(helper, count, now);
    const figures = `${count} schnorr verifies: helper ${helperMs.toFixed(2)} ms vs noble ${nobleMs.toFixed(2)} ms`;
    if (!(helperMs < nobleMs)) {
      await helper.close();
      return { backend: 'noble', reason: `helper slower: ${figures}` };
    }
    return { backend: 'helper', reason: `helper ${found} passed ${vectorCount()} vectors; ${figures}`, helper };
  } catch (err) {
    await helper.close();
    return { backend: 'noble', reason: `helper ${found} unusable: ${(err as Error).message}` };
  }
}

function vectorCount(): number {
  return BIP340_VECTORS.length + SHA256_VECTORS.length;
}

/**
 * Runs every embedded vector through the backend in one go (one BATCH for the helper).
 * Returns null when all agree, else which vector failed, e.g. "vector 3 (BIP340 #3 sign)".
 */
export async function runHelperSelfTest(backend: AsyncCryptoBackend): Promise<string | null> {
  const checks: Promise<string | null>[] = [];
  let n = 0;
  const check = (what: string, answer: Promise<boolean>): void => {
    const number = n++;
    checks.push(answer.then(
      (ok) => (ok ? null : `vector ${number} (${what})`),
      (err: unknown) => `vector ${number} (${what}: ${(err as Error).message})`,
    ));
  };
  for (const v of BIP340_VECTORS) {
    const pub = hexToBytes(v.publicKey);
    const msg = hexToBytes(v.message);
    const sig = hexToBytes(v.signature);
    if (v.secretKey !== '') {
      const sk = hexToBytes(v.secretKey);
      check(`BIP340 #${v.index} pubkey`, backend.schnorrPublicKey(sk).then((p) => bytesToHex(p) === v.publicKey));
      check(
        `BIP340 #${v.index} sign`,
        backend.schnorrSign(msg, sk, hexToBytes(v.auxRand)).then((s) => bytesToHex(s) === v.signature),
      );
    }
    check(`BIP340 #${v.index} verify`, backend.schnorrVerify(sig, msg, pub).then((ok) => ok === v.valid));
  }
  const enc = new TextEncoder();
  for (const v of SHA256_VECTORS) {
    const data = enc.encode(v.messageAscii.repeat(v.repeat));
    check(`SHA-256 ${v.name}`, backend.sha256(data).then((h) => bytesToHex(h) === v.sha256));
  }
  for (const failure of await Promise.all(checks)) if (failure !== null) return failure;
  return null;
}

async function timeSchnorrVerify(
  helper: HelperClient,
  count: number,
  now: () => number,
): Promise<{ helperMs: number; nobleMs: number }> {
  const valid = BIP340_VECTORS.filter((v) => v.valid && v.message.length === 64);
  const items: SchnorrVerifyItem[] = [];
  for (let i = 0; i < count; i++) {
    const v = valid[i % valid.length]!;
    items.push({ sig: hexToBytes(v.signature), msg: hexToBytes(v.message), publicKeyX: hexToBytes(v.publicKey) });
  }
  // Warm both, so neither pays a first-call cost (pipe, JIT, noble's tables) in the timing.
  await helper.schnorrVerifyBatch(items.slice(0, 4));
  for (const it of items.slice(0, 2)) nobleBackend.schnorrVerify(it.sig, it.msg, it.publicKeyX);
  let t = now();
  const helperOk = await helper.schnorrVerifyBatch(items);
  const helperMs = now() - t;
  t = now();
  for (const it of items) nobleBackend.schnorrVerify(it.sig, it.msg, it.publicKeyX);
  const nobleMs = now() - t;
  if (!helperOk.every((ok) => ok)) throw new Error('helper rejected a valid signature while being timed');
  return { helperMs, nobleMs };
}

export interface AsyncCryptoOptions {
  /** Told once, when the helper dies and calls move to noble (for logs and `bitmesh status`). */
  readonly onFallback?: (reason: string) => void;
}

/** The async hot-path facade: the selected backend, with a one-way fall back to noble. */
export class AsyncCrypto implements AsyncCryptoBackend {
  #backend: AsyncCryptoBackend;
  #reason: string;
  readonly #onFallback: ((reason: string) => void) | undefined;
  readonly #helper: HelperClient | undefined;

  constructor(selection: BackendSelection, options: AsyncCryptoOptions = {}) {
    this.#onFallback = options.onFallback;
    this.#reason = selection.reason;
    const helper = selection.backend === 'helper' ? selection.helper : undefined;
    this.#helper = helper;
    this.#backend = helper && helper.state === 'running' ? helper : nobleAsyncBackend;
    if (helper) helper.once('dead', (reason) => this.#fallBack(`helper died: ${reason}`));
  }

  get name(): string {
    return this.#backend.name;
  }

  /** Process id of the helper while it serves calls; null on noble (for `bitmesh status`). */
  get helperPid(): number | null {
    return this.#backend === this.#helper ? (this.#helper?.pid ?? null) : null;
  }

  /** Stops the helper, if one was selected (agent shutdown). */
  async close(): Promise<void> {
    if (this.#backend === this.#helper) {
      // Not a death: no fallback notice for a helper we stop ourselves.
      this.#backend = nobleAsyncBackend;
      this.#reason = 'helper stopped with the agent';
    }
    await this.#helper?.close();
  }

  get choice(): { readonly name: string; readonly reason: string } {
    return { name: this.#backend.name, reason: this.#reason };
  }

  sha256(data: Uint8Array): Promise<Uint8Array> {
    return this.#run((b) => b.sha256(data));
  }
  schnorrPublicKey(sk: Uint8Array): Promise<Uint8Array> {
    return this.#run((b) => b.schnorrPublicKey(sk));
  }
  schnorrSign(msg: Uint8Array, sk: Uint8Array, aux: Uint8Array): Promise<Uint8Array> {
    return this.#run((b) => b.schnorrSign(msg, sk, aux));
  }
  schnorrVerify(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): Promise<boolean> {
    return this.#run((b) => b.schnorrVerify(sig, msg, pub));
  }
  schnorrVerifyBatch(items: readonly SchnorrVerifyItem[]): Promise<boolean[]> {
    return this.#run((b) => b.schnorrVerifyBatch(items));
  }
  ecdsaSign(digest: Uint8Array, sk: Uint8Array): Promise<Uint8Array> {
    return this.#run((b) => b.ecdsaSign(digest, sk));
  }
  ecdsaVerify(sig: Uint8Array, digest: Uint8Array, pub: Uint8Array): Promise<boolean> {
    return this.#run((b) => b.ecdsaVerify(sig, digest, pub));
  }
  hashChain(seed: Uint8Array, length: number, checkpointEvery: number): Promise<HashChainResult> {
    return this.#run((b) => b.hashChain(seed, length, checkpointEvery));
  }
  verifyChainStep(anchor: Uint8Array, element: Uint8Array, maxDistance: number): Promise<number | null> {
    return this.#run((b) => b.verifyChainStep(anchor, element, maxDistance));
  }

  async #run<T>(fn: (b: AsyncCryptoBackend) => Promise<T>): Promise<T> {
    const backend = this.#backend;
    try {
      return await fn(backend);
    } catch (err) {
      if (backend === nobleAsyncBackend || !(err instanceof HelperUnavailableError)) throw err;
      this.#fallBack(`helper died: ${err.message}`);
      return fn(nobleAsyncBackend);
    }
  }

  #fallBack(reason: string): void {
    if (this.#backend === nobleAsyncBackend) return;
    this.#backend = nobleAsyncBackend;
    this.#reason = reason;
    this.#onFallback?.(reason);
  }
}
