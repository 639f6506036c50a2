import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { rankBids, runAuction, type AuctionRequest, type Candidate } from './auction.js';
import type { GatewayView } from './score.js';

const gw = (n: number) => n.toString(16).padStart(64, '0');
const bid = (id: number, price: number, capacity: number, view: Partial<GatewayView> = {}): Candidate => ({
  gateway: gw(id),
  priceMsatPerKiB: price,
  capacityKbps: capacity,
  termMs: 60_000,
  view: { discount: 1, ...view },
});

function award(req: AuctionRequest, cands: Candidate[]) {
  const o = runAuction(req, cands);
  if (o.kind !== 'award') throw new Error('expected an award');
  return o;
}

describe('auction: hand-worked cases', () => {
  it('goodput capped by demand; the tie at the threshold goes to the higher goodput, so the winner pays one below', () => {
    // wanted 10 000 kbit/s. A: 8000/100 = 80; B: 2000/50 = 40; C: min(20000, 10000)/200 = 50.
    // A wins, C is runner-up. At 160, A scores 8000/160 = 50 = C's, and the tie goes to
    // C's higher goodput, so the highest price at which A still wins is 159.
    const o = award({ wantedKbps: 10_000, maxPriceMsatPerKiB: 1000 }, [bid(1, 100, 8000), bid(2, 50, 2000), bid(3, 200, 20_000)]);
    expect(o.winner.gateway).toBe(gw(1));
    expect(o.runnerUp?.gateway).toBe(gw(3));
    expect(o.ranking.ranked.map((r) => r.gateway)).toEqual([gw(1), gw(3), gw(2)]);
    expect(o.priceMsatPerKiB).toBe(159);
  });

  it('reputation and link quality discount claims', () => {
    // A: 6000 × 0.5 (reputation) × 0.9 (link) = 2700 at 100 → 27.
    // B: 4000 × 1 × 0.75 = 3000 at 125 → 24.
    // Threshold: 125 × 2700 / 3000 = 112.5 → 112 (2700/112 = 24.1 > 24).
    const o = award({ wantedKbps: 5000, maxPriceMsatPerKiB: 500 }, [
      bid(1, 100, 6000, { discount: 0.5, linkQuality: 0.9 }),
      bid(2, 125, 4000, { linkQuality: 0.75 }),
    ]);
    expect(o.winner.gateway).toBe(gw(1));
    expect(o.winner.goodputKbps).toBeCloseTo(2700, 9);
    expect(o.priceMsatPerKiB).toBe(112);
  });

  it("the client's own measurement comes before a gateway's claim", () => {
    // A claims 10 000 but we measured 3000: 3000/100 = 30. B claims 5000 unmeasured: 5000/150 = 33.3.
    // B wins; threshold 100 × 5000 / 3000 = 166.7 → 166.
    const o = award({ wantedKbps: 8000, maxPriceMsatPerKiB: 1000 }, [bid(1, 100, 10_000, { ownGoodputKbps: 3000 }), bid(2, 150, 5000)]);
    expect(o.winner.gateway).toBe(gw(2));
    expect(o.priceMsatPerKiB).toBe(166);
  });

  it('a single eligible bid pays the reserve: the client max price', () => {
    const o = award({ wantedKbps: 1000, maxPriceMsatPerKiB: 400 }, [bid(1, 100, 1000), bid(2, 401, 5000)]);
    expect(o.winner.gateway).toBe(gw(1));
    expect(o.runnerUp).toBeUndefined();
    expect(o.priceMsatPerKiB).toBe(400);
    expect(o.ranking.excluded).toEqual([{ gateway: gw(2), reason: 'above_max_price' }]);
  });

  it('the incumbent bonus is a quality factor: it can keep the incumbent and raises its threshold', () => {
    // A (incumbent): 1000 × 1.1 = 1100 at 100 → 11; B: 1050 at 100 → 10.5. Threshold 100 × 1100/1050 = 104.76 → 104.
    const o = award({ wantedKbps: 5000, maxPriceMsatPerKiB: 1000 }, [bid(1, 100, 1000, { incumbentBonus: 1.1 }), bid(2, 100, 1050)]);
    expect(o.winner.gateway).toBe(gw(1));
    expect(o.priceMsatPerKiB).toBe(104);
  });

  it('price 0 outranks any positive price; its threshold is where the scores meet', () => {
    // A: 1000 at 0 (infinite). B: 5000 at 10 → 500. A still wins at 1 (1000 > 500); at 2 it ties and B's goodput wins.
    const o = award({ wantedKbps: 5000, maxPriceMsatPerKiB: 1000 }, [bid(1, 0, 1000), bid(2, 10, 5000)]);
    expect(o.winner.gateway).toBe(gw(1));
    expect(o.priceMsatPerKiB).toBe(1);
  });

  it('equal bids are broken by gateway id, and the winner is paid its own price', () => {
    const o = award({ wantedKbps: 5000, maxPriceMsatPerKiB: 1000 }, [bid(9, 100, 1000), bid(3, 100, 1000)]);
    expect(o.winner.gateway).toBe(gw(3));
    expect(o.priceMsatPerKiB).toBe(100);
  });

  it('no award without an eligible bid', () => {
    const o = runAuction({ wantedKbps: 5000, maxPriceMsatPerKiB: 50 }, [bid(1, 100, 1000), bid(2, 10, 0), bid(3, 10, 1000, { discount: 0 })]);
    expect(o.kind).toBe('no_award');
    expect(o.ranking.excluded.map((e) => e.reason)).toEqual(['above_max_price', 'no_goodput', 'no_goodput']);
  });

  it('refuses two bids from one gateway (the caller must keep the latest)', () => {
    expect(() => rankBids({ wantedKbps: 1, maxPriceMsatPerKiB: 1 }, [bid(1, 1, 1), bid(1, 1, 1)])).toThrow(/two bids/);
  });
});

