import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { defaultConfig } from '../config/load.js';
import type { ClientRef, Usage } from '../dataplane/backend.js';
import type { ClientTotals } from '../dataplane/nft/client-meter.js';
import { NftAddressInUseError } from '../dataplane/nft/errors.js';
import { silentLogger } from './log.js';
import { dataAddressOf, NftDataplane, type AgentView, type ChannelsView, type ClientCounters, type MeteredBackend, type NftDataplaneDeps } from './nft-dataplane.js';

const GW = new Uint8Array(32).fill(0xaa);
const CL = new Uint8Array(32).fill(0xbb);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const CH = 'c1'.repeat(32);
const CH2 = 'c2'.repeat(32);

/** The backend twin: remembers grants, hands out usage set by the test. */
class FakeBackend implements MeteredBackend {
  readonly name = 'nft' as const;
  readonly grants: { channelId: string; addresses: readonly string[]; total: number }[] = [];
  readonly owner = new Map<string, string>();
  usageOf = new Map<string, Usage>();
  started = false;
  async start() {
    this.started = true;
  }
  async stop() {
    this.started = false;
  }
  async grant(c: ClientRef, total: number) {
    for (const a of c.addresses) {
      const o = this.owner.get(a);
      if (o && o !== c.channelId) throw new NftAddressInUseError(a, o);
    }
    for (const [a, o] of [...this.owner]) if (o === c.channelId && !c.addresses.includes(a)) this.owner.delete(a);
    for (const a of c.addresses) this.owner.set(a, c.channelId);
    this.grants.push({ channelId: c.channelId, addresses: [...c.addresses], total });
  }
  async revoke() {}
  async usage(id: string) {
    return this.usageOf.get(id);
  }
  async remove() {}
  async usageAll() {
    return this.usageOf;
  }
}

class FakeMeter implements ClientCounters {
  totals: ClientTotals = { upBytes: 0, downBytes: 0 };
  async start() {}
  async stop() {}
  async read() {
    return this.totals;
  }
  async refreshSubnets() {}
}

function world(opts: { role: 'gateway' | 'client'; served?: number; deps?: Partial<NftDataplaneDeps> }) {
  const metered: [string, number][] = [];
  const peers: { idHex: string; address: string }[] = [];
  let payer: { id: string; peer: Uint8Array }[] = [];
  const channels: ChannelsView = {
    metered: (id, n) => void metered.push([id, n]),
    describe: (id) => (id === CH || id === CH2 ? { role: opts.role === 'gateway' ? 'payee' : 'payer', peer: opts.role === 'gateway' ? CL : GW, state: 'Open' } : undefined),
    list: () => [{ id: CH, bytes: opts.served ?? 0 }],
  };
  const traffic: [string, number, number][] = [];
  // The agent's route: the first of `payer` whose gateway is a neighbour (the award, in the agent).
  const agent: AgentView = {
    channels,
    peers: () => peers,
    route: () => {
      for (const p of payer) {
        const n = peers.find((x) => x.idHex === hex(p.peer));
        if (n) return { channelId: p.id, host: n.address };
      }
      return undefined;
    },
    onClientTraffic: (id, up, down) => void traffic.push([id, up, down]),
  };
  const ipCalls: string[] = [];
  const backend = new FakeBackend();
  const meter = new FakeMeter();
  const config = defaultConfig({ agent: { role: opts.role }, mesh: { interface: ['mesh0'] }, dataplane: { backend: 'nft', upstreamInterface: ['up0'] } });
  const dp = new NftDataplane({ config, log: silentLogger, backend, meter, ip: async (args) => void ipCalls.push(args.join(' ')), ...opts.deps });
  dp.attach(agent);
  return { dp, backend, meter, metered, traffic, peers, ipCalls, setPayer: (p: typeof payer) => (payer = p) };
}

