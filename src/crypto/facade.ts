// The project's single entry point for hashing and signing. Holds the backend in
// use (noble by default; the native helper when it proved correct and faster) and
// the reason it was chosen, for `bitmesh status`.
import type { CryptoBackend } from './backend.js';
import { nobleBackend } from './noble.js';
import { TaggedHasher } from './tagged-hash.js';

export interface BackendChoice {
  readonly name: string;
  readonly reason: string;
}

export class Crypto {
  #backend: CryptoBackend;
  #reason: string;
  readonly tagged: TaggedHasher;

  constructor(backend: CryptoBackend = nobleBackend, reason = 'default backend') {
    this.#backend = backend;
    this.#reason = reason;
    this.tagged = new TaggedHasher(() => this.#backend);
  }

  get backend(): CryptoBackend {
    return this.#backend;
  }

  get choice(): BackendChoice {
    return { name: this.#backend.name, reason: this.#reason };
  }

  /** Switch backends (helper accepted, or helper died and we fall back). */
  use(backend: CryptoBackend, reason: string): void {
    this.#backend = backend;
    this.#reason = reason;
  }

  sha256(data: Uint8Array): Uint8Array {
    return this.#backend.sha256(data);
  }
  taggedHash(tag: string, ...parts: Uint8Array[]): Uint8Array {
    return this.tagged.hash(tag, ...parts);
  }
  schnorrPublicKey(sk: Uint8Array): Uint8Array {
    return this.#backend.schnorrPublicKey(sk);
  }
  schnorrSign(msg: Uint8Array, sk: Uint8Array, aux: Uint8Array): Uint8Array {
    return this.#backend.schnorrSign(msg, sk, aux);
  }
  schnorrVerify(sig: Uint8Array, msg: Uint8Array, pub: Uint8Array): boolean {
    return this.#backend.schnorrVerify(sig, msg, pub);
  }
  ecdsaSign(digest: Uint8Array, sk: Uint8Array): Uint8Array {
    return this.#backend.ecdsaSign(digest, sk);
  }
  ecdsaVerify(sig: Uint8Array, digest: Uint8Array, pub: Uint8Array): boolean {
    return this.#backend.ecdsaVerify(sig, digest, pub);
  }
}
