import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { CLIENT_MARKET_STATES, ClientMarket, TRANSITIONS, type ClientMarketInput } from './client-market.js';
import { MarketSim, idBytes, idHex, seededRng, type SimGateway } from './market-sim.test-support.js';
import { ReputationTable } from './reputation.js';

const gw = (n: number, price: number, claim: number, real = claim): SimGateway => ({
  n,
  priceMsatPerKiB: price,
  claimKbps: claim,
  realKbps: real,
  alive: true,
});

describe('client market: auction and award', () => {
  it('RFQ, bids for collectMs, then AWARD to the best at the second price', () => {
    const sim = new MarketSim([gw(1, 100, 8000), gw(2, 200, 20_000)], 100, { explorationRate: 0 });
    sim.demand(10_000);
    expect(sim.client.state).toBe('collecting');
    expect(sim.effects('sendRfq')).toHaveLength(1);
    sim.run(500);
    expect(sim.client.state).toBe('awarded');
    const [award] = sim.effects('sendAward');
    expect(award?.effect).toMatchObject({ to: idHex(1), body: { priceMsatPerKiB: 159, termMs: 300_000 } });
    expect(sim.effects('awardChanged')[0]?.effect).toMatchObject({ gateway: idHex(1), priceMsatPerKiB: 159, trial: false, renewed: false });
  });

  it('drops bids for another client or another RFQ, and late bids', () => {
    const rep = new ReputationTable();
    const c = new ClientMarket({ self: idHex(100), maxPriceMsatPerKiB: 1000 }, rep, seededRng(1));
    c.handle({ type: 'demand', wantedKbps: 1000 }, 0);
    const rfq = c.poll()[0];
    if (rfq?.type !== 'sendRfq') throw new Error('no rfq');
    const sim = new MarketSim([gw(1, 10, 1000)], 100);
    const good = sim.bid(sim.gateway(1), rfq.body.rfqId);
    c.handle({ type: 'bid', bid: { ...good, client: idBytes(101) } }, 10);
    c.handle({ type: 'bid', bid: { ...good, rfqId: new Uint8Array(8).fill(7) } }, 10);
    expect(c.counters.droppedBids).toBe(2);
    c.handleTimeout(500);
    expect(c.state).toBe('waiting'); // nothing usable arrived
    c.handle({ type: 'bid', bid: good }, 600);
    expect(c.counters.droppedBids).toBe(3);
    c.handleTimeout(499 + 5001);
    expect(c.state).toBe('collecting');
    expect(c.poll().map((e) => e.type)).toEqual(['sendRfq']);
  });

  it('no demand: stop paying and go idle', () => {
    const sim = new MarketSim([gw(1, 100, 8000)], 100);
    sim.demand(5000);
    sim.run(2000);
    expect(sim.current).toBe(1);
    sim.demand(0);
    expect(sim.client.state).toBe('idle');
    expect(sim.log.at(-1)?.effect).toEqual({ type: 'stopPaying', gateway: idHex(1), reason: 'no_demand' });
    expect(sim.client.pollTimeout()).toBeUndefined();
  });

  it('a re-quote from the gateway in force starts a re-auction, paying it meanwhile; it is not a failure', () => {
    const sim = new MarketSim([gw(1, 100, 8000), gw(2, 150, 8000)], 100, { explorationRate: 0 });
    sim.demand(5000);
    sim.run(10_000);
    expect(sim.current).toBe(1);
    const award = sim.client.award!;
    const requote = { ...sim.bid(sim.gateway(1), award.rfqId), capacityKbps: 0, priceMsatPerKiB: 180, termMs: 0 };
    // Capacity 0 for another rfqId, or from another gateway, is no re-quote: dropped.
    sim.client.handle({ type: 'bid', bid: { ...requote, rfqId: new Uint8Array(8).fill(9) } }, sim.now);
    sim.client.handle({ type: 'bid', bid: { ...requote, sender: idBytes(2) } }, sim.now);
    expect(sim.client.state).toBe('awarded');
    expect(sim.client.counters.droppedBids).toBe(2);
    const rfqsBefore = sim.effects('sendRfq').length;
    sim.client.handle({ type: 'bid', bid: requote }, sim.now);
    sim.drain(sim.now);
    expect(sim.client.counters.requotes).toBe(1);
    expect(sim.effects('sendRfq')).toHaveLength(rfqsBefore + 1);
    expect(sim.effects('stopPaying')).toHaveLength(0);
    expect(sim.client.counters.failures).toBe(0);
    // The gateway itself bids again in that auction (MarketSim answers for both); it wins again.
    sim.run(sim.now + 1000);
    expect(sim.client.state).toBe('awarded');
    expect(sim.current).toBe(1);
    expect(sim.client.award!.rfqId).not.toEqual(award.rfqId);
    expect(sim.client.counters.failures).toBe(0);
  });

  it('renews the incumbent at term end without a stop', () => {
    const sim = new MarketSim([gw(1, 100, 8000), gw(2, 100, 7000)], 100, { explorationRate: 0, maxTermMs: 60_000 });
    sim.demand(5000);
    sim.run(200_000);
    expect(sim.effects('stopPaying')).toHaveLength(0);
    const changes = sim.effects('awardChanged').map((e) => e.effect);
    expect(changes.length).toBe(4);
    expect(changes.every((e) => e.type === 'awardChanged' && e.gateway === idHex(1))).toBe(true);
    expect(changes.slice(1).every((e) => e.type === 'awardChanged' && e.renewed)).toBe(true);
  });
});

