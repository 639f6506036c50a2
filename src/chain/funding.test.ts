import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { hex } from '@scure/base';
import { channelFunding } from './funding.js';
import { TxBuildError } from './tx-errors.js';
import { testKey } from './testing/fixtures.js';

const payer = testKey('payer');
const payee = testKey('payee');

describe('channelFunding', () => {
  it('builds the two leaves of DESIGN §6 with exact bytes', () => {
    const f = channelFunding({ payerX: payer.x, payeeX: payee.x, expiryHeight: 850_000, network: 'mainnet' });
    expect(hex.encode(f.leafA.script)).toBe(`20${hex.encode(payee.x)}ad20${hex.encode(payer.x)}ac`);
    // 850000 = 0x0cf850 → minimal little-endian push 50 f8 0c
    expect(hex.encode(f.leafB.script)).toBe(`0350f80cb17520${hex.encode(payer.x)}ac`);
    expect(hex.encode(f.script)).toBe(`5120${hex.encode(f.outputKeyX)}`);
    expect(f.address.startsWith('bc1p')).toBe(true);
    // control blocks: leaf version c0 | parity, internal key, one sibling hash
    for (const leaf of [f.leafA, f.leafB]) {
      expect(leaf.controlBlock.length).toBe(65);
      expect(leaf.controlBlock[0]! & 0xfe).toBe(0xc0);
      expect(hex.encode(leaf.controlBlock.subarray(1, 33))).toBe(hex.encode(f.internalKeyX));
    }
    expect(hex.encode(f.leafA.controlBlock.subarray(33))).toBe(hex.encode(f.leafB.leafHash));
    expect(hex.encode(f.leafB.controlBlock.subarray(33))).toBe(hex.encode(f.leafA.leafHash));
  });

  it('uses the network address prefix', () => {
    const p = { payerX: payer.x, payeeX: payee.x, expiryHeight: 1000 };
    expect(channelFunding({ ...p, network: 'testnet4' }).address).toMatch(/^tb1p/);
    expect(channelFunding({ ...p, network: 'signet' }).address).toMatch(/^tb1p/);
    expect(channelFunding({ ...p, network: 'regtest' }).address).toMatch(/^bcrt1p/);
  });

  it('is a function of its inputs: a different expiry or key order changes the output', () => {
    const base = channelFunding({ payerX: payer.x, payeeX: payee.x, expiryHeight: 1000, network: 'regtest' });
    const again = channelFunding({ payerX: payer.x, payeeX: payee.x, expiryHeight: 1000, network: 'regtest' });
    const later = channelFunding({ payerX: payer.x, payeeX: payee.x, expiryHeight: 1001, network: 'regtest' });
    const swapped = channelFunding({ payerX: payee.x, payeeX: payer.x, expiryHeight: 1000, network: 'regtest' });
    expect(again.address).toBe(base.address);
    expect(later.address).not.toBe(base.address);
    expect(swapped.address).not.toBe(base.address);
    expect(hex.encode(swapped.internalKeyX)).not.toBe(hex.encode(base.internalKeyX));
  });

  it('rejects bad parameters with typed errors', () => {
    const ok = { payerX: payer.x, payeeX: payee.x, expiryHeight: 1000, network: 'regtest' as const };
    for (const bad of [
      { ...ok, payerX: payer.x.subarray(1) },
      { ...ok, payeeX: new Uint8Array(33) },
      { ...ok, expiryHeight: 0 },
      { ...ok, expiryHeight: 16 },
      { ...ok, expiryHeight: 500_000_000 },
      { ...ok, expiryHeight: 1.5 },
      { ...ok, payerX: new Uint8Array(32).fill(0xff) }, // not on the curve
    ]) {
      expect(() => channelFunding(bad)).toThrow(TxBuildError);
    }
  });

  it('accepts any valid expiry height', () => {
    fc.assert(
      fc.property(fc.integer({ min: 17, max: 499_999_999 }), (h) => {
        const f = channelFunding({ payerX: payer.x, payeeX: payee.x, expiryHeight: h, network: 'regtest' });
        return f.leafB.script.length <= 41 && f.script.length === 34;
      }),
      { numRuns: 15 },
    );
  });
});
