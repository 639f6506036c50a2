// The market on loopback, five agents as separate processes and a devchain: three
// gateways with different prices and different real uplink rates (each relay's paid
// allowance is released at its uplink's rate, scripts/testing/shaped-uplink.ts), and
// two clients downloading through their SOCKS endpoints from a local "internet".
// The gateways' probes all measure the same fast loopback, so their claims do not tell
// them apart: only the clients' own measurements of bytes delivered do. Each client
// ends up awarding the gateway with the best goodput per sat; when that gateway is
// killed, each client awards another within 5 s and its downloads go on through it.
// A system test (hw-test/, one file at a time: it measures real rates, so it must not
// share two cores with other suites); it needs no root.
// MARKET_TEST_LOGS=<dir> keeps every agent's log and the clients' auction status there.
import { spawn, type ChildProcess } from 'node:child_process';
import { appendFile, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../scripts/testing/agent-process.js';
import { buildMarketAgent } from '../../scripts/testing/market-agent-bundle.js';
import type { MarketAgentSettings } from '../../scripts/testing/market-agent.js';
import { socksDownload } from '../../scripts/testing/socks-download.js';
import { startDevchain, type DevchainHandle } from '../../src/chain/devchain/server.js';
import { mineBlocks, requestFaucet } from '../../src/chain/devchain/control-client.js';
import { killChild } from '../../src/os/kill-child.js';
import { controlRequest } from '../../src/agent/control-client.js';
import type { StatusReport } from '../../src/agent/agent.js';

interface GatewaySpec {
  readonly name: string;
  readonly price: number;
  readonly uplinkKbps: number;
}
// Goodput per msat/KiB: A 1000/80 = 12.5, B 4000/100 = 40 (20 when both clients share
// it), C 500/50 = 10. By price alone C would win; the claims come from probes of the
// same loopback and do not tell the uplinks apart.
const GATEWAYS: readonly GatewaySpec[] = [
  { name: 'A', price: 80, uplinkKbps: 1000 },
  { name: 'B', price: 100, uplinkKbps: 4000 },
  { name: 'C', price: 50, uplinkKbps: 500 },
];
const BEST = 'B';
const CLIENT_TUNING = {
  collectMs: 300,
  minTermMs: 5000,
  maxTermMs: 5000,
  minHoldMs: 3000,
  measureWindowMs: 2000,
  startupGraceMs: 10_000,
  failoverMs: 1000,
  // A gateway that failed (here: one whose channel took too long to open on a loaded
  // machine) sits out briefly, so the test does not run out of gateways.
  failureBanMs: 10_000,
  explorationRate: 0,
};

interface Node {
  readonly name: string;
  readonly sock: string;
  readonly child: ChildProcess;
  log: string;
  exited: boolean;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('five agents run the market on loopback', () => {
  const cleanups: (() => unknown)[] = [];
  let bundle = '';
  beforeAll(async () => {
    bundle = await buildMarketAgent();
  });
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('each client awards the best goodput per sat, and fails over within 5 s when it stops', async () => {
    const chain: DevchainHandle = await startDevchain({ port: 0 });
    cleanups.push(() => chain.close());
    // The "internet", in a process of its own: an endless body for downloads, 2 MiB for probes.
    const web = spawn(process.execPath, [path.resolve('scripts/testing/internet-server.mjs')], { stdio: ['ignore', 'pipe', 'inherit'] });
    cleanups.push(() => killChild(web, 'SIGTERM'));
    const webPort = await new Promise<number>((resolve, reject) => {
      web.stdout!.once('data', (d: Buffer) => resolve(Number(d.toString().trim())));
      web.once('exit', (code) => reject(new Error(`internet server exited with ${code}`)));
    });

    const all = await freePorts(7); // one call: all distinct
    const ports = all.slice(0, 5);
    const socksPorts = all.slice(5);
    const nodes = new Map<string, Node>();
    const start = async (name: string, uci: string, settings: MarketAgentSettings) => {
      const dir = await mkdtemp(path.join(tmpdir(), `bitmesh-market-${name}-`));
      const file = path.join(dir, 'bitmesh.conf');
      await writeFile(file, uci.replaceAll('@DIR@', dir));
      const child = spawn(process.execPath, [bundle, '--config', file, '--market', JSON.stringify(settings)], { stdio: ['ignore', 'ignore', 'pipe'] });
      const n: Node = { name, sock: path.join(dir, 'bitmesh.sock'), child, log: '', exited: false };
      child.stderr?.on('data', (d: Buffer) => (n.log = (n.log + d.toString()).slice(-20_000)));
      child.on('exit', () => (n.exited = true));
      if (process.env['MARKET_TEST_LOGS']) child.stderr?.on('data', (d: Buffer) => void appendFile(path.join(process.env['MARKET_TEST_LOGS']!, `${name}.log`), d));
      cleanups.push(() => (n.exited ? undefined : stopNode(n)));
      nodes.set(name, n);
    };
    const common = (port: number, channel = '') =>
      `config mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${port}'\n\toption hello_interval_ms '250'\n\toption neighbour_expiry_ms '2500'\n` +
      ports.map((p) => `\tlist peer '127.0.0.1:${p}'\n`).join('') +
      `config channel 'channel'\n\toption persist_interval_ms '200'\n${channel}` +
      `config chain 'chain'\n\toption backend 'esplora'\n\toption esplora_url '${chain.url}'\n`;
    for (const [i, g] of GATEWAYS.entries()) {
      await start(
        g.name,
        `config agent 'main'\n\toption role 'gateway'\n\toption state_dir '@DIR@'\n` +
          // 20 sat of credit: at any award price (≤ 200 msat/KiB) it covers several 16 KiB ticks.
          common(ports[i]!, `\toption max_credit_msat '20000'\n`) +
          `config market 'market'\n\toption price_msat_per_kib '${g.price}'\n` +
          `config dataplane 'dataplane'\n\toption allow_private_destinations '1'\n`,
        { probeUrl: `http://127.0.0.1:${webPort}/probe`, probeIntervalMs: 10_000, uplinkKbps: g.uplinkKbps },
      );
    }
    for (const [i, name] of ['client-1', 'client-2'].entries()) {
      await start(
        name,
        `config agent 'main'\n\toption role 'client'\n\toption state_dir '@DIR@'\n` +
          common(ports[3 + i]!) +
          `config market 'market'\n\toption max_price_msat_per_kib '200'\n` +
          `config dataplane 'dataplane'\n\toption socks_port '${socksPorts[i]}'\n`,
        { client: CLIENT_TUNING },
      );
    }
    const status = async (name: string): Promise<StatusReport | undefined> => {
      try {
        return (await controlRequest(nodes.get(name)!.sock, 'status', {}, 3000)) as StatusReport;
      } catch {
        return undefined;
      }
    };
    const waitFor = async <T>(what: string, ms: number, probe: () => Promise<T | undefined>): Promise<T> => {
      const t0 = Date.now();
      for (;;) {
        const v = await probe().catch(() => undefined);
        if (v !== undefined) return v;
        if (Date.now() - t0 > ms) {
          const logs = [...nodes.values()].map((n) => `--- ${n.name}\n${n.log.slice(-3000)}`).join('\n');
          throw new Error(`timed out after ${ms} ms: ${what}\n${logs}`);
        }
        await sleep(100);
      }
    };

    // Ids of the gateways, and money for the clients (several coins, so funding one
    // channel never waits for the change of another); a block a second confirms them.
    const idOf = new Map<string, string>();
    for (const g of GATEWAYS) idOf.set(g.name, (await waitFor(`${g.name} up`, 20_000, () => status(g.name))).node.idHex);
    for (const name of ['client-1', 'client-2']) {
      const s = await waitFor(`${name} up`, 20_000, () => status(name));
      const { address } = (await controlRequest(nodes.get(name)!.sock, 'wallet.address', {}, 3000)) as { address: string };
      for (let k = 0; k < 6; k++) await requestFaucet(chain.url, address, 200_000n);
      expect(s.node.role).toBe('client');
    }
    await mineBlocks(chain.url, 1);
    const miner = setInterval(() => void mineBlocks(chain.url, 1).catch(() => undefined), 1000);
    cleanups.push(() => clearInterval(miner));

    // Both clients download without pause, reconnecting whenever a transfer ends.
    const received = new Map<string, number>([['client-1', 0], ['client-2', 0]]);
    let downloading = true;
    // Bytes count as they arrive, so progress is seen at once, not when a download ends.
    const loops = ['client-1', 'client-2'].map(async (name, i) => {
      while (downloading) {
        const r = await socksDownload(
          socksPorts[i]!,
          { host: '127.0.0.1', port: webPort, path: '/data' },
          { timeoutMs: 4000, maxBytes: 64 * 1024 * 1024, onBytes: (n) => received.set(name, received.get(name)! + n) },
        );
        if (!r.ok || r.bytes === 0) await sleep(100);
      }
    });
    cleanups.push(async () => {
      downloading = false;
      await Promise.all(loops);
    });

    // 1. Each client settles on B: it has tried and measured every gateway (untried
    //    ones win on their claims first), and by its own measurements B gives the most
    //    goodput per msat.
    const nameOf = (hex: string) => GATEWAYS.find((g) => idOf.get(g.name) === hex)?.name ?? hex.slice(0, 8);
    const settled = new Map<string, NonNullable<StatusReport['market']['auction']>>();
    for (const name of ['client-1', 'client-2']) {
      const a = await waitFor(`${name} awards ${BEST} on its own measurements`, 75_000, async () => {
        const a = (await status(name))?.market.auction;
        if (process.env['MARKET_TEST_LOGS']) await appendFile(path.join(process.env['MARKET_TEST_LOGS'], `${name}.status`), JSON.stringify({ at: Date.now(), a }) + '\n');
        if (!a?.award || nameOf(a.award.gatewayHex) !== BEST || !a.award.channelOpen) return undefined;
        const measured = a.gateways.filter((g) => g.measuredKbps !== null && g.bidPriceMsatPerKiB !== null);
        if (measured.length < GATEWAYS.length) return undefined;
        const perSat = (g: (typeof measured)[number]) => g.measuredKbps! / g.bidPriceMsatPerKiB!;
        const best = measured.reduce((x, y) => (perSat(y) > perSat(x) ? y : x));
        return nameOf(best.gatewayHex) === BEST ? a : undefined;
      });
      settled.set(name, a);
    }
    // status shows the award: gateway, price, measured rate.
    const shown = settled.get('client-1')!.award!;
    expect(shown.gateway.startsWith('bm1')).toBe(true);
    expect(shown.priceMsatPerKiB).toBeGreaterThanOrEqual(100);
    expect(shown.measuredKbps).toBeGreaterThan(0);

    const gwB = (await status(BEST))!.market.bidding!;
    expect(gwB.counters.accepted).toBeGreaterThanOrEqual(2);

    // 2. B dies while both clients use it. Each awards another gateway within 5 s, and
    //    its downloads go on through it.
    await waitFor(`both clients on ${BEST} at once`, 30_000, async () => {
      const [a, b] = await Promise.all([status('client-1'), status('client-2')]);
      const on = (x: StatusReport | undefined) => x?.market.auction?.award?.channelOpen && nameOf(x.market.auction.award.gatewayHex) === BEST;
      return on(a) && on(b) ? true : undefined;
    });
    const killedAt = Date.now();
    killChild(nodes.get(BEST)!.child, 'SIGKILL');
    // Both clients at once: each awards another gateway, then 64 KiB reach it through
    // the new gateways (counted from the award: B is dead, nothing else can carry them).
    // The client notices either way: its watchdog reports B failed, or B's award term
    // ends and B, dead, sends no bid, so another gateway simply wins the auction.
    const recovered = await Promise.all(
      ['client-1', 'client-2'].map(async (name) => {
        const award = await waitFor(`${name} awards another gateway`, 15_000, async () => {
          const a = (await status(name))?.market.auction?.award;
          return a && nameOf(a.gatewayHex) !== BEST ? a : undefined;
        });
        const afterMs = Date.now() - killedAt;
        const gateway = nameOf(award.gatewayHex);
        const before = received.get(name)!;
        await waitFor(`${name} downloads through ${gateway}`, 15_000, async () => {
          const a = (await status(name))?.market.auction;
          return a?.award?.channelOpen && nameOf(a.award.gatewayHex) !== BEST && received.get(name)! > before + 64 * 1024 ? true : undefined;
        });
        return { name, afterMs, gateway, bytesAfterMs: Date.now() - killedAt };
      }),
    );
    console.info(
      `failover: ${recovered.map((r) => `${r.name} awarded ${r.gateway} ${r.afterMs} ms after the kill, had 64 KiB more after ${r.bytesAfterMs} ms`).join('; ')}`,
    );
    for (const r of recovered) {
      expect(['A', 'C']).toContain(r.gateway);
      expect(r.afterMs, `${r.name} awarded ${r.gateway} ${r.afterMs} ms after the kill`).toBeLessThanOrEqual(5000);
    }
  }, 150_000);
});

async function stopNode(n: Node): Promise<void> {
  killChild(n.child, 'SIGTERM');
  const t0 = Date.now();
  while (!n.exited && Date.now() - t0 < 5000) await sleep(50);
  if (!n.exited) killChild(n.child, 'SIGKILL');
}
