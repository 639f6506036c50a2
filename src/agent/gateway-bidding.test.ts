import { bytesToHex } from '@noble/hashes/utils.js';
import { describe, expect, it } from 'vitest';
import type { CapabilityEstimate } from '../core/market/capability.js';
import type { BidBody, OfferBody } from '../core/wire/messages.js';
import { channelSize } from './client-auction.js';
import { GatewayBidding } from './gateway-bidding.js';
import { silentLogger } from './log.js';

const self = new Uint8Array(32).fill(1);
const client = new Uint8Array(32).fill(2);
const estimate: CapabilityEstimate = { capacityKbps: 8000, spareKbps: 6000, confidencePermille: 800, latencyMs: 12, lossPermille: 0, uptimeS: 60 };

function bidding(
  price = 100,
  selling = true,
  measured: () => CapabilityEstimate = () => estimate,
  options?: { reserveMs: number },
  servedByClient?: () => ReadonlyMap<string, number>,
) {
  const sent: { to: string; body: Omit<BidBody, 'sender' | 'ts' | 'nonce'> }[] = [];
  const events: { kind: string; details: Record<string, unknown> }[] = [];
  let now = 1_000_000;
  const b = new GatewayBidding({
    self: bytesToHex(self),
    clock: () => now,
    log: silentLogger,
    estimate: () => measured(),
    price: () => price,
    selling: () => selling,
    sendBid: (to, body) => sent.push({ to, body }),
    onEvent: (kind, details) => events.push({ kind, details }),
    ...(options ? { options } : {}),
    ...(servedByClient ? { servedByClient } : {}),
  });
  return { b, sent, events, advance: (ms: number) => (now += ms), now: () => now };
}

const rfq = (ts: number, maxPrice = 1000) => ({ sender: client, rfqId: new Uint8Array(8).fill(9), wantedKbps: 1_000_000, maxPriceMsatPerKiB: maxPrice, ts });

describe('the gateway answers RFQs from its estimate and price', () => {
  it('bids its ask and never more than its spare capacity, and accepts the award', () => {
    const t = bidding(100);
    t.b.onRfq(rfq(t.now()));
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.to).toBe(bytesToHex(client));
    expect(t.sent[0]!.body.priceMsatPerKiB).toBe(100);
    expect(t.sent[0]!.body.capacityKbps).toBe(6000);
    t.b.onAward({ sender: client, ts: t.now(), nonce: new Uint8Array(8), rfqId: new Uint8Array(8).fill(9), gateway: self, priceMsatPerKiB: 150, termMs: 60_000 });
    expect(t.events.map((e) => e.kind)).toEqual(['award_won']);
    expect(t.b.status().awards).toHaveLength(1);
    t.b.stop();
  });

  it('does not bid above the client max price or while selling is paused', () => {
    const cheap = bidding(100);
    cheap.b.onRfq(rfq(cheap.now(), 50));
    expect(cheap.sent).toHaveLength(0);
    const paused = bidding(100, false);
    paused.b.onRfq(rfq(paused.now()));
    expect(paused.sent).toHaveLength(0);
    expect(paused.b.status().counters.noBid.paused).toBe(1);
  });

  it('refuses an award paying less than its ask', () => {
    const t = bidding(100);
    t.b.onRfq(rfq(t.now()));
    t.b.onAward({ sender: client, ts: t.now(), nonce: new Uint8Array(8), rfqId: new Uint8Array(8).fill(9), gateway: self, priceMsatPerKiB: 99, termMs: 60_000 });
    expect(t.events).toEqual([]);
    expect(t.b.status().counters.refused.underpaid).toBe(1);
  });
});

describe('an accepted award holds the spare its bid promised (market.reserve_ms)', () => {
  const other = new Uint8Array(32).fill(3);
  /** Client 2 asks for 2 Mbit/s (of our 6 spare) and awards us; then client 3 asks; returns what we bid client 3. */
  const bidToOtherAfter = (t: ReturnType<typeof bidding>, ms: number) => {
    t.b.onRfq({ ...rfq(t.now()), wantedKbps: 2000 });
    t.b.onAward({ sender: client, ts: t.now(), nonce: new Uint8Array(8), rfqId: new Uint8Array(8).fill(9), gateway: self, priceMsatPerKiB: 100, termMs: 60_000 });
    t.advance(ms);
    t.b.onRfq({ ...rfq(t.now()), sender: other, rfqId: new Uint8Array(8).fill(7) });
    t.b.stop();
    return t.sent.find((x) => x.to === bytesToHex(other))?.body.capacityKbps;
  };

  it('bids to others offer only the rest for reserve_ms, then all the spare again', () => {
    expect(bidToOtherAfter(bidding(100, true, () => estimate, { reserveMs: 5000 }), 1000)).toBe(4000);
    expect(bidToOtherAfter(bidding(100, true, () => estimate, { reserveMs: 5000 }), 5000)).toBe(6000);
    expect(bidToOtherAfter(bidding(100, true, () => estimate), 4000)).toBe(4000); // the market's default, 5 s
  });

  it('reserve_ms 0 holds nothing', () => {
    expect(bidToOtherAfter(bidding(100, true, () => estimate, { reserveMs: 0 }), 0)).toBe(6000);
  });
});

