// Node identities for the simulator: a deterministic secret key per node, its public
// key under the sim crypto backend, and the hex id ↔ node lookups the adapters need.
import { bytesToHex } from '@noble/hashes/utils.js';
import type { Crypto } from '../crypto/facade.js';

export class SimIdentities {
  readonly secretKeys: Uint8Array[] = [];
  readonly publicKeys: Uint8Array[] = [];
  readonly hex: string[] = [];
  readonly #byHex = new Map<string, number>();

  constructor(crypto: Crypto, nodes: number, seed: number) {
    for (let i = 0; i < nodes; i++) {
      const sk = new Uint8Array(32);
      const v = new DataView(sk.buffer);
      v.setUint32(0, seed >>> 0);
      v.setUint32(28, i + 1);
      const pub = crypto.schnorrPublicKey(sk);
      const h = bytesToHex(pub);
      this.secretKeys.push(sk);
      this.publicKeys.push(pub);
      this.hex.push(h);
      this.#byHex.set(h, i);
    }
  }

  /** Node index of a hex id, or undefined for a stranger. */
  node(hex: string): number | undefined {
    return this.#byHex.get(hex);
  }
}
