// BIP340 tagged hashes: sha256(sha256(tag) || sha256(tag) || msg...). The tag prefix is
// cached per tag because the same few tags ("bitmesh/HELLO", "TapSighash") repeat.
import type { CryptoBackend } from './backend.js';

const textEncoder = new TextEncoder();

export class TaggedHasher {
  readonly #prefixes = new Map<string, Uint8Array>();
  constructor(private readonly backend: () => CryptoBackend) {}

  hash(tag: string, ...parts: Uint8Array[]): Uint8Array {
    let prefix = this.#prefixes.get(tag);
    if (!prefix) {
      const t = this.backend().sha256(textEncoder.encode(tag));
      prefix = new Uint8Array(64);
      prefix.set(t, 0);
      prefix.set(t, 32);
      if (this.#prefixes.size < 64) this.#prefixes.set(tag, prefix);
    }
    let len = 64;
    for (const p of parts) len += p.length;
    const buf = new Uint8Array(len);
    buf.set(prefix, 0);
    let off = 64;
    for (const p of parts) {
      buf.set(p, off);
      off += p.length;
    }
    return this.backend().sha256(buf);
  }
}