describe('RFQs heard before the uplink is measured', () => {
  const unmeasured: CapabilityEstimate = { ...estimate, capacityKbps: 0, spareKbps: 0, confidencePermille: 0 };

  it('are answered once a probe gives a capacity, if they are recent', () => {
    let e = unmeasured;
    const t = bidding(100, true, () => e);
    t.b.onRfq(rfq(t.now()));
    expect(t.sent).toHaveLength(0);
    t.b.retryUnanswered(); // still nothing measured: still no bid
    expect(t.sent).toHaveLength(0);
    t.advance(400);
    e = estimate;
    t.b.retryUnanswered();
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]!.body.capacityKbps).toBe(6000);
    t.b.retryUnanswered(); // answered once
    expect(t.sent).toHaveLength(1);
    t.b.stop();
  });

  it('are forgotten when old: the client has closed its auction', () => {
    let e = unmeasured;
    const t = bidding(100, true, () => e);
    t.b.onRfq(rfq(t.now()));
    t.advance(5_000);
    e = estimate;
    t.b.retryUnanswered();
    expect(t.sent).toHaveLength(0);
  });

  it('keep at most one RFQ per client and a bounded number in all', () => {
    let e = unmeasured;
    const t = bidding(100, true, () => e);
    for (let i = 0; i < 200; i++) {
      const sender = new Uint8Array(32).fill(3);
      sender[0] = i;
      t.b.onRfq({ ...rfq(t.now()), sender });
      t.b.onRfq({ ...rfq(t.now()), sender, rfqId: new Uint8Array(8).fill(i) });
    }
    e = estimate;
    t.b.retryUnanswered();
    expect(t.sent.length).toBeLessThanOrEqual(64);
    expect(new Set(t.sent.map((x) => x.to)).size).toBe(t.sent.length);
  });
});

describe('channel size for an awarded gateway', () => {
  const offer = (o: Partial<OfferBody>) => ({ minChannelSat: 1000, maxChannelSat: 10_000_000, zeroConfCapSat: 100_000, ...o }) as OfferBody;
  it('stays within the zero-conf cap so the channel opens without waiting for a block', () => {
    expect(channelSize(undefined)).toBe(50_000);
    expect(channelSize(offer({}))).toBe(50_000);
    expect(channelSize(offer({ zeroConfCapSat: 20_000 }))).toBe(20_000);
    expect(channelSize(offer({ zeroConfCapSat: 0, maxChannelSat: 30_000 }))).toBe(30_000);
    expect(channelSize(offer({ zeroConfCapSat: 500, minChannelSat: 2000 }))).toBe(2000);
  });
});

describe('reclaiming, wired', () => {
  const occupant = new Uint8Array(32).fill(3);
  const occupantRfq = new Uint8Array(8).fill(3);
  /** A gateway whose one occupant (paying 120) uses its whole spare: 1.5 MB served over 2 s, 6000 kbit/s. */
  function occupied(served: Map<string, number>) {
    let spare = 6000;
    const t = bidding(100, true, () => ({ ...estimate, spareKbps: spare }), { reserveMs: 0 }, () => new Map(served));
    t.b.onRfq({ sender: occupant, rfqId: occupantRfq, wantedKbps: 6000, maxPriceMsatPerKiB: 1000, ts: t.now() });
    t.b.onAward({ sender: occupant, ts: t.now(), nonce: new Uint8Array(8), rfqId: occupantRfq, gateway: self, priceMsatPerKiB: 120, termMs: 60_000 });
    served.set(bytesToHex(occupant), 0);
    t.b.sampleLoads();
    t.advance(2000);
    served.set(bytesToHex(occupant), 1_500_000);
    t.b.sampleLoads();
    spare = 0;
    t.sent.length = 0;
    return t;
  }
  const newcomer = (ts: number) => ({ sender: client, rfqId: new Uint8Array(8).fill(9), wantedKbps: 4000, maxPriceMsatPerKiB: 1000, ts });

  it('measures each client\'s load from its channels, and re-quotes an occupant a client outbids', () => {
    const t = occupied(new Map());
    t.b.onRfq(newcomer(t.now()));
    expect(t.sent).toEqual([{ to: bytesToHex(client), body: expect.objectContaining({ priceMsatPerKiB: 121, capacityKbps: 6000 }) }]);
    t.b.onAward({ sender: client, ts: t.now(), nonce: new Uint8Array(8), rfqId: new Uint8Array(8).fill(9), gateway: self, priceMsatPerKiB: 150, termMs: 60_000 });
    expect(t.sent[1]).toEqual({
      to: bytesToHex(occupant),
      body: { rfqId: occupantRfq, client: occupant, priceMsatPerKiB: 150, capacityKbps: 0, confidencePermille: 800, latencyMs: 12, termMs: 0 },
    });
    expect(t.events.map((e) => [e.kind, e.details['reason']])).toContainEqual(['award_lost', 'reclaimed']);
    expect(t.b.status().awards.map((a) => a.client)).toEqual([bytesToHex(client)]);
    t.b.stop();
  });

  it('a client whose channels are gone is at no load: nothing of it to reclaim', () => {
    const served = new Map<string, number>();
    const t = occupied(served);
    t.advance(2000);
    served.delete(bytesToHex(occupant));
    t.b.sampleLoads();
    t.b.onRfq(newcomer(t.now()));
    expect(t.sent).toEqual([]);
    t.b.stop();
  });
});
