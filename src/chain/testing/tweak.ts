// BIP341 secret-key tweak with an optional merkle root, for checking vectors that use
// script trees (the wallet itself only ever uses the empty tree).
import { taprootTweakPrivKey } from '@scure/btc-signer/utils.js';

export function walletKeyFromTweak(internalSecret: Uint8Array, merkleRoot?: Uint8Array): Uint8Array {
  return taprootTweakPrivKey(internalSecret, merkleRoot ?? new Uint8Array(0));
}
