// The always-present backend: audited pure-JS @noble libraries.
import * as secp from '@noble/secp256k1';
import { sha256 } from '@noble/hashes/sha2.js';
import { hmac } from '@noble/hashes/hmac.js';
import type { CryptoBackend } from './backend.js';

// @noble/secp256k1 v3 ships without hash functions for its sync API; wire them once.
secp.hashes.sha256 = sha256;
secp.hashes.hmacSha256 = (key: Uint8Array, msg: Uint8Array) => hmac(sha256, key, msg);

export const nobleBackend: CryptoBackend = {
  name: 'noble',
  sha256: (data) => sha256(data),
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
