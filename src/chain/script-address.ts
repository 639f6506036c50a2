// Address ⇄ scriptPubKey for the networks we run on; a malformed or wrong-network
// address is the operator's (or peer's) input, so it is a typed remote error.
import { addressToScript as toScript, scriptToAddress as toAddress } from './btc/address.js';
import { RemoteError } from '../core/errors.js';
import { btcNetwork, type ChainNetwork } from './network.js';

export class BadAddressError extends RemoteError {
  constructor(message: string) {
    super('chain.bad-address', message);
  }
}

export function addressToScript(address: string, network: ChainNetwork): Uint8Array {
  try {
    return toScript(address, btcNetwork(network));
  } catch (e) {
    throw new BadAddressError(`address "${address}" is not valid on ${network}: ${(e as Error).message}`);
  }
}

export function scriptToAddress(script: Uint8Array, network: ChainNetwork): string {
  try {
    return toAddress(script, btcNetwork(network));
  } catch (e) {
    throw new BadAddressError(`script has no address form: ${(e as Error).message}`);
  }
}
