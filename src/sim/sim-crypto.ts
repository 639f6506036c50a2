// SIMULATION ONLY — a deterministic stand-in for BIP340 so 10,000 nodes fit in memory
// and time. It is NOT a signature scheme: anyone who knows the public key can "sign".
// The agent never uses it (select-backend.ts knows only noble and the helper); it
// exists so that every simulated message still goes through the real codec,
// `authenticate`, the time window and the replay guard, with a signature that is
// checked (a bit flip or a wrong sender still fails) at the cost of one SHA-256.
//   publicKey(sk) = sha256("bitmesh-sim/pub" ‖ sk)
//   sign(msg, sk) = h ‖ h  with  h = sha256(publicKey(sk) ‖ msg)
import { createHash } from 'node:crypto';
import type { CryptoBackend } from '../crypto/backend.js';

const PUB_TAG = new TextEncoder().encode('bitmesh-sim/pub');

function sha256(data: Uint8Array): Uint8Array {
  return new Uint8Array(createHash('sha256').update(data).digest());
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

function simSign(msg: Uint8Array, pub: Uint8Array): Uint8Array {
  const h = sha256(concat(pub, msg));
  return concat(h, h);
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export const simCryptoBackend: CryptoBackend = {
  name: 'sim-insecure',
  sha256,
  schnorrPublicKey: (sk) => sha256(concat(PUB_TAG, sk)),
  schnorrSign: (msg, sk) => simSign(msg, sha256(concat(PUB_TAG, sk))),
  schnorrVerify: (sig, msg, pub) => sig.length === 64 && pub.length === 32 && equal(sig, simSign(msg, pub)),
  ecdsaSign: (digest, sk) => simSign(digest, sha256(concat(PUB_TAG, sk))),
  ecdsaVerify: (sig, digest, pub) => sig.length === 64 && pub.length === 33 && equal(sig, simSign(digest, pub.subarray(1))),
};
