import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { runAuction, type Candidate } from './auction.js';
import { ClientMarket } from './client-market.js';
import { ReputationTable } from './reputation.js';
import { compareScored, expectedGoodputKbps } from './score.js';

const gw = (n: number) => n.toString(16).padStart(64, '0');
const bid = (id: number, price: number, capacity: number, pathKbps?: number): Candidate => ({
  gateway: gw(id),
  priceMsatPerKiB: price,
  capacityKbps: capacity,
  termMs: 60_000,
  view: { discount: 1, ...(pathKbps !== undefined ? { pathKbps } : {}) },
});

describe('score: path throughput', () => {
  it('caps the expected goodput of an unmeasured gateway at the path throughput', () => {
    expect(expectedGoodputKbps(50_000, 8000, { discount: 1, pathKbps: 3000 })).toBe(3000);
    expect(expectedGoodputKbps(50_000, 8000, { discount: 1 })).toBe(8000);
    // Our own measurement already includes the path.
    expect(expectedGoodputKbps(50_000, 8000, { discount: 1, pathKbps: 3000, ownGoodputKbps: 5000 })).toBe(5000);
  });

  it('does not blame a gateway for the path: delivering the path rate keeps its reputation whole', () => {
    const rep = new ReputationTable();
    const self = gw(99);
    const m = new ClientMarket({ self, maxPriceMsatPerKiB: 100 }, rep, () => 0.5);
    m.handle({ type: 'linkQuality', gateway: gw(1), quality: 1, pathKbps: 2000 }, 0);
    m.handle({ type: 'demand', wantedKbps: 8000 }, 0);
    const rfq = m.poll().find((e) => e.type === 'sendRfq');
    if (rfq?.type !== 'sendRfq') throw new Error('no RFQ');
    const id = (n: number) => {
      const b = new Uint8Array(32);
      new DataView(b.buffer).setUint32(28, n);
      return b;
    };
    m.handle(
      {
        type: 'bid',
        bid: { sender: id(1), ts: 0, nonce: new Uint8Array(8), rfqId: rfq.body.rfqId, client: id(99), priceMsatPerKiB: 10, capacityKbps: 50_000, confidencePermille: 900, latencyMs: 20, termMs: 60_000 },
      },
      0,
    );
    m.handleTimeout(1000);
    expect(m.award?.gateway).toBe(gw(1));
    // Two seconds at the path's 2000 kbit/s, backlogged throughout.
    for (let t = 2000; t <= 4000; t += 1000) m.handle({ type: 'delivery', gateway: gw(1), bytes: 250_000, backlogged: true }, t);
    expect(rep.view(gw(1), 4000).ratio).toBe(1);
  });
});

describe('score: reliability', () => {
  it('multiplies the whole expected goodput, also when the claim does not bind', () => {
    expect(expectedGoodputKbps(50_000, 2000, { discount: 0.5 })).toBe(2000);
    expect(expectedGoodputKbps(50_000, 2000, { discount: 0.5, reliability: 0.5 })).toBe(1000);
    expect(expectedGoodputKbps(50_000, 2000, { discount: 1, reliability: 0.5, incumbentBonus: 1.1 })).toBeCloseTo(1100, 9);
    expect(expectedGoodputKbps(50_000, 2000, { discount: 1, reliability: 7 })).toBe(2000); // clamped to [0, 1]
    expect(expectedGoodputKbps(50_000, 2000, { discount: 1, reliability: Number.NaN })).toBe(0);
  });
});

describe('score: ranking by surplus', () => {
  it('prefers the full-rate gateway over a cheap path-limited one when the value is high', () => {
    // Value 40. A: 8 Mbit/s at 8 → surplus 32 × 8000; B: 3 Mbit/s at 1 → 39 × 3000.
    const req = { wantedKbps: 8000, maxPriceMsatPerKiB: 40 };
    const cands = [bid(1, 8, 50_000), bid(2, 1, 50_000, 3000)];
    const perPrice = runAuction(req, cands);
    const surplus = runAuction({ ...req, bySurplus: true }, cands);
    expect(perPrice.kind === 'award' && perPrice.winner.gateway).toBe(gw(2));
    expect(surplus.kind === 'award' && surplus.winner.gateway).toBe(gw(1));
    // Threshold: A wins while (40 − p) × 8000 > 39 × 3000, i.e. p < 25.375 → pays 25.
    expect(surplus.kind === 'award' && surplus.priceMsatPerKiB).toBe(25);
  });

  it('is truthful: a winner pays the same whatever it bid below the threshold', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 100 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 1, max: 20_000 }),
        fc.integer({ min: 0, max: 100 }),
        (value, pb, ga, gb, shade) => {
          const req = { wantedKbps: 20_000, maxPriceMsatPerKiB: value, bySurplus: true };
          const base = runAuction(req, [bid(1, 0, ga), bid(2, Math.min(pb, value), gb)]);
          if (base.kind !== 'award' || base.winner.gateway !== gw(1)) return;
          const p = Math.min(shade, base.priceMsatPerKiB);
          const again = runAuction(req, [bid(1, p, ga), bid(2, Math.min(pb, value), gb)]);
          expect(again.kind === 'award' && again.winner.gateway).toBe(gw(1));
          expect(again.kind === 'award' && again.priceMsatPerKiB).toBe(base.priceMsatPerKiB);
        },
      ),
    );
  });

  it('orders by (value − price) × goodput, then goodput, then id', () => {
    const a = { gateway: gw(1), priceMsatPerKiB: 10, goodputKbps: 100 };
    const b = { gateway: gw(2), priceMsatPerKiB: 20, goodputKbps: 200 };
    // (30 − 10) × 100 = (30 − 20) × 200: equal surplus, so the higher goodput (b) ranks first.
    expect(compareScored(a, b, 30)).toBeGreaterThan(0);
    // At value 40: 3000 against 4000, b first; at 25: 1500 against 1000, a first.
    expect(compareScored(a, b, 40)).toBeGreaterThan(0);
    expect(compareScored(a, b, 25)).toBeLessThan(0);
    // Without a value: goodput per price, 10 against 10, tie → b's higher goodput.
    expect(compareScored(a, b)).toBeGreaterThan(0);
  });
});
