// SIMULATION ONLY — a deterministic stand-in for BIP340 so 10,000 nodes fit in memory
// and time. It is NOT a signature scheme: anyone who knows the public key can "sign",
// and the secret key is the public key in disguise. The agent never uses it
// (select-backend.ts knows only noble and the helper); it exists so that every
// simulated message still goes through the real codec, `authenticate` (whose digest
// is a real tagged SHA-256 of the body), the time window and the replay guard, with a
// signature that is checked (a bit flip in the body or a wrong sender still fails),
// at the cost of two XORs instead of elliptic-curve arithmetic:
//   publicKey(sk) = sk ⊕ MASK,  MASK = sha256("bitmesh-sim/pub")
//   sign(msg, sk) = x ‖ x  with  x = msg ⊕ publicKey(sk)   (msg: the 32-byte digest)
import { hash } from 'node:crypto';
import type { CryptoBackend } from '../crypto/backend.js';

// One-shot hashing: a Hash object per call cost more than the hashing itself.
function sha256(data: Uint8Array): Uint8Array {
  const b = hash('sha256', data, 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

const MASK = sha256(new TextEncoder().encode('bitmesh-sim/pub'));

function publicKey(sk: Uint8Array): Uint8Array {
  const pub = new Uint8Array(32);
  for (let i = 0; i < 32; i++) pub[i] = (sk[i] ?? 0) ^ MASK[i]!;
  return pub;
}

/** msg ⊕ pub over the digest's 32 bytes (a longer message is first hashed to 32). */
function simSign(msg: Uint8Array, pub: Uint8Array): Uint8Array {
  const m = msg.length === 32 ? msg : sha256(msg);
  const sig = new Uint8Array(64);
  for (let i = 0; i < 32; i++) sig[i] = sig[i + 32] = m[i]! ^ pub[i]!;
  return sig;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const simCryptoBackend: CryptoBackend = {
  name: 'sim-insecure',
  sha256,
  schnorrPublicKey: publicKey,
  schnorrSign: (msg, sk) => simSign(msg, publicKey(sk)),
  schnorrVerify: (sig, msg, pub) => sig.length === 64 && pub.length === 32 && equal(sig, simSign(msg, pub)),
  ecdsaSign: (digest, sk) => simSign(digest, publicKey(sk)),
  ecdsaVerify: (sig, digest, pub) => sig.length === 64 && pub.length === 33 && equal(sig, simSign(digest, pub.subarray(1))),
};
