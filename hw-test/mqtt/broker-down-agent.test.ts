// A real gateway agent sells through a paid channel while its MQTT broker is down for
// a minute: the client keeps downloading and paying (selling never waits on the
// broker), and once the broker is back the gateway republishes its status within 10 s.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import type { StatusReport } from '../../src/agent/agent.js';
import type { ChannelReport } from '../../src/agent/channel-manager.js';
import { controlRequest } from '../../src/agent/control-client.js';
import { requestFaucet } from '../../src/chain/devchain/control-client.js';
import { startDevchain } from '../../src/chain/devchain/server.js';
import { BUNDLE, freePorts } from '../../scripts/testing/agent-process.js';
import { socksDownload } from '../../scripts/testing/socks-download.js';
import { Mosquitto, OPERATOR_USER, mosquittoUnavailable } from './mosquitto.js';
import { Observer, keyPair, nodePassword, waitFor } from './harness.js';

const why = await mosquittoUnavailable();
if (why) console.warn(`hw-test/mqtt/broker-down-agent: SKIPPED (${why}); CI installs the Debian packages mosquitto and mosquitto-clients`);

const OUTAGE_MS = Number(process.env['BITMESH_BROKER_OUTAGE_MS'] ?? 60_000);
const OP_PW = 'operator-pw';
const G = keyPair(77);