describe('gateway side', () => {
  it('grants with the address the client speaks from, and feeds kernel byte deltas to the channel', async () => {
    const w = world({ role: 'gateway' });
    w.peers.push({ idHex: hex(CL), address: '10.42.0.4' });
    await w.dp.grant({ channelId: CH, addresses: [] }, 65_536);
    expect(w.backend.grants).toEqual([{ channelId: CH, addresses: ['10.42.0.4'], total: 65_536 }]);
    w.backend.usageOf.set(CH, { upBytes: 100, downBytes: 900, totalBytes: 1000 });
    await w.dp.poll();
    w.backend.usageOf.set(CH, { upBytes: 200, downBytes: 3800, totalBytes: 4000 });
    await w.dp.poll();
    await w.dp.poll(); // nothing new: nothing metered
    expect(w.metered).toEqual([
      [CH, 1000],
      [CH, 3000],
    ]);
  });

  it('a client not yet a neighbour gets its address as soon as it is heard', async () => {
    const w = world({ role: 'gateway' });
    await w.dp.grant({ channelId: CH, addresses: [] }, 10_000);
    expect(w.backend.grants.at(-1)?.addresses).toEqual([]);
    w.peers.push({ idHex: hex(CL), address: '::ffff:10.42.0.5' });
    await w.dp.poll();
    expect(w.backend.grants.at(-1)).toEqual({ channelId: CH, addresses: ['10.42.0.5'], total: 10_000 });
  });

  it('after an agent restart, bills only kernel bytes the channel has not metered yet', async () => {
    const w = world({ role: 'gateway', served: 5000 });
    w.peers.push({ idHex: hex(CL), address: '10.42.0.4' });
    w.backend.usageOf.set(CH, { upBytes: 0, downBytes: 7000, totalBytes: 7000 });
    await w.dp.grant({ channelId: CH, addresses: [] }, 100_000);
    await w.dp.poll();
    expect(w.metered).toEqual([[CH, 2000]]);
  });

  it('a new channel from the same client takes its address over from the old one', async () => {
    const w = world({ role: 'gateway' });
    w.peers.push({ idHex: hex(CL), address: '10.42.0.4' });
    await w.dp.grant({ channelId: CH, addresses: [] }, 1000);
    await w.dp.grant({ channelId: CH2, addresses: [] }, 2000);
    expect(w.backend.owner.get('10.42.0.4')).toBe(CH2);
    expect(w.backend.grants.find((g) => g.channelId === CH && g.addresses.length === 0)).toBeDefined();
  });

  it('late ticks on the old channel raise its allowance but leave the address with the new one', async () => {
    const w = world({ role: 'gateway' });
    w.peers.push({ idHex: hex(CL), address: '10.42.0.4' });
    await w.dp.grant({ channelId: CH, addresses: [] }, 1000);
    await w.dp.grant({ channelId: CH2, addresses: [] }, 2000);
    await w.dp.grant({ channelId: CH, addresses: [] }, 1500); // a payment for bytes in flight
    expect(w.backend.owner.get('10.42.0.4')).toBe(CH2);
    expect(w.backend.grants.filter((g) => g.channelId === CH).at(-1)).toEqual({ channelId: CH, addresses: [], total: 1500 });
    await w.dp.poll(); // the re-grant check does not pull it back either
    expect(w.backend.owner.get('10.42.0.4')).toBe(CH2);
  });
});

