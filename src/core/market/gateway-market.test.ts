import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { GatewayMarket, type GatewayMarketInput } from './gateway-market.js';
import type { AwardBody, RfqBody } from '../wire/messages.js';
import { idBytes, idHex } from './market-sim.test-support.js';

const SELF = 1;
const estimate = { capacityKbps: 10_000, spareKbps: 4000, confidencePermille: 900, latencyMs: 15, lossPermille: 0, uptimeS: 60 };
const rfq = (client: number, over: Partial<RfqBody> = {}): RfqBody => ({
  sender: idBytes(client),
  rfqId: new Uint8Array(8).fill(client),
  wantedKbps: 8000,
  maxPriceMsatPerKiB: 1000,
  ts: 0,
  ...over,
});
const award = (client: number, over: Partial<AwardBody> = {}): AwardBody => ({
  sender: idBytes(client),
  ts: 0,
  nonce: new Uint8Array(8),
  rfqId: new Uint8Array(8).fill(client),
  gateway: idBytes(SELF),
  priceMsatPerKiB: 150,
  termMs: 60_000,
  ...over,
});

function market() {
  const m = new GatewayMarket({ self: idHex(SELF), priceMsatPerKiB: 100, termMs: 120_000 });
  m.handle({ type: 'estimate', estimate }, 0);
  return m;
}

