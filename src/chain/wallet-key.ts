// The wallet's single key: P2TR key-path only, BIP86-style (the internal key tweaked
// with an empty script tree: t = TapTweak(P)), bech32m address per network.
import { scriptToAddress } from './btc/address.js';
import { p2tr, tweakSecretKey } from './btc/taproot.js';
import type { Crypto } from '../crypto/facade.js';
import { btcNetwork, type ChainNetwork } from './network.js';
import { TxBuildError } from './tx-errors.js';
import { checkBytes } from './tx-taproot.js';

export interface WalletKey {
  readonly network: ChainNetwork;
  /** x-only internal key (BIP340 public key of the secret). */
  readonly internalKeyX: Uint8Array;
  /** x-only output key in the scriptPubKey. */
  readonly outputKeyX: Uint8Array;
  /** OP_1 <outputKeyX>. */
  readonly script: Uint8Array;
  readonly address: string;
  /** The tweaked secret that signs key-path spends (kept in memory only). */
  readonly tweakedSecretKey: Uint8Array;
}

export function walletKey(crypto: Crypto, secretKey: Uint8Array, network: ChainNetwork): WalletKey {
  checkBytes('secretKey', secretKey, 32);
  let internalKeyX: Uint8Array;
  try {
    internalKeyX = crypto.schnorrPublicKey(secretKey);
  } catch (e) {
    throw new TxBuildError('tx.bad-param', `secretKey: not a valid secp256k1 secret (${(e as Error).message})`);
  }
  const out = p2tr(internalKeyX);
  const tweakedSecretKey = tweakSecretKey(secretKey);
  // The tweak must land on the output key; anything else is a bug we want loudly.
  const check = crypto.schnorrPublicKey(tweakedSecretKey);
  if (!check.every((b, i) => b === out.outputX[i])) throw new Error('wallet key: tweaked secret does not match output key');
  const address = scriptToAddress(out.script, btcNetwork(network));
  return { network, internalKeyX, outputKeyX: out.outputX, script: out.script, address, tweakedSecretKey };
}
