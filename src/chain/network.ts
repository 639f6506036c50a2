// Bitcoin networks the agent can run on, and the address parameters each one uses.
// Every output we create is P2TR (bech32m); the base58 bytes are for paying to
// older addresses.
import type { AddressParams } from './btc/address.js';
import { LocalError } from '../core/errors.js';

export type ChainNetwork = 'mainnet' | 'testnet4' | 'signet' | 'regtest';

export const CHAIN_NETWORKS: readonly ChainNetwork[] = ['mainnet', 'testnet4', 'signet', 'regtest'];

const MAINNET: AddressParams = Object.freeze({ bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80 });
const TESTNET: AddressParams = Object.freeze({ bech32: 'tb', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef });
const REGTEST: AddressParams = Object.freeze({ bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef });

/** Address parameters for a network: `bc1p…`, `tb1p…` (testnet4 and signet), `bcrt1p…`. */
export function btcNetwork(network: ChainNetwork): AddressParams {
  switch (network) {
    case 'mainnet':
      return MAINNET;
    case 'testnet4':
    case 'signet':
      return TESTNET;
    case 'regtest':
      return REGTEST;
  }
}

export function isChainNetwork(value: unknown): value is ChainNetwork {
  return typeof value === 'string' && (CHAIN_NETWORKS as readonly string[]).includes(value);
}

/** Parse a configured network name; a wrong name is a configuration (local) error. */
export function parseChainNetwork(value: unknown): ChainNetwork {
  if (!isChainNetwork(value)) {
    throw new LocalError('chain.network', `network: expected one of ${CHAIN_NETWORKS.join(', ')}, got ${String(value)}`);
  }
  return value;
}