describe('gateway side: the hand-over to a successor channel', () => {
  /** Payee machines reduced to what the hand-over reads: paid and served bytes. */
  function handOverWorld(tickBytes?: number) {
    const paid = new Map([[CH, 0], [CH2, 0]]);
    const served = new Map([[CH, 0], [CH2, 0]]);
    const metered: [string, number][] = [];
    const channels: ChannelsView = {
      metered: (id, n) => {
        metered.push([id, n]);
        served.set(id, (served.get(id) ?? 0) + n);
      },
      describe: (id) => (paid.has(id) ? { role: 'payee', peer: CL, state: 'Open', paidBytes: paid.get(id)!, servedBytes: served.get(id)!, ...(tickBytes ? { tickBytes } : {}) } : undefined),
      list: () => [],
    };
    const backend = new FakeBackend();
    const config = defaultConfig({ agent: { role: 'gateway' }, mesh: { interface: ['mesh0'] }, dataplane: { backend: 'nft', upstreamInterface: ['up0'] } });
    const dp = new NftDataplane({ config, log: silentLogger, backend });
    dp.attach({ channels, peers: () => [{ idHex: hex(CL), address: '10.42.0.4' }], route: () => undefined, onClientTraffic: () => {} });
    const quotaOf = (id: string) => backend.grants.filter((g) => g.channelId === id).at(-1)?.total;
    return { dp, backend, paid, served, metered, quotaOf };
  }

  it('bytes the new channel carried before the client moved, paid on the old one, unblock the new one', async () => {
    const w = handOverWorld();
    const CREDIT = 500;
    await w.dp.grant({ channelId: CH, addresses: [] }, 1000 + CREDIT);
    w.paid.set(CH, 1000);
    w.backend.usageOf.set(CH, { upBytes: 0, downBytes: 1000, totalBytes: 1000 });
    await w.dp.poll();
    // The successor is granted its credit: the address moves to it, and the client, not
    // moved yet, receives 500 bytes through it that it will pay on the old channel.
    await w.dp.grant({ channelId: CH2, addresses: [] }, CREDIT);
    expect(w.backend.owner.get('10.42.0.4')).toBe(CH2);
    w.backend.usageOf.set(CH2, { upBytes: 0, downBytes: 500, totalBytes: 500 });
    await w.dp.poll();
    expect(w.metered).toEqual([[CH, 1000], [CH2, 500]]);
    // Its quota is spent and nothing is paid on it: without the hand-over rule both sides wait.
    expect(w.quotaOf(CH2)).toBe(CREDIT);
    // The client pays the old channel for those 500 bytes: the new one may carry them again.
    w.paid.set(CH, 1500);
    await w.dp.grant({ channelId: CH, addresses: [] }, 1500 + CREDIT);
    expect(w.quotaOf(CH2)).toBe(CREDIT + 500);
    // The new channel's next 500 bytes are billed to the old one, which is then square;
    // what follows is the new channel's own.
    w.backend.usageOf.set(CH2, { upBytes: 0, downBytes: 1200, totalBytes: 1200 });
    await w.dp.poll();
    expect(w.metered.slice(2)).toEqual([[CH, 500], [CH2, 200]]);
    expect(w.served.get(CH)).toBe(w.paid.get(CH));
    // The quota stays what was paid on both plus the credit: no byte more.
    await w.dp.grant({ channelId: CH2, addresses: [] }, CREDIT);
    expect(w.quotaOf(CH2)).toBe(CREDIT + 500);
    expect(w.quotaOf(CH2)! + 1000).toBeLessThanOrEqual(w.paid.get(CH)! + w.paid.get(CH2)! + CREDIT);
  });

  // Seen on the namespace testbed: the client, a poll from moving, metered 66 KB on the
  // old channel that the gateway counted on the new one, and paid the old one up to the
  // next tick boundary: paid − served there was exactly one tick. The new channel, 4.8 KB
  // short of its own next tick boundary, had spent its quota: each side waited.
  it('once the address has moved, the tick paid ahead on the old channel is carried too', async () => {
    const TICK = 500;
    const CREDIT = 400;
    const w = handOverWorld(TICK);
    await w.dp.grant({ channelId: CH, addresses: [] }, 1000 + CREDIT);
    w.paid.set(CH, 1000);
    w.backend.usageOf.set(CH, { upBytes: 0, downBytes: 1000, totalBytes: 1000 });
    await w.dp.poll();
    // The successor takes the address; 300 bytes go through it before the client moves,
    // which it meters on the old channel: 1300 received there, so it pays tick 3 (1500).
    await w.dp.grant({ channelId: CH2, addresses: [] }, TICK + CREDIT);
    w.backend.usageOf.set(CH2, { upBytes: 0, downBytes: 300, totalBytes: 300 });
    await w.dp.poll();
    w.paid.set(CH, 1500);
    await w.dp.grant({ channelId: CH, addresses: [] }, 1500 + CREDIT);
    // The old channel serves nothing more: the whole 500 paid beyond what it served goes
    // to the new one, whose quota would otherwise stop 200 bytes short of its first tick.
    expect(w.quotaOf(CH2)).toBe(TICK + CREDIT + 500);
    w.backend.usageOf.set(CH2, { upBytes: 0, downBytes: 1200, totalBytes: 1200 });
    await w.dp.poll();
    expect(w.served.get(CH)).toBe(w.paid.get(CH));
    expect(w.served.get(CH2)).toBe(1200 - 500);
  });

  it('while the old channel still holds the address, the tick paid ahead on it stays its own', async () => {
    const w = handOverWorld(500);
    await w.dp.grant({ channelId: CH, addresses: [] }, 1500);
    w.paid.set(CH, 1500);
    w.backend.usageOf.set(CH, { upBytes: 0, downBytes: 1000, totalBytes: 1000 });
    await w.dp.poll();
    // A successor that has not taken the old channel's address (it was granted another):
    // the old one may still serve, so its tick paid ahead is not carried.
    await w.dp.grant({ channelId: CH2, addresses: ['10.42.0.99'] }, 400);
    expect(w.quotaOf(CH2)).toBe(400);
  });

  it('bills nothing to a channel that was not paid beyond what it served, or is not open', async () => {
    const w = handOverWorld();
    await w.dp.grant({ channelId: CH, addresses: [] }, 1000);
    w.paid.set(CH, 800);
    w.backend.usageOf.set(CH, { upBytes: 0, downBytes: 1000, totalBytes: 1000 });
    await w.dp.poll();
    await w.dp.grant({ channelId: CH2, addresses: [] }, 500);
    w.backend.usageOf.set(CH2, { upBytes: 0, downBytes: 300, totalBytes: 300 });
    await w.dp.poll();
    expect(w.metered).toEqual([[CH, 1000], [CH2, 300]]);
    expect(w.quotaOf(CH2)).toBe(500);
  });
});