describe('client market: failover', () => {
  it('a gateway that stops delivering is no longer paid within one tick interval, and another is awarded', () => {
    const sim = new MarketSim([gw(1, 100, 10_000), gw(2, 120, 8000)], 100, { explorationRate: 0, failoverMs: 1000 });
    sim.demand(8000);
    sim.run(60_000);
    expect(sim.current).toBe(1);
    sim.gateway(1).alive = false;
    const diedAt = sim.now;
    sim.run(70_000);
    const stop = sim.effects('stopPaying')[0];
    expect(stop?.effect).toEqual({ type: 'stopPaying', gateway: idHex(1), reason: 'failure' });
    // The last delivery was at diedAt; one tick interval later (plus one report step) payment stops.
    expect(stop!.at - diedAt).toBeLessThanOrEqual(1000 + 250);
    const next = sim.effects('awardChanged').find((e) => e.at >= stop!.at);
    expect(next?.effect).toMatchObject({ gateway: idHex(2) });
    expect(next!.at - stop!.at).toBeLessThanOrEqual(500 + 250); // one bid collection
    expect(sim.current).toBe(2);
    // An outage is no evidence against its claims: no reputation sample.
    expect(sim.reputation.view(idHex(1), sim.now).ratio).toBe(1);
  });

  it('a gateway that fails again within the hour sits out twice as long', () => {
    // Gateway 1 is far better; after each ban it wins again, and is left again when it fails.
    const sim = new MarketSim([gw(1, 10, 10_000), gw(2, 120, 8000)], 100, { explorationRate: 0, failureBanMs: 60_000, minHoldMs: 1000, betterOfferRatio: 1.01 });
    sim.demand(8000);
    sim.run(10_000);
    const backAt = (after: number) => sim.effects('awardChanged').find((e) => e.at > after && e.effect.type === 'awardChanged' && e.effect.gateway === idHex(1))?.at;
    const failAndReturn = (): number => {
      sim.gateway(1).alive = false;
      const failedAt = sim.now;
      sim.run(sim.now + 5_000);
      sim.gateway(1).alive = true;
      sim.run(sim.now + 200_000);
      const back = backAt(failedAt);
      if (back === undefined) throw new Error('never awarded again');
      return back - failedAt;
    };
    const first = failAndReturn();
    const second = failAndReturn();
    expect(first).toBeGreaterThanOrEqual(60_000);
    expect(first).toBeLessThan(60_000 + 10_000);
    expect(second).toBeGreaterThanOrEqual(120_000);
    expect(second).toBeLessThan(120_000 + 10_000);
  });

  it('the failed gateway sits out the next auctions even when it bids best', () => {
    const sim = new MarketSim([gw(1, 10, 10_000), gw(2, 120, 8000)], 100, { explorationRate: 0, failureBanMs: 60_000 });
    sim.demand(8000);
    sim.run(10_000);
    sim.gateway(1).alive = false;
    sim.run(40_000);
    expect(sim.current).toBe(2);
    expect(sim.effects('awardChanged').filter((e) => e.effect.type === 'awardChanged' && e.effect.gateway === idHex(1))).toHaveLength(1);
  });

  it('after an award, waits startupGraceMs for the channel before calling it a failure', () => {
    const sim = new MarketSim([gw(1, 10, 10_000)], 100, { explorationRate: 0, startupGraceMs: 10_000 });
    sim.gateway(1).alive = false;
    sim.demand(8000);
    sim.run(9_000);
    expect(sim.effects('stopPaying')).toHaveLength(0);
    sim.run(11_000);
    expect(sim.effects('stopPaying').map((e) => e.at)).toEqual([10_500]);
  });

  it('the grace ends at the first byte delivered: a gateway dying then is left within one tick interval', () => {
    const sim = new MarketSim([gw(1, 10, 10_000), gw(2, 20, 10_000)], 100, { explorationRate: 0, startupGraceMs: 10_000, failoverMs: 1000 });
    sim.demand(8000);
    sim.run(2_000); // awarded at 500, traffic from the first report on
    expect(sim.current).toBe(1);
    sim.gateway(1).alive = false;
    sim.run(5_000);
    const stop = sim.effects('stopPaying')[0];
    expect(stop?.effect).toMatchObject({ gateway: idHex(1), reason: 'failure' });
    expect(stop!.at).toBeLessThanOrEqual(2_000 + 1000 + 250);
    expect(sim.current).toBe(2);
  });
});

