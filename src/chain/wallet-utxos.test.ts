import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { BadUtxoError, UtxoSet, parseEsploraUtxo, walletUtxoFromDecoded } from './wallet-utxos.js';
import { fakeTxid } from './testing/fixtures.js';

const T1 = fakeTxid('a');
const T2 = fakeTxid('b');
const utxo = (txid: string, vout: number, value: number, height: number | null) => ({
  txid,
  vout,
  value,
  status: height === null ? { confirmed: false } : { confirmed: true, block_height: height, block_hash: '00'.repeat(32), block_time: 1 },
});

describe('parseEsploraUtxo', () => {
  it('reads Esplora’s shape', () => {
    expect(parseEsploraUtxo(utxo(T1, 1, 5000, 100))).toEqual({ txid: T1, vout: 1, valueSat: 5000n, height: 100 });
    expect(parseEsploraUtxo(utxo(T1, 0, 1, null)).height).toBeNull();
  });
  it.each([
    null,
    'x',
    { ...utxo(T1, 0, 1, 1), txid: T1.toUpperCase() },
    { ...utxo(T1, 0, 1, 1), txid: 'ab' },
    { ...utxo(T1, -1, 1, 1) },
    { ...utxo(T1, 0, 1.5, 1) },
    { ...utxo(T1, 0, -1, 1) },
    { ...utxo(T1, 0, 1, 1), status: { confirmed: true } },
    { ...utxo(T1, 0, 1, 1), status: 'yes' },
  ])('rejects %j', (bad) => {
    expect(() => parseEsploraUtxo(bad)).toThrow(BadUtxoError);
  });
  it('either parses or throws BadUtxoError on anything (fuzz)', () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        try {
          parseEsploraUtxo(x);
        } catch (e) {
          expect(e).toBeInstanceOf(BadUtxoError);
        }
      }),
    );
  });
});

describe('UtxoSet', () => {
  it('tracks spends, confirmations and balance', () => {
    const s = new UtxoSet();
    s.add(utxo(T1, 0, 1000, 100));
    s.add(utxo(T2, 1, 500, null));
    expect(s.balance()).toEqual({ confirmedSat: 1000n, unconfirmedSat: 500n });
    expect(s.spendable({ minConfirmations: 1, tipHeight: 100 }).map((c) => c.txid)).toEqual([T1]);
    expect(s.spendable({ minConfirmations: 2, tipHeight: 100 })).toEqual([]);
    expect(s.spendable({ minConfirmations: 0, tipHeight: 100 }).length).toBe(2);
    s.markSpent([{ txid: T1, vout: 0 }]);
    expect(s.isSpent({ txid: T1, vout: 0 })).toBe(true);
    expect(s.balance().confirmedSat).toBe(0n);
    s.release([{ txid: T1, vout: 0 }]);
    expect(s.balance().confirmedSat).toBe(1000n);
  });

  it('replaceFromChain keeps spend marks only for coins still listed', () => {
    const s = new UtxoSet();
    s.replaceFromChain([utxo(T1, 0, 1000, 100), utxo(T2, 0, 700, 101)]);
    s.markSpent([{ txid: T1, vout: 0 }, { txid: T2, vout: 0 }]);
    s.replaceFromChain([utxo(T1, 0, 1000, 100)]);
    expect(s.isSpent({ txid: T1, vout: 0 })).toBe(true);
    expect(s.isSpent({ txid: T2, vout: 0 })).toBe(false);
    expect(s.all().length).toBe(1);
  });

  it('accepts coins decoded by the Esplora client', () => {
    const s = new UtxoSet();
    s.replaceWith([
      walletUtxoFromDecoded({ txid: T1, vout: 0, valueSat: 1234n, status: { confirmed: true, blockHeight: 7 } }),
      walletUtxoFromDecoded({ txid: T2, vout: 3, valueSat: 99n, status: { confirmed: false } }),
    ]);
    expect(s.balance()).toEqual({ confirmedSat: 1234n, unconfirmedSat: 99n });
    expect(() => walletUtxoFromDecoded({ txid: T1, vout: 0, valueSat: 1n, status: { confirmed: true } })).toThrow(BadUtxoError);
  });
});
