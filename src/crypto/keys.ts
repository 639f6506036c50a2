// Secret-key generation and validation, kept with the rest of the crypto.
import * as secp from '@noble/secp256k1';

export function isValidSecretKey(sk: Uint8Array): boolean {
  return sk.length === 32 && secp.utils.isValidSecretKey(sk);
}

/** A uniformly random valid key from ≥ 48 bytes of caller-supplied entropy (FIPS 186 reduction). */
export function secretKeyFromEntropy(entropy: Uint8Array): Uint8Array {
  return secp.utils.randomSecretKey(entropy);
}
