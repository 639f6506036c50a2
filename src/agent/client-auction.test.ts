import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { RfqBody } from '../core/wire/messages.js';
import type { ChannelManager } from './channel-manager.js';
import { ClientAuction, type ClientAuctionEventKind } from './client-auction.js';
import { silentLogger } from './log.js';

const SELF = new Uint8Array(32).fill(0x11);
const GW = new Uint8Array(32).fill(0x22);
const CH = 'ab'.repeat(32);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** An open payer channel to GW, as much of the channel manager as the auction reads. */
const channels = {
  describe: (id: string) => (id === CH ? { role: 'payer', peer: GW, state: 'Open' } : undefined),
  list: () => [{ id: CH, role: 'payer', peer: hex(GW), state: 'Open', priceMsatPerKiB: 10 }],
  open: () => Promise.reject(new Error('no new channel expected')),
  prepareChain: () => {},
} as unknown as ChannelManager;

/** An nft client (demand = bytes sent upstream) awarded to GW over its open channel. */
async function awarded(beacons?: { lastHeard: () => number | undefined; silenceMs: number }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'bm-auction-'));
  const events: ClientAuctionEventKind[] = [];
  let rfq: Omit<RfqBody, 'sender' | 'ts'> | undefined;
  vi.useFakeTimers();
  const auction = await ClientAuction.create({
    self: SELF,
    dir,
    clock: () => Date.now(),
    rng: () => 0.5,
    log: silentLogger,
    maxPriceMsatPerKiB: 100,
    wantedKbps: 1000,
    options: { explorationRate: 0, collectMs: 100, startupGraceMs: 500, failoverMs: 1000 },
    sendRfq: (body) => (rfq = body),
    sendAward: () => {},
    channels: () => channels,
    offerOf: () => undefined,
    isNeighbour: () => true,
    openConnections: () => 0,
    demand: 'sent',
    closeRoute: () => {},
    onEvent: (kind) => void events.push(kind),
    ...(beacons ? { lastHeard: beacons.lastHeard, silenceMs: beacons.silenceMs } : {}),
  });
  auction.start();
  if (!rfq) throw new Error('no RFQ sent');
  auction.onBid({
    sender: GW,
    ts: Date.now(),
    nonce: new Uint8Array(8),
    rfqId: rfq.rfqId,
    client: SELF,
    priceMsatPerKiB: 10,
    capacityKbps: 10_000,
    confidencePermille: 900,
    latencyMs: 5,
    termMs: 300_000,
  });
  vi.advanceTimersByTime(200);
  expect(events).toEqual(['award_won']);
  expect(auction.route(false)).toBe(CH);
  /** Runs `ms` of 50 ms steps, feeding `sent` and `received` bytes at each. */
  const run = (ms: number, sent: number, received: number) => {
    for (let t = 0; t < ms; t += 50) {
      if (sent > 0) auction.onSent(sent);
      if (received > 0) auction.onBytes(CH, received);
      vi.advanceTimersByTime(50);
    }
  };
  const done = async () => {
    await auction.stop();
    vi.useRealTimers();
    await rm(dir, { recursive: true, force: true });
  };
  return { auction, events, run, done };
}

afterEach(() => {
  vi.useRealTimers();
});

describe('client auction, nft demand (bytes sent upstream)', () => {
  it('an idle client never fails its gateway', async () => {
    const w = await awarded();
    w.run(5_000, 0, 0);
    expect(w.events).toEqual(['award_won']);
    await w.done();
  });

  it('a gateway that delivers while the client sends is kept', async () => {
    const w = await awarded();
    w.run(5_000, 200, 5_000);
    expect(w.events).toEqual(['award_won']);
    await w.done();
  });

  it('a gateway that gets upstream packets and delivers nothing back fails over', async () => {
    const w = await awarded();
    w.run(1_000, 200, 5_000);
    w.run(3_000, 200, 0);
    expect(w.events).toContain('failover');
    expect(w.auction.route(false)).toBeUndefined();
    await w.done();
  });

  it('a stalled transfer that sends only now and then (retransmits, retries) is still demand', async () => {
    const w = await awarded();
    w.run(1_000, 200, 5_000);
    for (let i = 0; i < 4; i++) {
      w.auction.onSent(60); // one SYN a second, nothing back
      vi.advanceTimersByTime(1_000);
    }
    expect(w.events).toContain('failover');
    await w.done();
  });

  it('a client that went quiet after its transfer ended (a last ACK) does not fail its gateway', async () => {
    const w = await awarded();
    w.run(1_000, 200, 5_000);
    w.auction.onSent(52);
    w.run(6_000, 0, 0);
    expect(w.events).toEqual(['award_won']);
    await w.done();
  });

  describe('a gateway that falls silent (no beacon)', () => {
    /** Beacons heard every 300 ms until `silentFrom` (a timestamp), none after. */
    const beacons = () => {
      const b = { silentFrom: Infinity, lastHeard: () => Math.min(Date.now(), b.silentFrom), silenceMs: 900 };
      return b;
    };

    it('fails over after the silence when the client is waiting on it, before the delivery watchdog would', async () => {
      const b = beacons();
      const w = await awarded(b);
      w.run(1_000, 200, 5_000);
      b.silentFrom = Date.now();
      w.auction.onSent(60); // one SYN, never answered: not yet demand for the watchdog
      w.run(1_300, 0, 0);
      expect(w.events).toContain('failover');
      expect(w.auction.route(false)).toBeUndefined();
      await w.done();
    });

    it('an idle client does not fail a silent gateway', async () => {
      const b = beacons();
      const w = await awarded(b);
      b.silentFrom = Date.now();
      w.run(3_000, 0, 0);
      expect(w.events).toEqual(['award_won']);
      await w.done();
    });

    it('a silent gateway whose kernel still forwards is kept', async () => {
      const b = beacons();
      const w = await awarded(b);
      b.silentFrom = Date.now();
      w.run(3_000, 200, 5_000);
      expect(w.events).toEqual(['award_won']);
      await w.done();
    });

    it('our own stall (a frozen process) is not the gateway falling silent', async () => {
      const b = beacons();
      const w = await awarded(b);
      w.run(1_000, 200, 5_000);
      // Frozen for 5 s: no timer ran, no beacon was read; then a send is seen first.
      b.silentFrom = Date.now();
      vi.setSystemTime(Date.now() + 5_000);
      w.auction.onSent(200);
      vi.advanceTimersByTime(260);
      b.silentFrom = Infinity; // the beacons that waited in the socket are read
      w.run(2_000, 200, 5_000);
      expect(w.events).toEqual(['award_won']);
      await w.done();
    });
  });
});