describe('client side', () => {
  it('routes through the gateway of the open channel and meters both directions to it', async () => {
    const w = world({ role: 'client' });
    await w.dp.poll();
    expect(w.ipCalls).toEqual([]); // no channel, no route
    w.meter.totals = { upBytes: 10, downBytes: 90 };
    await w.dp.poll();
    expect(w.metered).toEqual([]); // bytes with no gateway are nobody's
    w.peers.push({ idHex: hex(GW), address: '10.42.0.1' });
    w.setPayer([{ id: CH, peer: GW }]);
    await w.dp.poll();
    expect(w.ipCalls).toEqual(['-4 route replace default via 10.42.0.1 dev mesh0']);
    expect(w.dp.currentGateway).toEqual({ channelId: CH, gateway: '10.42.0.1' });
    w.meter.totals = { upBytes: 1010, downBytes: 20_090 };
    await w.dp.poll();
    expect(w.metered).toEqual([[CH, 21_000]]);
    expect(w.ipCalls.length).toBe(1); // same gateway: no route change
  });

  it('reports sent and received bytes separately to the agent (demand and delivery)', async () => {
    const w = world({ role: 'client' });
    w.peers.push({ idHex: hex(GW), address: '10.42.0.1' });
    w.setPayer([{ id: CH, peer: GW }]);
    await w.dp.poll();
    w.meter.totals = { upBytes: 500, downBytes: 0 }; // sending into a gateway that returns nothing
    await w.dp.poll();
    w.meter.totals = { upBytes: 700, downBytes: 9000 };
    await w.dp.poll();
    await w.dp.poll(); // idle: nothing reported
    expect(w.traffic).toEqual([
      [CH, 500, 0],
      [CH, 200, 9000],
    ]);
    expect(w.metered).toEqual([
      [CH, 500],
      [CH, 9200],
    ]);
  });

  it('fails over to another gateway and removes the route when no channel is open', async () => {
    const w = world({ role: 'client' });
    const GW2 = new Uint8Array(32).fill(0xcc);
    w.peers.push({ idHex: hex(GW), address: '10.42.0.1' }, { idHex: hex(GW2), address: '10.42.0.2' });
    w.setPayer([{ id: CH, peer: GW }]);
    await w.dp.poll();
    w.setPayer([{ id: CH2, peer: GW2 }]);
    await w.dp.poll();
    w.setPayer([]);
    await w.dp.poll();
    expect(w.ipCalls).toEqual([
      '-4 route replace default via 10.42.0.1 dev mesh0',
      '-4 route replace default via 10.42.0.2 dev mesh0',
      '-4 route del default via 10.42.0.2 dev mesh0',
    ]);
    expect(w.dp.currentGateway).toBeUndefined();
  });
});

