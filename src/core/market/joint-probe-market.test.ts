// Several real ClientMarkets on one gateway's uplink, shared max-min fairly: what a
// joint probe sees of an honest gateway and of one that claims three times its uplink
// when that uplink is more than any one client's path can pull.
import { describe, expect, it } from 'vitest';
import { allocateFair } from '../../sim/flow.js';
import { ClientMarket, type ClientMarketOptions } from './client-market.js';
import { idBytes, idHex, seededRng, MarketSim } from './market-sim.test-support.js';
import { ReputationTable } from './reputation.js';

const GW = 1;
const STEP_MS = 250;

interface Prober {
  readonly market: ClientMarket;
  readonly demandKbps: number;
  readonly pathKbps: number;
  probe?: { kbps: number; until: number };
  awarded: boolean;
  reports: number;
}

/**
 * `n` clients wanting 1 Mbit/s each over 10 Mbit/s paths, on one gateway with
 * `realKbps` claiming `claimKbps`. Solo probes spread over two minutes, as clients
 * awarded at different times would: two at once still pass, three might not.
 */
function run(realKbps: number, claimKbps: number, opts: Partial<ClientMarketOptions>, untilMs: number, n = 8): Prober[] {
  const offers = new MarketSim([], 0);
  const gw = { n: GW, priceMsatPerKiB: 100, claimKbps, realKbps, alive: true };
  const probers: Prober[] = Array.from({ length: n }, (_, i) => ({
    market: new ClientMarket({ self: idHex(100 + i), maxPriceMsatPerKiB: 1000, explorationRate: 0, probeDelayMaxMs: 120_000, ...opts }, new ReputationTable(), seededRng(100 + i)),
    demandKbps: 1000,
    pathKbps: 10_000,
    awarded: false,
    reports: 0,
  }));
  const drain = (p: Prober, now: number) => {
    for (let effects = p.market.poll(); effects.length > 0; effects = p.market.poll()) {
      for (const e of effects) {
        if (e.type === 'sendRfq') p.market.handle({ type: 'bid', bid: { ...offers.bid(gw, e.body.rfqId), client: idBytes(100 + probers.indexOf(p)), ts: now } }, now);
        else if (e.type === 'awardChanged') p.awarded = true;
        else if (e.type === 'stopPaying') p.awarded = false;
        else if (e.type === 'probe') p.probe = { kbps: e.kbps, until: e.until };
        else if (e.type === 'sendReport') p.reports++;
      }
    }
  };
  probers.forEach((p) => {
    p.market.handle({ type: 'linkQuality', gateway: idHex(GW), quality: 1, pathKbps: p.pathKbps }, 0);
    p.market.handle({ type: 'demand', wantedKbps: p.demandKbps }, 0);
    drain(p, 0);
  });
  let load = 0;
  for (let t = STEP_MS; t <= untilMs; t += STEP_MS) {
    if (t % 5000 === 0) {
      // The gateway's offer: its claim, and as spare the claim less what it carries.
      const offer = { ...offers.offer(gw), ts: t, spareKbps: Math.max(0, Math.floor(claimKbps - load)) };
      for (const p of probers) p.market.handle({ type: 'offer', offer }, t);
    }
    for (const p of probers) {
      const due = p.market.pollTimeout();
      if (due !== undefined && due <= t) p.market.handleTimeout(t);
      drain(p, t);
    }
    const probing = probers.map((p) => p.awarded && p.probe !== undefined && t <= p.probe.until);
    const pulls = probers.map((p, i) => (p.awarded ? Math.min(p.pathKbps, probing[i] ? Math.max(p.demandKbps, p.probe!.kbps) : p.demandKbps) : 0));
    const got = new Float64Array(probers.length);
    load = allocateFair(probers.map((_, i) => i), (i) => pulls[i]!, realKbps, got); // the simulator's max-min share
    probers.forEach((p, i) => {
      if (!p.awarded) return;
      const delivery = { type: 'delivery', gateway: idHex(GW), bytes: Math.floor((got[i]! * STEP_MS) / 8), backlogged: got[i]! < p.demandKbps - 1e-6 } as const;
      p.market.handle(probing[i] ? { ...delivery, probing: true } : delivery, t);
      drain(p, t);
    });
  }
  return probers;
}

describe('joint probe: several clients on one uplink', () => {
  // Real spare 22 Mbit/s, more than a 10 Mbit/s path pulls: no solo probe can fail.
  it('alone, no client can catch a liar whose real spare exceeds its path', () => {
    const ps = run(30_000, 90_000, { jointProbePeriodMs: 0 }, 300_000);
    expect(ps.every((p) => p.market.counters.probes > 0)).toBe(true);
    expect(ps.map((p) => p.market.counters.probesFailed)).toEqual(ps.map(() => 0));
  });

  it('together, at its slot, they pull all it claims, each gets about a third, and they report it', () => {
    const ps = run(30_000, 90_000, {}, 300_000);
    for (const p of ps) {
      expect(p.market.counters.jointProbes).toBeGreaterThan(0);
      expect(p.market.counters.probesFailed).toBeGreaterThan(0);
      expect(p.reports).toBeGreaterThan(0);
    }
  });

  it("an honest gateway's clients probing together each get their share, and pass", () => {
    // Advertises 0.9 of its 30 Mbit/s, as gateways do.
    const ps = run(30_000, 27_000, {}, 600_000);
    for (const p of ps) {
      expect(p.market.counters.jointProbes).toBeGreaterThanOrEqual(4);
      expect(p.market.counters.probesFailed).toBe(0);
      expect(p.reports).toBe(0);
    }
  });
});
