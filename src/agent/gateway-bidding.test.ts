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

function bidding(price = 100, selling = true, measured: () => CapabilityEstimate = () => estimate, options?: { reserveMs: number }) {
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
  it('measures each client\'s load from its channels, and re-quotes an occupant a client outbids', () => {
    const occupant = new Uint8Array(32).fill(3);
    let spare = 6000;
    const served = new Map<string, number>();
    const sent: { to: string; body: Omit<BidBody, 'sender' | 'ts' | 'nonce'> }[] = [];
    const events: { kind: string; details: Record<string, unknown> }[] = [];
    let now = 1_000_000;
    const b = new GatewayBidding({
      self: bytesToHex(self),
      clock: () => now,
      log: silentLogger,
      estimate: () => ({ ...estimate, spareKbps: spare }),
      price: () => 100,
      selling: () => true,
      sendBid: (to, body) => sent.push({ to, body }),
      onEvent: (kind, details) => events.push({ kind, details }),
      servedByClient: () => new Map(served),
      options: { reserveMs: 0 },
    });
    const occupantRfq = new Uint8Array(8).fill(3);
    b.onRfq({ sender: occupant, rfqId: occupantRfq, wantedKbps: 6000, maxPriceMsatPerKiB: 1000, ts: now });
    b.onAward({ sender: occupant, ts: now, nonce: new Uint8Array(8), rfqId: occupantRfq, gateway: self, priceMsatPerKiB: 120, termMs: 60_000 });
    // Its channel serves 1.5 MB over 2 s: 6000 kbit/s, the whole spare.
    served.set(bytesToHex(occupant), 0);
    b.sampleLoads();
    now += 2000;
    served.set(bytesToHex(occupant), 1_500_000);
    b.sampleLoads();
    spare = 0;
    sent.length = 0;
    b.onRfq({ sender: client, rfqId: new Uint8Array(8).fill(9), wantedKbps: 4000, maxPriceMsatPerKiB: 1000, ts: now });
    expect(sent).toEqual([{ to: bytesToHex(client), body: expect.objectContaining({ priceMsatPerKiB: 121, capacityKbps: 6000 }) }]);
    b.onAward({ sender: client, ts: now, nonce: new Uint8Array(8), rfqId: new Uint8Array(8).fill(9), gateway: self, priceMsatPerKiB: 150, termMs: 60_000 });
    expect(sent[1]).toEqual({
      to: bytesToHex(occupant),
      body: { rfqId: occupantRfq, client: occupant, priceMsatPerKiB: 150, capacityKbps: 0, confidencePermille: 800, latencyMs: 12, termMs: 0 },
    });
    expect(events.map((e) => [e.kind, e.details['reason']])).toContainEqual(['award_lost', 'reclaimed']);
    expect(b.status().awards.map((a) => a.client)).toEqual([bytesToHex(client)]);
    b.stop();
  });

  it('a client whose channels are gone is at no load: nothing of it to reclaim', () => {
    const occupant = new Uint8Array(32).fill(3);
    const served = new Map<string, number>([[bytesToHex(occupant), 0]]);
    let now = 1_000_000;
    const sent: Omit<BidBody, 'sender' | 'ts' | 'nonce'>[] = [];
    const b = new GatewayBidding({
      self: bytesToHex(self),
      clock: () => now,
      log: silentLogger,
      estimate: () => ({ ...estimate, spareKbps: 0 }),
      price: () => 100,
      selling: () => true,
      sendBid: (_to, body) => sent.push(body),
      onEvent: () => {},
      servedByClient: () => new Map(served),
    });
    const occupantRfq = new Uint8Array(8).fill(3);
    b.onRfq({ sender: occupant, rfqId: occupantRfq, wantedKbps: 6000, maxPriceMsatPerKiB: 1000, ts: now });
    b.onAward({ sender: occupant, ts: now, nonce: new Uint8Array(8), rfqId: occupantRfq, gateway: self, priceMsatPerKiB: 120, termMs: 60_000 });
    b.sampleLoads();
    now += 2000;
    served.set(bytesToHex(occupant), 1_500_000);
    b.sampleLoads();
    now += 2000;
    served.delete(bytesToHex(occupant));
    b.sampleLoads();
    sent.length = 0;
    b.onRfq({ sender: client, rfqId: new Uint8Array(8).fill(9), wantedKbps: 4000, maxPriceMsatPerKiB: 1000, ts: now });
    expect(sent).toEqual([]);
    b.stop();
  });
});