describe('the meter timer', () => {
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
  // Real timers: checks every 20 ms; idle reads every 5 s, so within these tests any
  // read after the first is a wake (link jump, route change) or an active one.
  const pace = { idleMs: 5000, quietAfterMs: 200, wakeBytes: 4096 };

  it('reads seldom while nothing moves, and at once when the link jumps or the route changes', async () => {
    let link = 0;
    const w = world({ role: 'client', deps: { pollIntervalMs: 20, pace, linkBytes: () => link } });
    const reads = () => w.dp.stats.polls;
    await w.dp.start();
    try {
      await sleep(400); // past the quiet spell
      const r0 = reads();
      for (let i = 0; i < 30; i++) {
        link += 200; // beacons
        await sleep(20);
      }
      // 600 ms idle: no read, not thirty.
      expect(reads() - r0).toBe(0);
      expect(w.dp.stats.skippedPolls).toBeGreaterThan(20);

      // An award: the route goes in on the next check, not the next idle read.
      w.peers.push({ idHex: hex(GW), address: '10.42.0.1' });
      w.setPayer([{ id: CH, peer: GW }]);
      const t0 = Date.now();
      while (w.ipCalls.length === 0 && Date.now() - t0 < 1000) await sleep(5);
      expect(Date.now() - t0).toBeLessThan(500);

      // A download starts: the link jumps, the bytes are metered within a check or two,
      // and reads stay at the active rate while they flow.
      await sleep(400);
      const before = reads();
      link += 64 * 1024;
      w.meter.totals = { upBytes: 100, downBytes: 64 * 1024 };
      const t1 = Date.now();
      while (w.metered.length === 0 && Date.now() - t1 < 1000) await sleep(5);
      expect(Date.now() - t1).toBeLessThan(500);
      for (let i = 0; i < 10; i++) {
        link += 64 * 1024;
        w.meter.totals = { upBytes: 100, downBytes: w.meter.totals.downBytes + 64 * 1024 };
        await sleep(20);
      }
      expect(reads() - before).toBeGreaterThanOrEqual(6);
      expect(w.metered.reduce((a, [, n]) => a + n, 0)).toBe(100 + 11 * 64 * 1024);
    } finally {
      await w.dp.stop();
    }
  });

  it('reads every check when the link counters cannot be read', async () => {
    const w = world({ role: 'client', deps: { pollIntervalMs: 20, pace, linkBytes: () => undefined } });
    await w.dp.start();
    try {
      await sleep(500);
      expect(w.dp.stats.skippedPolls).toBe(0);
      expect(w.dp.stats.polls).toBeGreaterThanOrEqual(10);
    } finally {
      await w.dp.stop();
    }
  });
});

describe('dataAddressOf', () => {
  it('keeps host addresses, unmaps IPv4-mapped ones, refuses link-local and junk', () => {
    expect(dataAddressOf('10.0.0.1')).toBe('10.0.0.1');
    expect(dataAddressOf('::ffff:10.0.0.1')).toBe('10.0.0.1');
    expect(dataAddressOf('fd00::1')).toBe('fd00::1');
    expect(dataAddressOf('fe80::1%mesh0')).toBeUndefined();
    expect(dataAddressOf('fe80::1')).toBeUndefined();
    expect(dataAddressOf('mesh0')).toBeUndefined();
  });

  it('never returns something that is not an IP address', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        const a = dataAddressOf(s);
        return a === undefined || /^[0-9a-f.:]+$/i.test(a);
      }),
    );
  });
});