describe('client market: hysteresis and exploration', () => {
  it('does not flap between two nearly equal gateways', () => {
    const noise = seededRng(7);
    const jitter = () => 0.97 + 0.06 * noise();
    const a = { ...gw(1, 100, 10_000), jitter };
    const b = { ...gw(2, 100, 10_300), jitter };
    const sim = new MarketSim([a, b], 100, { maxTermMs: 60_000 });
    sim.demand(20_000);
    sim.run(60 * 60_000);
    const switches = sim.client.counters.switches;
    // Besides at most one exploration trial and its way back, the client stays put.
    expect(sim.client.counters.auctions).toBeGreaterThan(50);
    expect(switches).toBeLessThanOrEqual(2);
  });

  it('switches early to a clearly better offer, but only after the minimum hold', () => {
    const sim = new MarketSim([gw(1, 100, 5000), gw(2, 500, 5000)], 100, { explorationRate: 0, minHoldMs: 30_000 });
    sim.demand(5000);
    sim.run(1000);
    expect(sim.current).toBe(1);
    sim.gateway(2).priceMsatPerKiB = 50; // twice as good from now on
    sim.run(29_000);
    expect(sim.current).toBe(1);
    sim.run(40_000);
    expect(sim.current).toBe(2);
    expect(sim.client.counters.betterOffers).toBe(1);
  });

  it('exploration gives a rarely-tried gateway a short trial at its own bid', () => {
    // Draws: 8 for the rfqId, then exploration (0 < rate) and the pick.
    const sim = new MarketSim([gw(1, 100, 10_000), gw(2, 100, 5000), gw(3, 100, 4000)], 100, { explorationRate: 1, trialTermMs: 60_000 }, () => 0);
    sim.demand(10_000);
    sim.run(500);
    const change = sim.effects('awardChanged')[0]?.effect;
    expect(change).toMatchObject({ gateway: idHex(2), priceMsatPerKiB: 100, trial: true, termMs: 60_000 });
    expect(sim.client.counters.explorations).toBe(1);
  });

  it('no exploration once every gateway has a record', () => {
    const sim = new MarketSim([gw(1, 100, 10_000), gw(2, 100, 5000)], 100, { explorationRate: 1, maxTermMs: 60_000, trialTermMs: 60_000 }, () => 0);
    sim.demand(10_000);
    sim.run(20 * 60_000);
    expect(sim.client.counters.explorations).toBe(1);
  });
});

