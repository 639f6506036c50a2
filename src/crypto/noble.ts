// The always-present backend: audited pure-JS @noble libraries, except that plain
// SHA-256 goes to Node's own (OpenSSL, with the CPU's SHA extensions where it has
// them) when this Node has the one-shot `crypto.hash` (20.12+): a payer's 50,000-tick
// hash chain is built while its first auction runs, and it was a third of a second of
// the time to first paid traffic.
import { hash as nodeHash } from 'node:crypto';
import * as secp from '@noble/secp256k1';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import type { CryptoBackend } from './backend.js';

// @noble/secp256k1 v3 ships without hash functions for its sync API; wire them once.
secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key: Uint8Array, msg: Uint8Array) => hmac(sha256, key, msg);

const sha256Fast: (data: Uint8Array) => Uint8Array =
  typeof nodeHash === 'function'
    ? (data) => {
        const b = nodeHash('sha256', data, 'buffer');
        return new Uint8Array(b.buffer, b.byteOffset, b.length); // a plain view: slice() copies
      }
    : (data) => sha256(data);

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  sha256: sha256Fast,
  schnorrPublicKey: (sk) => secp.schnorr.getPublicKey(sk),
  schnorrSign: (msg, sk, aux) => secp.schnorr.sign(msg, sk, aux),
  schnorrVerify: (sig, msg, pub) => {
    try {
      return secp.schnorr.verify(sig, msg, pub);
    } catch {
      return false; // malformed key or signature: just invalid
    }
  },
  ecdsaSign: (digest, sk) => secp.sign(digest, sk, { prehash: false, lowS: true }),
  ecdsaVerify: (sig, digest, pub) => {
    try {
      return secp.verify(sig, digest, pub, { prehash: false, lowS: true });
    } catch {
      return false;
    }
  },
};
