// Fee-estimate sample: testing/vectors/esplora-fee-estimates.json, from rust-esplora-client (see testing/vectors/README.md).
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import estimates from './testing/vectors/esplora-fee-estimates.json' with { type: 'json' };
import {
  DEFAULT_MAX_FEE_RATE,
  KEY_PATH_WITNESS,
  LEAF_A_WITNESS,
  LEAF_B_WITNESS,
  feeForVsize,
  feeRateFromEstimates,
  txVsize,
  walletSpendVsize,
} from './fees.js';
import { TxBuildError } from './tx-errors.js';

describe('feeRateFromEstimates', () => {
  it('reads a real Esplora response, flooring sub-1 estimates at 1 sat/vB', () => {
    expect(feeRateFromEstimates(estimates, { targetBlocks: 1 })).toBe(1.952);
    expect(feeRateFromEstimates(estimates, { targetBlocks: 3 })).toBe(1.199);
    expect(feeRateFromEstimates(estimates, { targetBlocks: 6 })).toBe(1.013);
    expect(feeRateFromEstimates(estimates, { targetBlocks: 144 })).toBe(1);
  });

  it('uses the largest listed target not above the wanted one', () => {
    const sparse = { '2': 30, '6': 20, '144': 5 };
    expect(feeRateFromEstimates(sparse, { targetBlocks: 5 })).toBe(30);
    expect(feeRateFromEstimates(sparse, { targetBlocks: 6 })).toBe(20);
    expect(feeRateFromEstimates(sparse, { targetBlocks: 100 })).toBe(20);
    expect(feeRateFromEstimates(sparse, { targetBlocks: 1 })).toBe(30); // nothing faster listed
    expect(feeRateFromEstimates(new Map([[3, 12.5]]), { targetBlocks: 3 })).toBe(12.5);
  });

  it('ignores junk entries, clamps hostile values, and falls back to the minimum', () => {
    expect(feeRateFromEstimates({})).toBe(1);
    expect(feeRateFromEstimates({ x: 50, '-1': 50, '2': Number.NaN, '3': -4 })).toBe(1);
    expect(feeRateFromEstimates({ '1': 1e9 })).toBe(DEFAULT_MAX_FEE_RATE);
    expect(() => feeRateFromEstimates({}, { targetBlocks: 0 })).toThrow(TxBuildError);
  });

  it('always lands in [min, max] (fuzz)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string({ maxLength: 4 }), fc.double()), fc.integer({ min: 1, max: 1008 }), (est, t) => {
        const r = feeRateFromEstimates(est, { targetBlocks: t });
        return r >= 1 && r <= DEFAULT_MAX_FEE_RATE;
      }),
    );
  });
});

describe('size model', () => {
  it('matches the textbook 1-in 1-out key-path P2TR spend (111 vB)', () => {
    expect(walletSpendVsize(1, [34])).toBe(111);
    expect(txVsize({ inputWitnessSizes: [KEY_PATH_WITNESS], outputScriptLengths: [34, 34] })).toBe(154);
  });
  it('orders witness sizes as the scripts imply', () => {
    expect(KEY_PATH_WITNESS).toBe(66);
    expect(LEAF_A_WITNESS).toBeGreaterThan(LEAF_B_WITNESS);
  });
  it('rounds fees up to whole sats', () => {
    expect(feeForVsize(1.013, 111)).toBe(113n);
    expect(feeForVsize(2, 100)).toBe(200n);
    expect(() => feeForVsize(0, 100)).toThrow(TxBuildError);
  });
});