describe('client market: reputation against over-claiming', () => {
  it('a gateway claiming 3× its real capacity loses ≥ 80 % of its awards within 10 minutes', () => {
    const clients = [101, 102, 103, 104, 105, 106, 107, 108];
    const sims = clients.map(
      (c) => new MarketSim([gw(1, 100, 15_000, 5000), gw(2, 100, 5000), gw(3, 100, 5000)], c, { maxTermMs: 120_000 }),
    );
    for (const s of sims) s.demand(20_000);
    // The liar's share of all award time in [from, to).
    const liarShare = (to: number) => {
      const total = (s: MarketSim) => [...s.awardedMs.values()].reduce((a, b) => a + b, 0);
      const before = sims.map((s) => [s.awardedMs.get(1) ?? 0, total(s)] as const);
      for (const s of sims) s.run(to);
      const liar = sims.reduce((sum, s, i) => sum + (s.awardedMs.get(1) ?? 0) - before[i]![0], 0);
      const all = sims.reduce((sum, s, i) => sum + total(s) - before[i]![1], 0);
      return liar / all;
    };
    const first = liarShare(10_000);
    expect(first).toBeGreaterThan(0.8); // its claim wins (nearly) every client at first
    liarShare(5 * 60_000);
    const late = liarShare(10 * 60_000);
    expect(late).toBeLessThanOrEqual(0.2 * first);
    expect(sims.filter((s) => s.current === 1)).toHaveLength(0);
    // Honest gateways keep a clean record.
    for (const s of sims) for (const n of [2, 3]) expect(s.reputation.discount(idHex(n), s.now)).toBeGreaterThan(0.95);
  });
});

describe('client market: shortfall', () => {
  // Gateway 1 claims 8 Mbit/s and carries 1.5; gateway 2 is dearer and honest.
  const short = () => new MarketSim([gw(1, 100, 8000, 1500), gw(2, 150, 8000)], 100, { explorationRate: 0, probeMs: 0 });

  it('a window under half of a stated rate the gateway claimed to carry re-auctions at once, still paying; no report', () => {
    const sim = short();
    sim.demand(5000);
    sim.run(600);
    expect(sim.current).toBe(1);
    const awardedAt = sim.effects('awardChanged')[0]!.at;
    sim.run(10_000);
    expect(sim.client.counters.shortfalls).toBe(1);
    // At the end of the first window (traffic flows at once here), long before minHoldMs.
    const rfqs = sim.effects('sendRfq').map((e) => e.at);
    expect(rfqs).toHaveLength(2);
    expect(rfqs[1]! - awardedAt).toBeGreaterThanOrEqual(2000);
    expect(rfqs[1]! - awardedAt).toBeLessThanOrEqual(2000 + 250);
    expect(sim.current).toBe(2);
    // Moved, not failed: no ban, no report.
    expect(sim.client.counters.failures).toBe(0);
    expect(sim.effects('sendReport')).toHaveLength(0);
    expect(sim.effects('stopPaying').map((e) => e.effect)).toEqual([{ type: 'stopPaying', gateway: idHex(1), reason: 'replaced' }]);
  });

  it('not when it gets half, nor for a client that wants more than the claim: that one shares', () => {
    const half = new MarketSim([gw(1, 100, 8000, 2600), gw(2, 150, 8000)], 100, { explorationRate: 0, probeMs: 0 });
    half.demand(5000);
    half.run(25_000); // within minHoldMs: its reputation alone cannot move us yet
    expect(half.client.counters.shortfalls).toBe(0);
    expect(half.current).toBe(1);
    // A channel that takes a while to open: the window in which traffic started is no sample of the gateway.
    const late = new MarketSim([gw(1, 100, 8000, 4000), gw(2, 150, 8000)], 100, { explorationRate: 0, probeMs: 0 });
    late.gateway(1).alive = false;
    late.demand(5000);
    late.run(1750);
    late.gateway(1).alive = true;
    late.run(20_000);
    expect(late.client.counters.shortfalls).toBe(0);
    expect(late.current).toBe(1);
    const greedy = short();
    greedy.demand(1_000_000); // as much as it can get: the claim, not its want, is the least
    greedy.run(20_000);
    expect(greedy.client.counters.shortfalls).toBe(0);
  });
});

