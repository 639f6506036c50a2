// The one interface every hashing/signing backend implements. Everything in the
// project that hashes or signs goes through a CryptoBackend (see facade.ts), so a
// native helper can take over the hot paths without the callers knowing.

export interface CryptoBackend {
  /** Short stable name shown by `bitmesh status`: "noble", "helper", "sim". */
  readonly name: string;
  sha256(data: Uint8Array): Uint8Array;
  /** x-only 32-byte public key of a 32-byte secret key (BIP340). */
  schnorrPublicKey(secretKey: Uint8Array): Uint8Array;
  /** BIP340 signature (64 bytes) over a 32-byte message. `aux` is 32 bytes of fresh randomness. */
  schnorrSign(msg: Uint8Array, secretKey: Uint8Array, aux: Uint8Array): Uint8Array;
  schnorrVerify(sig: Uint8Array, msg: Uint8Array, publicKeyX: Uint8Array): boolean;
  /** ECDSA over a 32-byte digest (no prehash), compact 64-byte low-S signature. */
  ecdsaSign(digest: Uint8Array, secretKey: Uint8Array): Uint8Array;
  /** `publicKey` is 33-byte compressed. */
  ecdsaVerify(sig: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): boolean;
}
