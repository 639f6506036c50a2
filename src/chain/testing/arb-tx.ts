// Random transactions for property tests of the codec and the sighash.
import fc from 'fast-check';
import { hex } from '@scure/base';
import type { Tx } from '../btc/tx.js';

const bytes = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });

export const arbTx: fc.Arbitrary<Tx> = fc.record({
  version: fc.constantFrom(1, 2, 3), // btc-signer (the reference) refuses other versions
  lockTime: fc.integer({ min: 0, max: 0xffffffff }),
  inputs: fc.array(
    fc.record({
      txid: bytes(32, 32).map((b) => hex.encode(b)),
      vout: fc.integer({ min: 0, max: 0xffffffff }),
      sequence: fc.integer({ min: 0, max: 0xffffffff }),
      scriptSig: bytes(0, 300),
      witness: fc.array(bytes(0, 300), { maxLength: 4 }),
    }),
    { minLength: 1, maxLength: 4 },
  ),
  outputs: fc.array(fc.record({ amount: fc.bigInt({ min: 0n, max: 2_100_000_000_000_000n }), script: bytes(0, 300) }), { maxLength: 4 }),
});