describe('client market: capacity probe', () => {
  // Demand (2 Mbit/s) fits every gateway's real uplink: only a probe can tell a liar.
  const liar = () => gw(1, 90, 15_000, 5000);
  const honest = (n: number) => gw(n, 100, 5000);

  it('a satisfied client probes the claim, catches a 3× over-claimer and leaves it', () => {
    const sim = new MarketSim([liar(), honest(2)], 100, { explorationRate: 0 });
    sim.demand(2000);
    sim.run(500);
    expect(sim.current).toBe(1); // cheapest, and its claim looks fine at first
    sim.run(40_000);
    const [probe] = sim.effects('probe');
    expect(probe?.effect).toMatchObject({ type: 'probe', gateway: idHex(1), kbps: 15_000 });
    expect(sim.client.counters.probesFailed).toBe(1);
    expect(sim.current).toBe(2);
    expect(sim.reputation.discount(idHex(1), sim.now)).toBeLessThan(0.6);
  });

  it('an honest gateway, full or not, passes: its claim is its real spare', () => {
    for (const claim of [5000, 2600]) {
      const sim = new MarketSim([gw(1, 90, claim, claim)], 100, { explorationRate: 0 });
      sim.demand(2000);
      sim.run(60_000);
      expect(sim.effects('probe')).toHaveLength(1);
      expect(sim.client.counters.probesFailed).toBe(0);
      expect(sim.current).toBe(1);
      expect(sim.reputation.discount(idHex(1), sim.now)).toBe(1);
    }
  });

  it('does not probe a claim that barely exceeds the demand, nor with probing off', () => {
    const near = new MarketSim([gw(1, 90, 2400, 800)], 100, { explorationRate: 0 });
    near.demand(2000);
    near.run(60_000);
    expect(near.effects('probe')).toHaveLength(0);
    const off = new MarketSim([liar()], 100, { explorationRate: 0, probeMs: 0 });
    off.demand(2000);
    off.run(60_000);
    expect(off.effects('probe')).toHaveLength(0);
  });

  it('an agent that ignores the probe effect gives no probe sample', () => {
    const sim = new MarketSim([{ ...liar(), ignoreProbes: true }, honest(2)], 100, { explorationRate: 0 });
    sim.demand(2000);
    sim.run(60_000);
    expect(sim.effects('probe').length).toBeGreaterThan(0);
    expect(sim.client.counters.probesFailed).toBe(0);
    expect(sim.current).toBe(1);
    expect(sim.reputation.view(idHex(1), sim.now).samples).toBe(0);
  });

  it('starts within probeDelayMaxMs of the award, once traffic flows', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 1000 }), (seed) => {
        const sim = new MarketSim([liar()], 100, { explorationRate: 0 }, seededRng(seed));
        sim.demand(2000);
        sim.run(30_000);
        const award = sim.effects('awardChanged')[0]!;
        const probe = sim.effects('probe')[0]!;
        expect(probe.at).toBeGreaterThan(award.at);
        expect(probe.at - award.at).toBeLessThanOrEqual(20_000 + 250);
      }),
      { numRuns: 30 },
    );
  });
});