describe.runIf(!why)('a gateway agent through a broker outage', () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it(`keeps selling through a ${OUTAGE_MS / 1000} s outage and republishes status within 10 s`, { timeout: OUTAGE_MS + 90_000 }, async () => {
    const broker = await Mosquitto.start(new Map([[OPERATOR_USER, OP_PW], [G.bech32, nodePassword(G.bech32)]]));
    cleanups.push(() => broker.stop());
    const chain = await startDevchain({ port: 0 });
    cleanups.push(() => chain.close());
    // Whole 1 MiB bodies, each read to its end (an aborted download strands bytes the
    // gateway counted but the client never read: that is the channel's loss tolerance,
    // not what this test is about).
    const body = Buffer.alloc(1 << 20, 1);
    const web = http.createServer((_q, res) => {
      res.writeHead(200, { 'content-length': body.length });
      res.end(body);
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    cleanups.push(() => web.close());
    const webPort = (web.address() as { port: number }).port;
    const [gwPort, clPort, socksPort] = (await freePorts(3)) as [number, number, number];
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-outage-'));
    const agent = async (role: 'gateway' | 'client', port: number, extra: string) => {
      const state = path.join(dir, role);
      await mkdir(state, { mode: 0o700 });
      if (role === 'gateway') await writeFile(path.join(state, 'node.key'), bytesToHex(G.sk) + '\n', { mode: 0o600 });
      const file = path.join(dir, `${role}.conf`);
      await writeFile(
        file,
        `config agent 'main'\n\toption role '${role}'\n\toption state_dir '${state}'\n` +
          `config mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${port}'\n\tlist peer '127.0.0.1:${gwPort}'\n\tlist peer '127.0.0.1:${clPort}'\n` +
          `config market 'market'\n\toption price_msat_per_kib '10'\n` +
          `config chain 'chain'\n\toption esplora_url '${chain.url}'\n` +
          `config dataplane 'dataplane'\n\toption socks_port '${socksPort}'\n\toption allow_private_destinations '1'\n` +
          extra,
      );
      const child: ChildProcess = spawn(process.execPath, [BUNDLE, 'agent', '--config', file], { stdio: 'ignore' });
      cleanups.push(() => child.kill('SIGKILL'));
      return path.join(state, 'bitmesh.sock');
    };
    const gw = await agent(
      'gateway',
      gwPort,
      `config mgmt 'mgmt'\n\toption broker_url '${broker.url}'\n\toption username '${G.bech32}'\n\toption password '${nodePassword(G.bech32)}'\n\toption metrics_interval_ms '1000'\n`,
    );
    const cl = await agent('client', clPort, '');
    const ask = <T>(sock: string, cmd: string, args: Record<string, unknown> = {}) => controlRequest(sock, cmd, args, 5000) as Promise<T>;
    const statusTopic = `bitmesh/${G.bech32}/status`;
    const before = await Observer.connect(broker.url, OPERATOR_USER, OP_PW, [statusTopic]);
    cleanups.push(() => before.close().catch(() => undefined));
    await waitFor(() => before.on(statusTopic).some((m) => m.text.includes('"online"')) || undefined, 10_000, 'gateway online on MQTT');
    await waitFor(async () => ((await ask<StatusReport>(cl, 'status').catch(() => undefined))?.chain?.tip ?? null) !== null || undefined, 10_000, 'client chain');
    await waitFor(async () => (await ask<unknown[]>(cl, 'peers').catch(() => [])).length === 1 || undefined, 10_000, 'peers');
    const { address } = await ask<{ address: string }>(cl, 'wallet.address');
    await requestFaucet(chain.url, address, 1_000_000n, { mine: 1 });
    const { channelId } = await ask<{ channelId: string }>(cl, 'channel.open', { peer: G.bech32, capacitySat: 90_000, priceMsatPerKiB: 10 });
    const paid = async () => BigInt((await ask<ChannelReport[]>(gw, 'channels')).find((c) => c.id === channelId)?.paidMsat ?? '0');
    await waitFor(async () => ((await ask<ChannelReport[]>(gw, 'channels')).find((c) => c.id === channelId)?.grantedBytes ?? 0) > 0 || undefined, 10_000, 'channel open');

    // Download continuously, 1 MiB at a time, for the whole outage.
    let stop = false;
    let bought = 0;
    const downloading = (async () => {
      while (!stop) {
        const r = await socksDownload(socksPort, { host: '127.0.0.1', port: webPort, path: '/' }, { timeoutMs: 20_000 });
        if (r.ok) bought += r.bytes;
      }
    })();
    await new Promise((r) => setTimeout(r, 1000));
    await broker.pause();
    const down = Date.now();
    const paidAtDown = await paid();
    const boughtAtDown = bought;
    await new Promise((r) => setTimeout(r, OUTAGE_MS));
    const paidAtEnd = await paid();
    const boughtDuring = bought - boughtAtDown;
    // Selling went on: bytes bought and sats earned throughout the outage.
    expect(boughtDuring).toBeGreaterThan(10 << 20);
    expect(paidAtEnd - paidAtDown).toBeGreaterThan(BigInt(Math.floor((boughtDuring / 1024) * 10 * 0.9)));

    await broker.resume();
    const back = Date.now();
    let watcher: Observer | undefined;
    const metricsTopic = `bitmesh/${G.bech32}/metrics`;
    while (!watcher && Date.now() < back + 10_000) watcher = await Observer.connect(broker.url, OPERATOR_USER, OP_PW, [statusTopic, metricsTopic]).catch(() => undefined);
    if (!watcher) throw new Error('observer could not reconnect');
    cleanups.push(() => watcher!.close().catch(() => undefined));
    const s = await waitFor(() => watcher!.on(statusTopic).find((m) => m.text.includes('"online"')), back + 10_000 - Date.now(), 'status republished');
    console.info(`broker-down-agent: sold ${(boughtDuring / 2 ** 20).toFixed(1)} MiB for ${(Number(paidAtEnd - paidAtDown) / 1000).toFixed(0)} sat during a ${OUTAGE_MS} ms outage; status back ${s.at - back} ms after the broker (down at ${down})`);
    expect(s.at - back).toBeLessThanOrEqual(10_000);
    // And its metrics report what it earned and sold, from the channel itself.
    const m = await waitFor(
      () => watcher!.on(metricsTopic).map((x) => JSON.parse(x.text) as { ts: number; earnedMsat: number; bytesSold: number; channelsOpen: number }).find((x) => x.ts >= back + 1000),
      5000,
      'fresh metrics',
    );
    expect(m.bytesSold).toBeGreaterThan(boughtDuring);
    expect(m.channelsOpen).toBe(1);
    expect(BigInt(m.earnedMsat)).toBeGreaterThanOrEqual(paidAtEnd);
    stop = true;
    await downloading;
  });
});
