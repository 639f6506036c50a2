import { mkdtemp, rm } from 'node:fs/promises';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ClientMarketInput, ClientMarketOptions } from '../core/market/client-market.js';
import { ReportError } from '../core/market/errors.js';
import { nextJointProbeSlot } from '../core/market/joint-probe.js';
import type { AcceptProof } from '../core/market/report.js';
import type { ReportBody, RfqBody } from '../core/wire/messages.js';
import { ClientEndpoint } from '../dataplane/proxy/client-endpoint.js';
import { anyDestination } from '../dataplane/proxy/destination-policy.js';
import { RelayServer } from '../dataplane/proxy/relay-server.js';
import type { ChannelManager } from './channel-manager.js';
import { ClientAuction, type ClientAuctionDeps, type ClientAuctionEventKind } from './client-auction.js';
import { silentLogger, type LogFields } from './log.js';

const SELF = new Uint8Array(32).fill(0x11);
const GW = new Uint8Array(32).fill(0x22);
const CH = 'ab'.repeat(32);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** GW's signed ACCEPT of our channel, as the channel manager keeps it (report.ts). */
const PROOF: AcceptProof = {
  accept: { sender: GW, ts: 1, nonce: new Uint8Array(8).fill(3), channelId: new Uint8Array(32).fill(0xab), creditBytes: 65_536, lossTolerancePermille: 20, zeroConfCapSat: 0 },
  sig: new Uint8Array(64).fill(0x5a),
  salt: new Uint8Array(32).fill(0x77),
};

/** Channels the auction asked to close (the fake manager below records them). */
const closeRequests: string[] = [];

/** A second payer channel to GW, opened only by the renewal tests. */
const CH2 = 'cd'.repeat(32);
/** What the fake manager below shows: how much of CH is used, and CH2 once opened. */
const fake = { used: 0, opens: 0, ch2: undefined as string | undefined, closedRoutes: [] as string[] };

/** An open payer channel to GW, as much of the channel manager as the auction reads. */
const channels = {
  close: (id: string) => {
    closeRequests.push(id);
    return Promise.resolve({ channelId: id, requested: true });
  },
  describe: (id: string) =>
    id === CH ? { role: 'payer', peer: GW, state: 'Open', usedShare: fake.used } : id === CH2 && fake.ch2 ? { role: 'payer', peer: GW, state: fake.ch2, usedShare: 0 } : undefined,
  list: () => [
    { id: CH, role: 'payer', peer: hex(GW), state: 'Open', priceMsatPerKiB: 10 },
    ...(fake.ch2 ? [{ id: CH2, role: 'payer', peer: hex(GW), state: fake.ch2, priceMsatPerKiB: 10 }] : []),
  ],
  open: (peer: Uint8Array) => {
    if (hex(peer) !== hex(GW) || fake.used < 0.5) return Promise.reject(new Error('no new channel expected'));
    fake.opens++;
    fake.ch2 = 'Opening';
    return Promise.resolve(CH2);
  },
  prepareChain: () => {},
  acceptProof: (gateway: string) => (gateway === hex(GW) ? PROOF : undefined),
} as unknown as ChannelManager;

/** The deps every auction here shares: an nft client of GW over the fake manager above. */
function baseDeps(dir: string, sendRfq: ClientAuctionDeps['sendRfq']): ClientAuctionDeps {
  return {
    self: SELF,
    dir,
    clock: () => Date.now(),
    rng: () => 0.5,
    log: silentLogger,
    maxPriceMsatPerKiB: 100,
    wantedKbps: 1000,
    sendRfq,
    sendAward: () => {},
    channels: () => channels,
    offerOf: () => undefined,
    isNeighbour: () => true,
    openConnections: () => 0,
    demand: 'sent',
    closeRoute: (id: string) => void fake.closedRoutes.push(id),
    onEvent: () => {},
  };
}

