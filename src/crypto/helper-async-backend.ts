// The asynchronous crypto surface that both the native helper (a pipe, so async) and
// noble (sync, wrapped) offer. Hot paths that can wait — batches of signature checks,
// hash-chain generation — use this; everything else stays on the sync CryptoBackend.
//
// PayWord chains (DESIGN.md §6): W_n = seed, W_i = sha256(W_{i+1}); the payer commits
// to the anchor W_0 and reveals W_1, W_2, ... Checkpoints are W_k, W_2k, ... so any W_i
// can be recomputed from the next checkpoint at or above i with < k hashes.
import { nobleBackend } from './noble.js';
import { HelperArgumentError } from './helper-errors.js';
import { MAX_CHAIN_DISTANCE, MAX_CHAIN_LENGTH, MAX_CHECKPOINTS, checkpointCount } from './helper-protocol.js';

export interface HashChainResult {
  /** W_0, the anchor the payer commits to. */
  readonly anchor: Uint8Array;
  /** Checkpoints in ascending index order: index k*j holds W_{k*j}, j = 1..floor(n/k). */
  readonly checkpoints: readonly { readonly index: number; readonly value: Uint8Array }[];
}

export interface SchnorrVerifyItem {
  readonly sig: Uint8Array;
  readonly msg: Uint8Array;
  readonly publicKeyX: Uint8Array;
}

export interface AsyncCryptoBackend {
  readonly name: string;
  sha256(data: Uint8Array): Promise<Uint8Array>;
  schnorrPublicKey(secretKey: Uint8Array): Promise<Uint8Array>;
  schnorrSign(msg: Uint8Array, secretKey: Uint8Array, aux: Uint8Array): Promise<Uint8Array>;
  schnorrVerify(sig: Uint8Array, msg: Uint8Array, publicKeyX: Uint8Array): Promise<boolean>;
  schnorrVerifyBatch(items: readonly SchnorrVerifyItem[]): Promise<boolean[]>;
  ecdsaSign(digest: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array>;
  ecdsaVerify(sig: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): Promise<boolean>;
  hashChain(seed: Uint8Array, length: number, checkpointEvery: number): Promise<HashChainResult>;
  /** Distance d in 1..maxDistance with sha256^d(element) = anchor, or null. */
  verifyChainStep(anchor: Uint8Array, element: Uint8Array, maxDistance: number): Promise<number | null>;
}

export function checkBytes(name: string, value: Uint8Array, length: number): void {
  if (!(value instanceof Uint8Array) || value.length !== length) {
    const got = value instanceof Uint8Array ? `length=${value.length}` : typeof value;
    throw new HelperArgumentError(`"${name}" expected Uint8Array of length ${length}, got ${got}`);
  }
}

export function checkChainParams(length: number, checkpointEvery: number): void {
  if (!Number.isInteger(length) || length < 0 || length > MAX_CHAIN_LENGTH) {
    throw new HelperArgumentError(`"length" expected integer 0..${MAX_CHAIN_LENGTH}, got ${length}`);
  }
  if (!Number.isInteger(checkpointEvery) || checkpointEvery < 0 || checkpointEvery > 0xffffffff) {
    throw new HelperArgumentError(`"checkpointEvery" expected integer >= 0, got ${checkpointEvery}`);
  }
  if (checkpointCount(length, checkpointEvery) > MAX_CHECKPOINTS) {
    throw new HelperArgumentError(`at most ${MAX_CHECKPOINTS} checkpoints: raise "checkpointEvery"`);
  }
}

export function checkMaxDistance(maxDistance: number): void {
  if (!Number.isInteger(maxDistance) || maxDistance < 1 || maxDistance > MAX_CHAIN_DISTANCE) {
    throw new HelperArgumentError(`"maxDistance" expected integer 1..${MAX_CHAIN_DISTANCE}, got ${maxDistance}`);
  }
}

/** Reference chain generation in JS (the fallback, and the differential tests' oracle). */
export function hashChainSync(seed: Uint8Array, length: number, checkpointEvery: number): HashChainResult {
  checkBytes('seed', seed, 32);
  checkChainParams(length, checkpointEvery);
  const count = checkpointCount(length, checkpointEvery);
  const checkpoints: { index: number; value: Uint8Array }[] = new Array(count);
  let cur = seed;
  for (let i = length; i > 0; i--) {
    if (checkpointEvery !== 0 && i % checkpointEvery === 0) {
      checkpoints[i / checkpointEvery - 1] = { index: i, value: cur };
    }
    cur = nobleBackend.sha256(cur);
  }
  return { anchor: cur === seed ? seed.slice() : cur, checkpoints };
}

export function verifyChainStepSync(anchor: Uint8Array, element: Uint8Array, maxDistance: number): number | null {
  checkBytes('anchor', anchor, 32);
  checkBytes('element', element, 32);
  checkMaxDistance(maxDistance);
  let cur = element;
  for (let d = 1; d <= maxDistance; d++) {
    cur = nobleBackend.sha256(cur);
    if (equalBytes(cur, anchor)) return d;
  }
  return null;
}

function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** noble behind the async surface: always available, the fallback when the helper is not. */
export const nobleAsyncBackend: AsyncCryptoBackend = {
  name: 'noble',
  sha256: async (data) => nobleBackend.sha256(data),
  schnorrPublicKey: async (sk) => nobleBackend.schnorrPublicKey(sk),
  schnorrSign: async (msg, sk, aux) => nobleBackend.schnorrSign(msg, sk, aux),
  schnorrVerify: async (sig, msg, pub) => nobleBackend.schnorrVerify(sig, msg, pub),
  schnorrVerifyBatch: async (items) => items.map((it) => nobleBackend.schnorrVerify(it.sig, it.msg, it.publicKeyX)),
  ecdsaSign: async (digest, sk) => nobleBackend.ecdsaSign(digest, sk),
  ecdsaVerify: async (sig, digest, pub) => nobleBackend.ecdsaVerify(sig, digest, pub),
  hashChain: async (seed, length, every) => hashChainSync(seed, length, every),
  verifyChainStep: async (anchor, element, maxDistance) => verifyChainStepSync(anchor, element, maxDistance),
};