describe('gateway market', () => {
  it('bids its ask and never more than its spare', () => {
    const m = market();
    m.handle({ type: 'rfq', rfq: rfq(7) }, 10);
    expect(m.poll()).toEqual([
      {
        type: 'sendBid',
        to: idHex(7),
        body: { rfqId: rfq(7).rfqId, client: idBytes(7), priceMsatPerKiB: 100, capacityKbps: 4000, confidencePermille: 900, latencyMs: 15, termMs: 120_000 },
      },
    ]);
  });

  it('stays silent when it cannot win or serve', () => {
    const m = market();
    m.handle({ type: 'rfq', rfq: rfq(7, { maxPriceMsatPerKiB: 99 }) }, 0);
    m.handle({ type: 'rfq', rfq: rfq(SELF) }, 0);
    m.handle({ type: 'rfq', rfq: rfq(8, { ts: 60_000 }) }, 0);
    m.handle({ type: 'estimate', estimate: { ...estimate, spareKbps: 0 } }, 0);
    m.handle({ type: 'rfq', rfq: rfq(9) }, 0);
    expect(m.poll()).toEqual([]);
    expect(m.counters.noBid).toEqual({ price_above_max: 1, own_rfq: 1, stale_rfq: 1, no_capacity: 1 });
  });

  it('accepts an award for its bid at or above its ask, tracks it, and ends it at term end', () => {
    const m = market();
    m.handle({ type: 'rfq', rfq: rfq(7) }, 0);
    m.poll();
    m.handle({ type: 'award', award: award(7) }, 100);
    expect(m.poll()).toEqual([{ type: 'awardAccepted', client: idHex(7), priceMsatPerKiB: 150, termMs: 60_000, until: 60_100 }]);
    expect(m.pollTimeout()).toBe(60_100);
    // A client already served may get its current load back on top of the spare.
    m.handle({ type: 'clientLoad', client: idHex(7), kbps: 3000 }, 200);
    m.handle({ type: 'rfq', rfq: rfq(7, { rfqId: new Uint8Array(8).fill(77) }) }, 300);
    expect(m.poll()[0]).toMatchObject({ type: 'sendBid', body: { capacityKbps: 7000 } });
    m.handleTimeout(60_100);
    expect(m.poll()).toEqual([{ type: 'awardEnded', client: idHex(7) }]);
    expect(m.awards()).toEqual([]);
  });

  it('holds an accepted award\'s spare for its client until its load shows, or reserveMs passes', () => {
    const m = market(); // spare 4000
    m.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 1500 }) }, 0);
    m.handle({ type: 'award', award: award(7) }, 100);
    m.poll();
    const bidTo = (on: GatewayMarket, client: number, at: number) => {
      on.handle({ type: 'rfq', rfq: rfq(client, { rfqId: new Uint8Array(8).fill(at % 251) }) }, at);
      const e = on.poll()[0];
      return e?.type === 'sendBid' ? e.body.capacityKbps : 0;
    };
    expect(bidTo(m, 8, 200)).toBe(2500); // 1500 of the 4000 spare is client 7's
    m.handle({ type: 'clientLoad', client: idHex(7), kbps: 1000 }, 300);
    expect(bidTo(m, 8, 400)).toBe(3500); // 1000 of it shows as load (the next estimate takes it off the spare)
    expect(bidTo(m, 8, 5_100)).toBe(4000); // the reservation lapsed
    // A client that wants all it can get holds half the spare: the next one shares the uplink.
    const greedy = market();
    greedy.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 1_000_000 }) }, 0);
    greedy.handle({ type: 'award', award: award(7) }, 100);
    greedy.poll();
    expect(bidTo(greedy, 8, 200)).toBe(2000);
    const none = new GatewayMarket({ self: idHex(SELF), priceMsatPerKiB: 100, reserveMs: 0 });
    none.handle({ type: 'estimate', estimate }, 0);
    none.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 3000 }) }, 0);
    none.handle({ type: 'award', award: award(7, { termMs: 1000 }) }, 100);
    none.poll();
    none.handle({ type: 'rfq', rfq: rfq(8) }, 200);
    expect(none.poll()[0]).toMatchObject({ type: 'sendBid', body: { capacityKbps: 4000 } });
  });

  it('refuses awards it did not bid for, below its ask, too long, or for another gateway', () => {
    const m = market();
    m.handle({ type: 'rfq', rfq: rfq(7) }, 0);
    m.poll();
    m.handle({ type: 'award', award: award(8) }, 10);
    m.handle({ type: 'award', award: award(7, { priceMsatPerKiB: 99 }) }, 10);
    m.handle({ type: 'award', award: award(7, { termMs: 120_001 }) }, 10);
    m.handle({ type: 'award', award: award(7, { gateway: idBytes(2) }) }, 10);
    m.handle({ type: 'award', award: award(7) }, 20_000); // the bid expired
    expect(m.poll().map((e) => e.type === 'awardRefused' && e.reason)).toEqual([
      'unknown_rfq',
      'underpaid',
      'term_too_long',
      'not_for_us',
      'unknown_rfq',
    ]);
  });

  describe('reclaiming', () => {
    // Capacity 10,000 with 9,000 in use: client 2 pays 130 for 5000, client 3 pays 110 for 4000.
    const full = (opts: { reclaim?: boolean } = {}) => {
      const m = new GatewayMarket({ self: idHex(SELF), priceMsatPerKiB: 100, termMs: 120_000, reserveMs: 0, ...opts });
      m.handle({ type: 'estimate', estimate: { ...estimate, spareKbps: 10_000 } }, 0);
      for (const [c, price, kbps] of [[2, 130, 5000], [3, 110, 4000]] as const) {
        m.handle({ type: 'rfq', rfq: rfq(c, { wantedKbps: kbps }) }, 0);
        m.handle({ type: 'award', award: award(c, { priceMsatPerKiB: price }) }, 0);
        m.handle({ type: 'clientLoad', client: idHex(c), kbps }, 0);
      }
      m.handle({ type: 'estimate', estimate: { ...estimate, spareKbps: 1000 } }, 0);
      m.poll();
      return m;
    };

    it('bids the lowest payers\' capacity at one above their price, and re-quotes them when awarded', () => {
      const m = full();
      m.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 3000, maxPriceMsatPerKiB: 200 }) }, 10);
      expect(m.poll()).toEqual([
        {
          type: 'sendBid',
          to: idHex(7),
          body: { rfqId: rfq(7).rfqId, client: idBytes(7), priceMsatPerKiB: 111, capacityKbps: 5000, confidencePermille: 900, latencyMs: 15, termMs: 120_000 },
        },
      ]);
      expect(m.counters.reclaimBids).toBe(1);
      m.handle({ type: 'award', award: award(7, { priceMsatPerKiB: 125 }) }, 20);
      expect(m.poll()).toEqual([
        { type: 'awardAccepted', client: idHex(7), priceMsatPerKiB: 125, termMs: 60_000, until: 60_020 },
        {
          type: 'reclaimed',
          client: idHex(3),
          body: { rfqId: rfq(3).rfqId, client: idBytes(3), priceMsatPerKiB: 125, capacityKbps: 0, confidencePermille: 900, latencyMs: 15, termMs: 0 },
        },
      ]);
      expect(m.awards().map((a) => a.client)).toEqual([idHex(2), idHex(7)]);
    });

    it('takes more occupants when one is not enough, and prices above the highest taken', () => {
      const m = full();
      m.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 8000, maxPriceMsatPerKiB: 200 }) }, 10);
      expect(m.poll()[0]).toMatchObject({ type: 'sendBid', body: { priceMsatPerKiB: 131, capacityKbps: 10_000 } });
      m.handle({ type: 'award', award: award(7, { priceMsatPerKiB: 131 }) }, 20);
      expect(m.poll().flatMap((e) => (e.type === 'reclaimed' ? [e.client] : []))).toEqual([idHex(3), idHex(2)]);
    });

    it('bids only its spare, at its ask, when the client cannot outbid the occupants', () => {
      const m = full();
      m.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 3000, maxPriceMsatPerKiB: 110 }) }, 10);
      expect(m.poll()[0]).toMatchObject({ type: 'sendBid', body: { priceMsatPerKiB: 100, capacityKbps: 1000 } });
      expect(m.counters.reclaimBids).toBe(0);
    });

    it('never takes an occupant without traffic, nor one that renewed at a price as high meanwhile', () => {
      const m = full();
      m.handle({ type: 'clientLoad', client: idHex(3), kbps: 0 }, 5);
      m.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 3000, maxPriceMsatPerKiB: 200 }) }, 10);
      expect(m.poll()[0]).toMatchObject({ type: 'sendBid', body: { priceMsatPerKiB: 131, capacityKbps: 6000 } });
      // Client 2 renews at 140 before client 7 awards at 135: client 2 keeps its award.
      m.handle({ type: 'rfq', rfq: rfq(2, { rfqId: new Uint8Array(8).fill(22), wantedKbps: 5000 }) }, 15);
      m.handle({ type: 'award', award: award(2, { rfqId: new Uint8Array(8).fill(22), priceMsatPerKiB: 140 }) }, 16);
      m.poll();
      m.handle({ type: 'award', award: award(7, { priceMsatPerKiB: 135 }) }, 20);
      expect(m.poll().map((e) => e.type)).toEqual(['awardAccepted']);
      expect(m.awards().map((a) => a.client).sort()).toEqual([idHex(2), idHex(3), idHex(7)].sort());
    });

    it('an award below the reclaiming bid is refused and reclaims nothing', () => {
      const m = full();
      m.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 3000, maxPriceMsatPerKiB: 200 }) }, 10);
      m.poll();
      m.handle({ type: 'award', award: award(7, { priceMsatPerKiB: 110 }) }, 20);
      expect(m.poll()).toEqual([{ type: 'awardRefused', client: idHex(7), reason: 'underpaid' }]);
      expect(m.awards()).toHaveLength(2);
    });

    it('off: the spare at the ask, as before', () => {
      const m = full({ reclaim: false });
      m.handle({ type: 'rfq', rfq: rfq(7, { wantedKbps: 3000, maxPriceMsatPerKiB: 200 }) }, 10);
      expect(m.poll()[0]).toMatchObject({ type: 'sendBid', body: { priceMsatPerKiB: 100, capacityKbps: 1000 } });
    });
  });

  it('fuzz: bids never exceed the estimate; awards only follow bids; tables stay bounded', () => {
    const input: fc.Arbitrary<GatewayMarketInput> = fc.oneof(
      fc.record({ capacityKbps: fc.nat(50_000), spareKbps: fc.nat(50_000) }).map(({ capacityKbps, spareKbps }) => ({
        type: 'estimate' as const,
        estimate: { ...estimate, capacityKbps, spareKbps },
      })),
      fc.record({ c: fc.integer({ min: 2, max: 40 }), kbps: fc.oneof(fc.nat(50_000), fc.double()) }).map(({ c, kbps }) => ({
        type: 'clientLoad' as const,
        client: idHex(c),
        kbps,
      })),
      fc.record({ c: fc.integer({ min: 1, max: 40 }), max: fc.nat(300), ts: fc.nat(100_000) }).map(({ c, max, ts }) => ({
        type: 'rfq' as const,
        rfq: rfq(c, { maxPriceMsatPerKiB: max, ts }),
      })),
      fc.record({ c: fc.integer({ min: 1, max: 40 }), price: fc.nat(300), term: fc.nat(200_000) }).map(({ c, price, term }) => ({
        type: 'award' as const,
        award: award(c, { priceMsatPerKiB: price, termMs: term }),
      })),
    );
    fc.assert(
      fc.property(fc.array(fc.tuple(input, fc.nat(5000)), { maxLength: 150 }), (steps) => {
        const m = new GatewayMarket({ self: idHex(SELF), priceMsatPerKiB: 100, termMs: 120_000, maxAwards: 8, maxOutstandingBids: 8 });
        let now = 0;
        let cap = 0;
        for (const [inp, dt] of steps) {
          now += dt;
          if (inp.type === 'estimate') cap = inp.estimate.capacityKbps;
          const stamped: GatewayMarketInput =
            inp.type === 'rfq' ? { ...inp, rfq: { ...inp.rfq, ts: now } } : inp.type === 'award' ? { ...inp, award: { ...inp.award, ts: now } } : inp;
          const awardsBefore = new Map(m.awards().map((a) => [a.client, a.priceMsatPerKiB]));
          m.handle(stamped, now);
          if ((m.pollTimeout() ?? Infinity) <= now) m.handleTimeout(now);
          let accepted: number | undefined;
          for (const e of m.poll()) {
            if (e.type === 'sendBid') {
              expect(e.body.capacityKbps).toBeLessThanOrEqual(cap);
              expect(e.body.capacityKbps).toBeGreaterThan(0);
              expect(e.body.priceMsatPerKiB).toBeGreaterThanOrEqual(100);
              if (inp.type === 'rfq') expect(e.body.priceMsatPerKiB).toBeLessThanOrEqual(inp.rfq.maxPriceMsatPerKiB);
            }
            if (e.type === 'awardAccepted') {
              expect(e.priceMsatPerKiB).toBeGreaterThanOrEqual(100);
              accepted = e.priceMsatPerKiB;
            }
            if (e.type === 'reclaimed') {
              // Only right after an award that pays more than the occupant did, and its award is gone.
              const before = awardsBefore.get(e.client);
              expect(accepted).toBeDefined();
              expect(before).toBeDefined();
              expect(before!).toBeLessThan(accepted!);
              expect(e.body.priceMsatPerKiB).toBe(accepted);
              expect(e.body.capacityKbps).toBe(0);
              expect(m.awards().some((a) => a.client === e.client)).toBe(false);
            }
          }
          expect(m.awards().length).toBeLessThanOrEqual(8);
        }
      }),
    );
  });
});