describe('client market: reports', () => {
  // The client's demand fits the liar's real uplink: its own windows cannot tell.
  const liar = () => gw(1, 90, 15_000, 5000);
  const honest = (n: number) => gw(n, 100, 5000);
  const report = (reporter: number, delivered = 3000, target = 15_000) =>
    ({ type: 'report', reporter: idHex(reporter), gateway: idHex(1), deliveredKbps: delivered, targetKbps: target }) as const;

  it('a probe far under its target asks for a report; one merely under the pass ratio does not', () => {
    const sim = new MarketSim([liar(), honest(2)], 100, { explorationRate: 0 });
    sim.demand(2000);
    sim.run(40_000);
    expect(sim.client.counters.probesFailed).toBe(1);
    expect(sim.effects('sendReport').map((e) => e.effect)).toEqual([{ type: 'sendReport', gateway: idHex(1), deliveredKbps: 5000, targetKbps: 15_000 }]);
    // 0.45 of the claim: fails the probe (pass ratio 0.5), but two clients probing an
    // honest uplink at once can get that: no report.
    const near = new MarketSim([gw(1, 90, 10_000, 4500), honest(2)], 100, { explorationRate: 0 });
    near.demand(2000);
    near.run(40_000);
    expect(near.client.counters.probesFailed).toBe(1);
    expect(near.effects('sendReport')).toHaveLength(0);
  });

  it('not reported when the gateway’s next offer shows it filled up: congestion, not a lie', () => {
    const sim = new MarketSim([liar(), honest(2)], 100, { explorationRate: 0 });
    sim.demand(2000);
    sim.run(500);
    let failedAt: number | undefined;
    while (sim.now < 40_000 && failedAt === undefined) {
      sim.run(sim.now + 250, 250, 1_000_000); // no offers meanwhile
      if (sim.client.counters.probesFailed > 0) failedAt = sim.now;
    }
    expect(failedAt).toBeDefined();
    sim.gateway(1).claimKbps = 500; // its next offer: 500 kbit/s spare, under half the shortfall
    sim.client.handle({ type: 'offer', offer: sim.offer(sim.gateway(1)) }, sim.now);
    sim.drain(sim.now);
    expect(sim.effects('sendReport')).toHaveLength(0);
    expect(sim.client.counters.reportsWithdrawn).toBe(1);
  });

  it('three distinct reporters make a client leave a liar it cannot test itself, and keep it out', () => {
    const sim = new MarketSim([{ ...liar(), ignoreProbes: true }, honest(2)], 100, { explorationRate: 0 });
    sim.demand(2000);
    sim.run(60_000);
    expect(sim.current).toBe(1);
    sim.client.handle(report(50), sim.now);
    sim.client.handle(report(50), sim.now); // the same reporter again: one vote
    sim.client.handle(report(51), sim.now);
    sim.run(sim.now + 5_000);
    expect(sim.client.counters.reportBans).toBe(0); // two reporters are not enough for a ban…
    expect(sim.reputation.discount(idHex(1), sim.now)).toBeLessThan(0.7); // …but each is evidence
    sim.client.handle(report(52), sim.now);
    sim.run(sim.now + 5_000);
    expect(sim.client.counters.reportBans).toBe(1);
    expect(sim.current).toBe(2);
    const bannedAt = sim.now;
    sim.run(sim.now + 9 * 60_000); // the liar stays out for reportBanMs, though it bids cheapest
    expect(sim.current).toBe(2);
    expect(sim.effects('awardChanged').filter((e) => e.effect.type === 'awardChanged' && e.effect.gateway === idHex(1) && e.at > bannedAt)).toHaveLength(0);
  });

  it('ignores reports that show no clear shortfall, our own, and all of them with reportWeight 0', () => {
    const sim = new MarketSim([{ ...liar(), ignoreProbes: true }, honest(2)], 100, { explorationRate: 0 });
    sim.demand(2000);
    sim.run(60_000);
    for (let r = 50; r < 55; r++) sim.client.handle(report(r, 7000), sim.now); // 0.47 of the target
    sim.client.handle(report(100), sim.now); // ourselves
    expect(sim.client.counters.reportsHeard).toBe(0);
    expect(sim.reputation.view(idHex(1), sim.now).samples).toBe(0);
    const off = new MarketSim([{ ...liar(), ignoreProbes: true }, honest(2)], 100, { explorationRate: 0, reportWeight: 0 });
    off.demand(2000);
    off.run(60_000);
    for (let r = 50; r < 55; r++) off.client.handle(report(r), off.now);
    off.run(off.now + 5_000);
    expect(off.current).toBe(1);
    expect(off.client.counters.reportsHeard).toBe(0);
  });
});