/** An nft client (demand = bytes sent upstream) awarded to GW over its open channel. */
async function awarded(beacons?: { lastHeard: () => number | undefined; silenceMs: number }) {
  const dir = await mkdtemp(path.join(tmpdir(), 'bm-auction-'));
  const events: ClientAuctionEventKind[] = [];
  let rfq: Omit<RfqBody, 'sender' | 'ts'> | undefined;
  vi.useFakeTimers();
  const auction = await ClientAuction.create({
    ...baseDeps(dir, (body) => (rfq = body)),
    options: { explorationRate: 0, collectMs: 100, startupGraceMs: 500, failoverMs: 1000 },
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
  Object.assign(fake, { used: 0, opens: 0, ch2: undefined, closedRoutes: [] });
});

/** A standing OFFER from `gw` with `spareKbps` spare. */
let offerSeq = 0;
function offerFrom(gw: Uint8Array, spareKbps: number) {
  return {
    sender: gw, ts: Date.now(), nonce: new Uint8Array(8), seq: ++offerSeq, priceMsatPerKiB: 10, capacityKbps: spareKbps, spareKbps,
    confidencePermille: 900, latencyMs: 5, lossPermille: 0, tickKiB: 16, creditKiB: 64, maxCreditMsat: 1000, minChannelSat: 10_000,
    maxChannelSat: 1_000_000, zeroConfCapSat: 100_000,
  };
}

describe('client auction: reports heard', () => {
  const reportOf = (reporter: number): ReportBody => ({
    sender: new Uint8Array(32).fill(reporter),
    ts: Date.now(),
    nonce: new Uint8Array(8),
    gateway: GW,
    deliveredKbps: 1000,
    targetKbps: 10_000,
    channelId: new Uint8Array(32),
    channelSalt: new Uint8Array(32),
    acceptTs: Date.now(),
    acceptNonce: new Uint8Array(8),
    creditBytes: 65_536,
    lossTolerancePermille: 20,
    zeroConfCapSat: 0,
    acceptSig: new Uint8Array(64),
  });

  it('a report whose proof holds reaches the market; three from distinct clients make it leave the gateway', async () => {
    const checked: number[] = [];
    const checkReport = (r: ReportBody) => void checked.push(r.sender[0]!);
    const dir = await mkdtemp(path.join(tmpdir(), 'bm-report-'));
    let rfq: Omit<RfqBody, 'sender' | 'ts'> | undefined;
    vi.useFakeTimers();
    const auction = await ClientAuction.create({
      ...baseDeps(dir, (body) => (rfq = body)),
      options: { explorationRate: 0, collectMs: 100 },
      checkReport: (r) => (checkReport(r), r.sender[0] === 0x66 ? new ReportError('report_channel', 'not its channel') : undefined),
    });
    try {
      auction.start();
      auction.onBid({ sender: GW, ts: Date.now(), nonce: new Uint8Array(8), rfqId: rfq!.rfqId, client: SELF, priceMsatPerKiB: 10, capacityKbps: 10_000, confidencePermille: 900, latencyMs: 5, termMs: 300_000 });
      vi.advanceTimersByTime(200);
      expect(auction.market.award?.gateway).toBe(hex(GW));
      auction.onReport(reportOf(0x66)); // refused: counted by reason, no effect
      expect(auction.status().reportRejects).toEqual({ report_channel: 1 });
      expect(auction.market.counters.reportsHeard).toBe(0);
      for (const r of [0x61, 0x62, 0x63]) auction.onReport(reportOf(r));
      expect(checked).toEqual([0x66, 0x61, 0x62, 0x63]);
      expect(auction.market.counters).toMatchObject({ reportsHeard: 3, reportBans: 1 });
      expect(auction.market.state).toBe('reauctioning');
    } finally {
      await auction.stop();
      vi.useRealTimers();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('without a proof check (no checkReport) reports are not heard at all', async () => {
    const w = await awarded();
    try {
      for (const r of [0x61, 0x62, 0x63]) w.auction.onReport(reportOf(r));
      expect(w.auction.market.counters.reportsHeard).toBe(0);
    } finally {
      await w.done();
    }
  });
});

describe('client auction: the first auction', () => {
  // Agents switched on together (a power cut ends): the client's first RFQ can go out
  // before any gateway is up. Their offers then arrive while its bids are collected.
  async function firstAuction(offerDuringCollection: boolean): Promise<number> {
    const dir = await mkdtemp(path.join(tmpdir(), 'bm-auction-'));
    let rfqs = 0;
    vi.useFakeTimers();
    const auction = await ClientAuction.create({ ...baseDeps(dir, () => void rfqs++), options: { explorationRate: 0, collectMs: 100, retryMs: 5_000 } });
    auction.start();
    if (offerDuringCollection) {
      vi.advanceTimersByTime(50);
      auction.onOffer({
        sender: GW, ts: Date.now(), nonce: new Uint8Array(8), seq: 1, priceMsatPerKiB: 10, capacityKbps: 10_000, spareKbps: 10_000,
        confidencePermille: 900, latencyMs: 5, lossPermille: 0, tickKiB: 16, creditKiB: 64, maxCreditMsat: 1000, minChannelSat: 10_000,
        maxChannelSat: 1_000_000, zeroConfCapSat: 100_000,
      });
    }
    vi.advanceTimersByTime(1_000);
    await auction.stop();
    vi.useRealTimers();
    await rm(dir, { recursive: true, force: true });
    return rfqs;
  }

  it('asks again as soon as its first auction closes empty when a gateway able to serve offered meanwhile', async () => {
    expect(await firstAuction(true)).toBe(2);
  });

  it('without such an offer it waits for the retry interval', async () => {
    expect(await firstAuction(false)).toBe(1);
  });
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

  it('a relay that refuses the connection (its agent is down) is left at once; a refusal on another channel changes nothing', async () => {
    const w = await awarded();
    w.run(1_000, 200, 5_000);
    w.auction.onRelayRefused('another-channel');
    expect(w.events).toEqual(['award_won']);
    w.auction.onRelayRefused(CH);
    expect(w.events).toEqual(['award_won', 'failover']);
    expect(w.auction.route(false)).toBeUndefined();
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

  it('a channel running out gets a successor to the same gateway: traffic moves to it once open, no failover, the old one closes 10 s later', async () => {
    closeRequests.length = 0;
    const w = await awarded();
    fake.used = 0.5;
    w.run(2_000, 200, 5_000);
    expect(fake.opens).toBe(0); // plenty left
    fake.used = 0.85;
    w.run(1_000, 200, 5_000);
    await Promise.resolve(); // the open() promise settles
    expect(fake.opens).toBe(1);
    w.run(1_000, 200, 5_000);
    expect(w.auction.route(false)).toBe(CH); // the successor is still opening
    fake.ch2 = 'Open';
    w.run(500, 200, 5_000);
    expect(w.auction.route(false)).toBe(CH2);
    expect(fake.opens).toBe(1);
    expect(w.events).toEqual(['award_won']); // the same award, no failover
    expect(w.auction.status().counters.channelRenewals).toBe(1);
    expect(fake.closedRoutes).toEqual([]); // the old channel's connections go on
    w.run(10_500, 200, 5_000);
    expect(closeRequests).toEqual([CH]);
    await w.done();
  });

  it('a channel it left is closed 10 s later, so its change comes back before expiry', async () => {
    closeRequests.length = 0;
    const w = await awarded();
    w.run(1_000, 200, 5_000);
    w.run(3_000, 200, 0);
    expect(w.events).toContain('failover');
    w.run(5_000, 0, 0);
    expect(closeRequests).toEqual([]); // its last payments go out first
    w.run(6_000, 0, 0);
    expect(closeRequests).toEqual([CH]);
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

/**
 * The "internet" on loopback: GET /bytes streams bytes until the client goes (at most
 * `kbps`: the gateway's real uplink), /missing is a 404. Every byte written is also
 * handed to `meter`, standing in for the kernel meter that sees the gateway's traffic
 * in nft mode.
 */
async function internet(meter: (bytes: number) => void, kbps = Infinity) {
  const gets: string[] = [];
  const chunk = Buffer.alloc(16 * 1024, 0x62);
  const server = http.createServer((req, res) => {
    gets.push(req.url ?? '');
    if (req.url !== '/bytes') return void res.writeHead(404).end();
    res.writeHead(200, { 'content-type': 'application/octet-stream' });
    const started = Date.now();
    let sent = 0;
    const pump = (): void => {
      while (!res.destroyed) {
        const aheadMs = (sent * 8) / kbps - (Date.now() - started);
        if (aheadMs > 0) return void setTimeout(pump, aheadMs);
        sent += chunk.length;
        meter(chunk.length);
        if (!res.write(chunk)) return void res.once('drain', pump);
      }
    };
    res.on('close', () => res.destroy());
    pump();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const close = () => {
    server.closeAllConnections();
    return new Promise((r) => server.close(r));
  };
  return { base, gets, close };
}

const waitUntil = async (what: string, ok: () => boolean, ms = 5_000) => {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('client auction: capacity probe (market effect probe)', () => {
  // Real timers: the pull is real HTTP on loopback. The gateway claims 10 Mbit/s, the
  // client wants 1 Mbit/s: a claim well above the demand, which only a probe tests.
  const PROBE_MS = 1000;
  const CLAIM_KBPS = 10_000;

  async function awardedWithProbes(
    probeUrl: string | undefined,
    proxy?: Pick<ClientAuctionDeps, 'probeVia' | 'openConnections'>,
    sendReport?: ClientAuctionDeps['sendReport'],
    as: { self: Uint8Array; options?: Partial<ClientMarketOptions> } = { self: SELF },
  ) {
    const dir = await mkdtemp(path.join(tmpdir(), 'bm-probe-'));
    const logs: { msg: string; fields?: LogFields }[] = [];
    const log = { ...silentLogger, info: (msg: string, fields?: LogFields) => void logs.push({ msg, ...(fields ? { fields } : {}) }), warn: (msg: string, fields?: LogFields) => void logs.push({ msg, ...(fields ? { fields } : {}) }) };
    let rfq: Omit<RfqBody, 'sender' | 'ts'> | undefined;
    const auction = await ClientAuction.create({
      ...baseDeps(dir, (body) => (rfq = body)),
      log,
      self: as.self,
      options: { explorationRate: 0, collectMs: 20, startupGraceMs: 200, failoverMs: 1000, probeMs: PROBE_MS, probeDelayMaxMs: 100, ...as.options },
      ...(probeUrl !== undefined ? { probeUrl } : {}),
      ...(proxy ? { ...proxy, demand: 'connections' as const } : {}),
      ...(sendReport ? { sendReport } : {}),
    });
    const deliveries: Extract<ClientMarketInput, { type: 'delivery' }>[] = [];
    const handle = auction.market.handle.bind(auction.market);
    vi.spyOn(auction.market, 'handle').mockImplementation((input, now) => {
      if (input.type === 'delivery') deliveries.push(input);
      handle(input, now);
    });
    auction.start();
    auction.onBid({
      sender: GW,
      ts: Date.now(),
      nonce: new Uint8Array(8),
      rfqId: rfq!.rfqId,
      client: as.self,
      priceMsatPerKiB: 10,
      capacityKbps: CLAIM_KBPS,
      confidencePermille: 900,
      latencyMs: 5,
      termMs: 300_000,
    });
    await waitUntil('the award', () => auction.market.award !== undefined);
    // The client's own traffic (about 1 Mbit/s): a probe waits until traffic flows.
    const own = setInterval(() => auction.onBytes(CH, 6_000), 50);
    const done = async () => {
      clearInterval(own);
      await auction.stop();
      await rm(dir, { recursive: true, force: true });
    };
    return { auction, deliveries, logs, done };
  }

  it('pulls through the gateway for the probe, reports those deliveries as probing, and the probe passes', async () => {
    let w: Awaited<ReturnType<typeof awardedWithProbes>> | undefined;
    const net = await internet((n) => w?.auction.onBytes(CH, n));
    w = await awardedWithProbes(`${net.base}/bytes`);
    try {
      await waitUntil('the probe to start', () => w!.auction.status().probe.gatewayHex !== null);
      expect(w.auction.status().probe).toMatchObject({ enabled: true, gatewayHex: hex(GW), targetKbps: CLAIM_KBPS });
      await waitUntil('the probe to end', () => w!.auction.status().probe.gatewayHex === null && w!.deliveries.at(-1)?.probing !== true);
      expect(net.gets.length).toBeGreaterThanOrEqual(1);
      expect(net.gets.every((g) => g === '/bytes')).toBe(true);
      // The reports of the probe window form one run, all for the awarded gateway.
      const marked = w.deliveries.flatMap((d, i) => (d.probing ? [i] : []));
      expect(marked.length).toBeGreaterThanOrEqual(2);
      expect(marked.at(-1)! - marked[0]! + 1).toBe(marked.length);
      expect(w.deliveries.filter((d) => d.probing).every((d) => d.gateway === hex(GW) && d.bytes >= 0)).toBe(true);
      const c = w.auction.status().counters;
      expect(c).toMatchObject({ probes: 1, probesFailed: 0, probePulls: 1, probeErrors: 0 });
      expect(w.logs.some((l) => l.msg.startsWith('capacity probe failed'))).toBe(false);
      // Paced: the pull read no more than the probe's rate allows (one read of slack).
      await waitUntil('the pull to finish', () => w!.logs.some((l) => l.msg === 'capacity probe pulled'));
      const pulled = Number(w.logs.find((l) => l.msg === 'capacity probe pulled')!.fields!['bytes']);
      expect(pulled).toBeGreaterThan(0);
      expect(pulled).toBeLessThanOrEqual((CLAIM_KBPS * PROBE_MS) / 8 + 128 * 1024);
    } finally {
      await w.done();
      await net.close();
    }
  });

  it('proxy mode: the pull goes through the SOCKS endpoint and the gateway\'s relay, metered on the channel', async () => {
    let w: Awaited<ReturnType<typeof awardedWithProbes>> | undefined;
    const net = await internet(() => {});
    const pw = new Uint8Array([1, 2, 3]);
    const relay = new RelayServer({ host: '127.0.0.1', authorize: (id) => id === CH, allowDestination: anyDestination });
    await relay.start();
    await relay.grant({ channelId: CH, addresses: [] }, 1e12);
    let relayed = 0;
    const endpoint = new ClientEndpoint({
      currentRoute: () => ({ host: '127.0.0.1', port: relay.port(), channelId: CH, password: pw }),
      // The proxy-mode meter: what the endpoint carried on the channel.
      onUsage: (id, u) => {
        relayed += u.totalBytes;
        w?.auction.onBytes(id, u.totalBytes);
      },
    });
    await endpoint.start();
    w = await awardedWithProbes(`${net.base}/bytes`, { probeVia: () => ({ host: '127.0.0.1', port: endpoint.port() }), openConnections: () => endpoint.connectionCount });
    try {
      await waitUntil('the probe to end', () => w!.auction.status().counters.probes === 1 && w!.auction.status().probe.gatewayHex === null && w!.deliveries.at(-1)?.probing !== true);
      expect(net.gets).toContain('/bytes');
      expect(relayed).toBeGreaterThan((CLAIM_KBPS * PROBE_MS) / 8 / 2);
      expect(w.deliveries.filter((d) => d.probing).length).toBeGreaterThanOrEqual(2);
      expect(w.auction.status().counters).toMatchObject({ probes: 1, probesFailed: 0, probeErrors: 0 });
    } finally {
      await w.done();
      await endpoint.stop();
      await relay.stop();
      await net.close();
    }
  });

  it('a gateway that delivers far less than its claim while probed fails the probe, and is reported when it keeps claiming the room', async () => {
    // Its real uplink carries 1 Mbit/s, a tenth of its claim.
    let w: Awaited<ReturnType<typeof awardedWithProbes>> | undefined;
    const reports: Omit<ReportBody, 'sender' | 'ts' | 'nonce'>[] = [];
    const net = await internet((n) => w?.auction.onBytes(CH, n), 1000);
    w = await awardedWithProbes(`${net.base}/bytes`, undefined, (body) => void reports.push(body));
    try {
      await waitUntil('the probe to be judged', () => w!.auction.status().counters.probes === 1 && w!.auction.status().probe.gatewayHex === null && w!.deliveries.at(-1)?.probing !== true);
      // 1 Mbit/s of probe and the client's own 1 Mbit/s fall far short of half the claim.
      expect(w.auction.status().counters.probesFailed).toBe(1);
      expect(w.logs.some((l) => l.msg.startsWith('capacity probe failed'))).toBe(true);
      expect(reports).toHaveLength(0); // not before its next offer says what it claims now
      w.auction.onOffer(offerFrom(GW, CLAIM_KBPS));
      expect(reports).toHaveLength(1);
      expect(reports[0]).toMatchObject({ gateway: GW, targetKbps: CLAIM_KBPS, channelId: PROOF.accept.channelId, channelSalt: PROOF.salt, acceptSig: PROOF.sig });
      expect(reports[0]!.deliveredKbps).toBeLessThan(CLAIM_KBPS * 0.4);
      expect(w.logs.some((l) => l.msg.startsWith('gateway reported'))).toBe(true);
    } finally {
      await w.done();
      await net.close();
    }
  });

  it("two clients of one gateway start a joint probe together at its slot, each for its own rate plus its load share of the claimed spare", async () => {
    // Solo probes (at a random moment within 10 minutes of the award) stay out of the way.
    const PERIOD_MS = 3000;
    const options = { jointProbePeriodMs: PERIOD_MS, probeDelayMaxMs: 600_000 };
    const clients = [new Uint8Array(32).fill(0x31), new Uint8Array(32).fill(0x32)];
    const ws: Awaited<ReturnType<typeof awardedWithProbes>>[] = [];
    const nets = await Promise.all(clients.map((_, i) => internet((n) => ws[i]?.auction.onBytes(CH, n))));
    try {
      for (const [i, self] of clients.entries()) ws.push(await awardedWithProbes(`${nets[i]!.base}/bytes`, undefined, undefined, { self, options }));
      // It claims 10 Mbit/s with 8 spare: a load of 2, each client's 1 Mbit/s half of it.
      const offer = { ...offerFrom(GW, 8000), capacityKbps: 10_000 };
      for (const w of ws) w.auction.onOffer(offer);
      const seen: { targetKbps: number; startMs: number }[] = [];
      await waitUntil(
        'both joint probes',
        () => {
          for (const [i, w] of ws.entries()) {
            const p = w.auction.status().probe;
            // untilMs is what is left of it
            if (seen[i] === undefined && p.gatewayHex !== null) seen[i] = { targetKbps: p.targetKbps!, startMs: Date.now() + p.untilMs! - PROBE_MS };
          }
          return seen.filter(Boolean).length === 2;
        },
        2 * PERIOD_MS + 3000,
      );
      for (const w of ws) expect(w.auction.status().counters).toMatchObject({ probes: 1, jointProbes: 1 });
      // At the same slot, derived from the gateway's id: at the first report after it (every
      // 250 ms; a loaded machine runs timers late, hence the margin), a third of a period at most.
      const slot = nextJointProbeSlot(hex(GW), PERIOD_MS, seen[0]!.startMs - PERIOD_MS);
      for (const s of seen) {
        expect(s.startMs - slot).toBeGreaterThanOrEqual(0);
        expect(s.startMs - slot).toBeLessThan(PERIOD_MS / 3);
        // About 1 + 8 × ½ Mbit/s (5 × its own rate, which timers make a little under 1
        // Mbit/s), not the whole claim a solo probe would pull.
        expect(s.targetKbps).toBeGreaterThan(3000);
        expect(s.targetKbps).toBeLessThan(6500);
      }
      await waitUntil('the probes to end', () => ws.every((w) => w.auction.status().probe.gatewayHex === null), 3000);
      expect(nets.every((n) => n.gets.includes('/bytes'))).toBe(true);
    } finally {
      for (const w of ws) await w.done();
      for (const n of nets) await n.close();
    }
  });

  it('a probe URL that fails gives no sample: its reports are not marked as probing', async () => {
    const net = await internet(() => {});
    const w = await awardedWithProbes(`${net.base}/missing`);
    try {
      await waitUntil('the pull to fail', () => w.auction.status().counters.probeErrors === 1);
      await new Promise((r) => setTimeout(r, PROBE_MS + 300));
      expect(net.gets).toContain('/missing');
      expect(w.auction.status().counters).toMatchObject({ probes: 1, probesFailed: 0, probePulls: 1 });
      // Only a report already under way when the 404 came (none, unless our timers ran
      // late) was marked: the probe window is not all probing, so it gives no sample.
      expect(w.deliveries.filter((d) => d.probing).length).toBeLessThan(PROBE_MS / 250 - 1);
      expect(w.logs.some((l) => l.msg === 'capacity probe stopped early: no sample' && l.fields?.['error'] === 'HTTP 404')).toBe(true);
    } finally {
      await w.done();
      await net.close();
    }
  });

  it('with no probe URL no probe is attempted, and the market is told (it emits none)', async () => {
    let w: Awaited<ReturnType<typeof awardedWithProbes>> | undefined;
    const net = await internet((n) => w?.auction.onBytes(CH, n));
    w = await awardedWithProbes(undefined);
    try {
      // Well past the latest moment a probe would start (100 ms) and its end.
      await new Promise((r) => setTimeout(r, 100 + PROBE_MS + 500));
      expect(w.deliveries.length).toBeGreaterThan(3);
      expect(net.gets).toEqual([]);
      expect(w.auction.status().probe.enabled).toBe(false);
      expect(w.auction.status().counters).toMatchObject({ probes: 0, probePulls: 0 });
      expect(w.deliveries.some((d) => d.probing)).toBe(false);
      expect(w.logs.some((l) => l.msg === 'capacity probes off')).toBe(true);
    } finally {
      await w.done();
      await net.close();
    }
  });
});
