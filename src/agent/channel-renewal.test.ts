// A client that buys more than one channel can pay for moves to a fresh channel with
// the same gateway before the old one runs out (client-auction.ts RENEW_AT_USED_SHARE):
// two agents on loopback, the gateway's zero-conf cap making every channel 1,000 sat
// (about 9.8 MiB at 100 msat/KiB), and 24 MiB downloaded through the client's SOCKS
// endpoint. The downloads go on across the renewals with no failover, every channel
// is paid for what it carried, and the channels left behind are closed.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { socksDownload } from '../../scripts/testing/socks-download.js';
import { waitFor } from '../../scripts/testing/wait-for.js';
import { startDevchain, type DevchainHandle } from '../chain/devchain/server.js';
import { mineBlocks, requestFaucet } from '../chain/devchain/control-client.js';
import { startAgentPair } from './agent-pair.test-support.js';
import type { ChannelReport } from './channel-manager.js';

const PRICE = 100;
const CHANNEL_SAT = 1000;
const MIB = 1024 * 1024;

describe('channel renewal', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('moves to a fresh channel to the same gateway before the old one runs out, with no failover', async () => {
    const chain: DevchainHandle = await startDevchain({ port: 0 });
    cleanups.push(() => chain.close());
    const chunk = Buffer.alloc(64 * 1024, 7);
    const web = http.createServer((req, res) => {
      let left = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('n') ?? 0);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
      const pump = () => {
        while (left > 0) {
          const c = left >= chunk.length ? chunk : chunk.subarray(0, left);
          left -= c.length;
          if (!res.write(c)) return void res.once('drain', pump);
        }
        res.end();
      };
      pump();
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => (web.closeAllConnections(), web.close(() => r()))));
    const webPort = (web.address() as AddressInfo).port;

    // The gateway's first offer (after its uplink probe) is out before the client comes;
    // the client then hears it on arrival (a newcomer gets an offer at once).
    const { gw, cl } = await startAgentPair({
      chainUrl: chain.url,
      config: () => ({
        market: { priceMsatPerKib: PRICE, maxPriceMsatPerKib: PRICE, probeUrl: `http://127.0.0.1:${webPort}/?n=${2 * MIB}`, probeIntervalMs: 60_000 },
        channel: { persistIntervalMs: 100, zeroConfCapSat: CHANNEL_SAT },
        dataplane: { socksPort: 0, allowPrivateDestinations: true },
      }),
      cleanup: (stop) => cleanups.push(stop),
      clientDelayMs: 1500,
    });
    const { address } = (await cl.control('wallet.address', {})) as { address: string };
    // Several coins, so funding one channel never waits for the change of another.
    for (let k = 0; k < 6; k++) await requestFaucet(chain.url, address, 20_000n);
    await mineBlocks(chain.url, 1);
    const miner = setInterval(() => void mineBlocks(chain.url, 1).catch(() => undefined), 1000);
    cleanups.push(() => clearInterval(miner));
    const payer = () => (cl.channels!.list() as ChannelReport[]).filter((c) => c.role === 'payer');
    const payee = () => (gw.channels!.list() as ChannelReport[]).filter((c) => c.role === 'payee');
    await waitFor(() => payer().some((c) => c.state === 'Open'), 20_000, 'first channel open');
    // Sized by the gateway's offer: no larger than what it takes unconfirmed.
    expect(payer()[0]!.capacitySat).toBe(CHANNEL_SAT);

    // 24 MiB in 1 MiB downloads, one after another, as an application would fetch them.
    let received = 0;
    let failedDownloads = 0;
    const t0 = Date.now();
    while (received < 24 * MIB && Date.now() - t0 < 90_000) {
      const r = await socksDownload(cl.socksPort!, { host: '127.0.0.1', port: webPort, path: `/?n=${MIB}` }, { timeoutMs: 10_000 });
      received += r.bytes;
      if (!r.ok) failedDownloads++;
    }
    expect(received).toBeGreaterThanOrEqual(24 * MIB);
    const auction = cl.status().market?.auction;
    expect(auction?.counters.failovers).toBe(0);
    expect(auction?.counters.channelRenewals).toBeGreaterThanOrEqual(2);
    // A download cut when its channel closed behind it is retried by the application; few are.
    expect(failedDownloads).toBeLessThanOrEqual(3);
    // Each channel stayed within what it could pay; together they paid for what was carried.
    for (const c of payee()) expect(c.bytes).toBeLessThanOrEqual(c.capacitySat * 1000 / PRICE * 1024 + 64 * 1024);
    const paidMsat = payee().reduce((s, c) => s + BigInt(c.paidMsat), 0n);
    expect(Number(paidMsat)).toBeGreaterThanOrEqual(((received / 1024) * PRICE) * 0.98);
    // The channels left behind are closed by their gateway on the client's request
    // (10 s after the move), with their best state: the client's change comes back.
    await waitFor(() => payee().filter((c) => c.state === 'Closed' && c.closeTxid !== null).length >= 1, 15_000, 'a left channel closed');
  }, 150_000);
});