const viewArb: fc.Arbitrary<GatewayView> = fc.record(
  {
    discount: fc.double({ min: 0, max: 1, noNaN: true }),
    linkQuality: fc.double({ min: 0, max: 1, noNaN: true }),
    ownGoodputKbps: fc.integer({ min: 0, max: 30_000 }),
    incumbentBonus: fc.constantFrom(1, 1.1, 1.2),
  },
  { requiredKeys: ['discount'] },
);

const instanceArb = fc.record({
  wantedKbps: fc.integer({ min: 1, max: 20_000 }),
  maxPriceMsatPerKiB: fc.integer({ min: 0, max: 2000 }),
  gateways: fc.array(
    fc.record({
      cost: fc.integer({ min: 0, max: 2500 }),
      capacityKbps: fc.integer({ min: 0, max: 20_000 }),
      view: viewArb,
      // What the others bid: anything, not necessarily their cost.
      otherBid: fc.integer({ min: 0, max: 2500 }),
    }),
    { minLength: 1, maxLength: 6 },
  ),
  deviations: fc.array(fc.integer({ min: 0, max: 2500 }), { minLength: 1, maxLength: 8 }),
});

describe('auction: truthfulness', () => {
  it('no gateway raises its profit by bidding other than its true cost', () => {
    fc.assert(
      fc.property(instanceArb, fc.nat(), ({ wantedKbps, maxPriceMsatPerKiB, gateways, deviations }, pick) => {
        const req = { wantedKbps, maxPriceMsatPerKiB };
        const me = pick % gateways.length;
        const myCost = gateways[me]!.cost;
        // Delivered bytes do not depend on the price bid; any positive constant will do.
        const delivered = 1 + gateways[me]!.capacityKbps;
        const profit = (myBid: number): number => {
          const cands = gateways.map((g, i) => bid(i + 1, i === me ? myBid : g.otherBid, g.capacityKbps, g.view));
          const o = runAuction(req, cands);
          return o.kind === 'award' && o.winner.gateway === gw(me + 1) ? (o.priceMsatPerKiB - myCost) * delivered : 0;
        };
        const truthful = profit(myCost);
        expect(truthful).toBeGreaterThanOrEqual(0);
        const grid = [0, myCost - 1, myCost + 1, Math.floor(myCost / 2), myCost * 2, maxPriceMsatPerKiB, maxPriceMsatPerKiB + 1, ...deviations];
        for (const alt of grid) if (alt >= 0) expect(profit(alt)).toBeLessThanOrEqual(truthful);
      }),
      { numRuns: 800 },
    );
  });

  it('the payment lies in [winning bid, max price] and is the highest price that still wins', () => {
    fc.assert(
      fc.property(instanceArb, ({ wantedKbps, maxPriceMsatPerKiB, gateways }) => {
        const req = { wantedKbps, maxPriceMsatPerKiB };
        const cands = gateways.map((g, i) => bid(i + 1, g.otherBid, g.capacityKbps, g.view));
        const o = runAuction(req, cands);
        if (o.kind !== 'award') return;
        const w = o.winner.candidate;
        expect(o.priceMsatPerKiB).toBeGreaterThanOrEqual(w.priceMsatPerKiB);
        expect(o.priceMsatPerKiB).toBeLessThanOrEqual(maxPriceMsatPerKiB);
        const at = (p: number) => runAuction(req, cands.map((c) => (c === w ? { ...c, priceMsatPerKiB: p } : c)));
        const still = at(o.priceMsatPerKiB);
        expect(still.kind === 'award' && still.winner.gateway).toBe(w.gateway);
        const above = at(o.priceMsatPerKiB + 1);
        expect(above.kind === 'award' && above.winner.gateway === w.gateway).toBe(false);
      }),
      { numRuns: 1000 },
    );
  });

  it('ranking is a total order: the result does not depend on bid arrival order', () => {
    fc.assert(
      fc.property(instanceArb, fc.nat(), ({ wantedKbps, maxPriceMsatPerKiB, gateways }, seed) => {
        const req = { wantedKbps, maxPriceMsatPerKiB };
        const cands = gateways.map((g, i) => bid(i + 1, g.otherBid, g.capacityKbps, g.view));
        const shuffled = [...cands].sort((a, b) => ((a.gateway.charCodeAt(63) * 31 + seed) % 7) - ((b.gateway.charCodeAt(63) * 31 + seed) % 7));
        const a = runAuction(req, cands);
        const b = runAuction(req, shuffled);
        expect(b.ranking.ranked.map((r) => r.gateway)).toEqual(a.ranking.ranked.map((r) => r.gateway));
        expect(b.kind === 'award' ? b.priceMsatPerKiB : -1).toBe(a.kind === 'award' ? a.priceMsatPerKiB : -1);
      }),
    );
  });
});