describe('client market: state machine fuzz', () => {
  const inputArb = (rfqIds: Uint8Array[]): fc.Arbitrary<ClientMarketInput | { type: 'timeout' }> =>
    fc.oneof(
      fc.record({ type: fc.constant('demand' as const), wantedKbps: fc.oneof(fc.constant(0), fc.integer({ min: 1, max: 50_000 }), fc.double()) }),
      fc.record({
        type: fc.constant('bid' as const),
        gw: fc.integer({ min: 1, max: 5 }),
        price: fc.integer({ min: 0, max: 2000 }),
        cap: fc.integer({ min: 0, max: 50_000 }),
        term: fc.nat(1_000_000),
        useRfq: fc.boolean(),
        otherClient: fc.boolean(),
      }).map(({ gw: n, price, cap, term, useRfq, otherClient }) => ({
        type: 'bid' as const,
        bid: {
          sender: idBytes(n),
          ts: 0,
          nonce: new Uint8Array(8),
          rfqId: useRfq && rfqIds.length > 0 ? rfqIds[rfqIds.length - 1]! : new Uint8Array(8),
          client: idBytes(otherClient ? 101 : 100),
          priceMsatPerKiB: price,
          capacityKbps: cap,
          confidencePermille: 500,
          latencyMs: 10,
          termMs: term,
        },
      })),
      fc.record({ type: fc.constant('linkQuality' as const), gateway: fc.integer({ min: 1, max: 5 }).map(idHex), quality: fc.double() }),
      fc.record({
        type: fc.constant('delivery' as const),
        gateway: fc.integer({ min: 1, max: 5 }).map(idHex),
        bytes: fc.oneof(fc.nat(1_000_000), fc.double()),
        backlogged: fc.boolean(),
        probing: fc.boolean(),
      }),
      fc.record({ type: fc.constant('offer' as const), gw: fc.integer({ min: 1, max: 5 }), price: fc.nat(2000), spare: fc.nat(50_000), seq: fc.nat(100) }).map(
        ({ gw: n, price, spare, seq }) => ({ type: 'offer' as const, offer: { ...new MarketSim([], 100).offer(gw(n, price, spare)), seq } }),
      ),
      fc.record({
        type: fc.constant('report' as const),
        reporter: fc.integer({ min: 50, max: 53 }).map(idHex),
        gateway: fc.integer({ min: 1, max: 5 }).map(idHex),
        deliveredKbps: fc.oneof(fc.nat(20_000), fc.double()),
        targetKbps: fc.oneof(fc.nat(20_000), fc.double()),
      }),
      fc.constant({ type: 'timeout' as const }),
    );

  it('never throws; state, award and effects stay consistent', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(5000), fc.nat()), { maxLength: 120 }), fc.nat(), (steps, seed) => {
        const c = new ClientMarket({ self: idHex(100), maxPriceMsatPerKiB: 1000 }, new ReputationTable({ maxEntries: 4 }), seededRng(seed));
        const rfqIds: Uint8Array[] = [];
        let paying: string | undefined;
        let now = 0;
        for (const [dt, pick] of steps) {
          now += dt;
          const input = fc.sample(inputArb(rfqIds), { seed: pick, numRuns: 1 })[0]!;
          if (input.type === 'timeout') {
            const due = c.pollTimeout();
            if (due !== undefined) c.handleTimeout(Math.max(now, Math.min(due, now + 100_000)));
          } else c.handle(input, now);
          for (const e of c.poll()) {
            if (e.type === 'sendRfq') rfqIds.push(e.body.rfqId);
            if (e.type === 'stopPaying') {
              expect(e.gateway).toBe(paying);
              paying = undefined;
            }
            if (e.type === 'awardChanged') {
              if (!e.renewed) expect(paying).toBeUndefined();
              paying = e.gateway;
              expect(e.priceMsatPerKiB).toBeLessThanOrEqual(1000);
              expect(e.until).toBeGreaterThan(now - 1);
            }
          }
          expect(CLIENT_MARKET_STATES).toContain(c.state);
          const awardedState = c.state === 'awarded' || c.state === 'reauctioning';
          expect(c.award !== undefined).toBe(awardedState);
          expect(c.award?.gateway).toBe(paying);
          const due = c.pollTimeout();
          if (c.state !== 'idle') expect(due).toBeDefined();
        }
      }),
      { numRuns: 300 },
    );
  });

  it('the transition table names only known states', () => {
    for (const [from, edges] of Object.entries(TRANSITIONS)) {
      expect(CLIENT_MARKET_STATES).toContain(from);
      for (const to of Object.values(edges)) expect(CLIENT_MARKET_STATES).toContain(to);
    }
  });
});
