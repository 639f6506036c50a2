import { describe, it, expect } from 'vitest';
import { CHAIN_NETWORKS, btcNetwork, parseChainNetwork } from './network.js';
import { LocalError } from '../core/errors.js';

describe('network', () => {
  it('maps each network to its bech32 prefix', () => {
    expect(CHAIN_NETWORKS.map((n) => btcNetwork(n).bech32)).toEqual(['bc', 'tb', 'tb', 'bcrt']);
  });
  it('parses known names and rejects others', () => {
    expect(parseChainNetwork('signet')).toBe('signet');
    for (const bad of ['testnet', 'Mainnet', '', 3, null]) expect(() => parseChainNetwork(bad)).toThrow(LocalError);
  });
});
