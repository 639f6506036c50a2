import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { selectCoins, type CoinCandidate } from './coin-select.js';
import { DUST_SAT, feeForVsize, walletSpendVsize } from './fees.js';
import { TxBuildError } from './tx-errors.js';

const coin = (n: number, value: bigint): CoinCandidate => ({ txid: n.toString(16).padStart(64, '0'), vout: n, valueSat: value });

describe('selectCoins (largest-first)', () => {
  it('takes the largest coin first and makes change when it is not dust', () => {
    const s = selectCoins({ candidates: [coin(1, 10_000n), coin(2, 50_000n), coin(3, 20_000n)], targetSat: 30_000n, outputScriptLengths: [34], feeRate: 2 });
    expect(s.inputs.map((c) => c.vout)).toEqual([2]);
    expect(s.feeSat).toBe(feeForVsize(2, walletSpendVsize(1, [34, 34])));
    expect(s.changeSat).toBe(50_000n - 30_000n - s.feeSat);
  });

  it('drops dust change into the fee', () => {
    const fee1 = feeForVsize(1, walletSpendVsize(1, [34]));
    const s = selectCoins({ candidates: [coin(1, 10_000n + fee1 + 100n)], targetSat: 10_000n, outputScriptLengths: [34], feeRate: 1 });
    expect(s.changeSat).toBe(0n);
    expect(s.feeSat).toBe(fee1 + 100n);
  });

  it('skips coins worth less than their spending cost and reports shortfalls', () => {
    expect(() => selectCoins({ candidates: [coin(1, 50n), coin(2, 60n)], targetSat: 330n, outputScriptLengths: [34], feeRate: 1 })).toThrow(TxBuildError);
    expect(() => selectCoins({ candidates: [], targetSat: 1000n, outputScriptLengths: [34], feeRate: 1 })).toThrow(/insufficient|need/);
  });

  it('always covers target + fee at the feerate, with no dust change (fuzz)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.bigInt({ min: 1n, max: 2_000_000n }), { minLength: 0, maxLength: 12 }),
        fc.bigInt({ min: 330n, max: 5_000_000n }),
        fc.integer({ min: 1, max: 50 }),
        (values, target, rate) => {
          const candidates = values.map((v, i) => coin(i, v));
          let s;
          try {
            s = selectCoins({ candidates, targetSat: target, outputScriptLengths: [34], feeRate: rate });
          } catch (e) {
            expect(e).toBeInstanceOf(TxBuildError);
            return;
          }
          const total = s.inputs.reduce((a, c) => a + c.valueSat, 0n);
          expect(total).toBe(target + s.feeSat + s.changeSat);
          expect(s.changeSat === 0n || s.changeSat >= DUST_SAT).toBe(true);
          const outs = s.changeSat > 0n ? [34, 34] : [34];
          expect(s.feeSat >= feeForVsize(rate, walletSpendVsize(s.inputs.length, outs))).toBe(true);
          expect(new Set(s.inputs.map((c) => c.vout)).size).toBe(s.inputs.length);
        },
      ),
    );
  });
});
