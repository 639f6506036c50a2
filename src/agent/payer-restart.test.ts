// The client (payer) agent restarts in the middle of a paid channel: it must restore
// the channel from its snapshot (re-signing its latest state on the way) and go on
// paying for what it receives. Regression: restore used to sign before the channel
// was registered and failed with `not_funded`, losing the channel until expiry.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { freePorts } from '../../scripts/testing/agent-process.js';
import { waitFor } from '../../scripts/testing/wait-for.js';
import { startDevchain } from '../chain/devchain/server.js';
import { mineBlocks, requestFaucet } from '../chain/devchain/control-client.js';
import { defaultConfig } from '../config/load.js';
import { Crypto } from '../crypto/facade.js';
import { Agent } from './agent.js';
import type { ChannelReport } from './channel-manager.js';
import { loadOrCreateIdentity } from './identity.js';
import { silentLogger } from './log.js';


describe('a payer agent restarting mid-channel', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('restores the channel with what it already paid and keeps paying', async () => {
    const chain = await startDevchain({ port: 0 });
    cleanups.push(() => chain.close());
    const ports = await freePorts(2);
    const crypto = new Crypto();
    const make = async (role: 'gateway' | 'client', dir: string) => {
      const { identity } = await loadOrCreateIdentity(dir, crypto);
      const config = defaultConfig({
        agent: { role, stateDir: dir },
        mesh: { bindAddress: '127.0.0.1', port: ports[role === 'gateway' ? 0 : 1]!, helloIntervalMs: 200, peer: ports.map((port) => ({ host: '127.0.0.1', port })) },
        market: { priceMsatPerKib: 100 },
        channel: { persistIntervalMs: 100 },
        chain: { esploraUrl: chain.url },
        dataplane: { socksPort: 0 },
      });
      const a = new Agent({ config, identity, crypto, log: silentLogger });
      await a.start();
      return a;
    };
    const gwDir = await mkdtemp(path.join(tmpdir(), 'bitmesh-pr-gw-'));
    const clDir = await mkdtemp(path.join(tmpdir(), 'bitmesh-pr-cl-'));
    const gw = await make('gateway', gwDir);
    cleanups.push(() => gw.stop());
    let cl = await make('client', clDir);
    cleanups.push(() => cl.stop());
    await waitFor(() => gw.peers().length === 1 && cl.peers().length === 1, 5000, 'discovery');
    await waitFor(() => gw.status().chain?.tip !== null && cl.status().chain?.tip !== null, 5000, 'chain tip');

    const { address } = (await cl.control('wallet.address', {})) as { address: string };
    await requestFaucet(chain.url, address, 1_000_000n, { mine: 1 });
    const { channelId } = (await cl.control('channel.open', { peer: gw.status().node.id, capacitySat: 200_000, priceMsatPerKiB: 100 })) as { channelId: string };
    const report = (a: Agent) => (a.channels!.list() as ChannelReport[]).find((c) => c.id === channelId);
    await waitFor(() => report(cl)?.funding != null, 5000, 'funding broadcast');
    await new Promise((r) => setTimeout(r, 300));
    await mineBlocks(chain.url, 1);
    await waitFor(() => report(gw)?.state === 'Open' && report(cl)?.state === 'Open', 5000, 'channel open');

    // Bytes flow only as far as the gateway grants; both sides meter them.
    const move = async (total: number) => {
      let sent = 0;
      while (sent < total) {
        await waitFor(() => (report(gw)?.grantedBytes ?? 0) > (report(gw)?.bytes ?? 0), 5000, 'allowance');
        const n = Math.min(64 * 1024, report(gw)!.grantedBytes! - report(gw)!.bytes, total - sent);
        gw.channels!.metered(channelId, n);
        cl.channels!.metered(channelId, n);
        sent += n;
      }
    };
    await move(2 * 1024 * 1024);
    await waitFor(() => BigInt(report(gw)!.paidMsat) >= 200_000n, 5000, 'first payments');
    await new Promise((r) => setTimeout(r, 300)); // past the persist interval
    const paidBefore = BigInt(report(gw)!.paidMsat);

    await cl.stop();
    cl = await make('client', clDir);
    await waitFor(() => report(cl)?.state === 'Open', 10_000, 'payer channel restored');
    expect(BigInt(report(cl)!.paidMsat)).toBeGreaterThanOrEqual(paidBefore);

    // It keeps paying for what it receives after the restart.
    await move(2 * 1024 * 1024);
    await waitFor(() => BigInt(report(gw)!.paidMsat) >= paidBefore + 200_000n, 10_000, 'payments after restart');
    // Never more than received + one tick: 4 MiB at 100 msat/KiB = 409,600 msat.
    expect(BigInt(report(gw)!.paidMsat)).toBeLessThanOrEqual(409_600n + 16n * 100n);
  }, 60_000);
});
