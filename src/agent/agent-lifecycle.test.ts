// Start and stop an in-process agent many times: every socket, timer and file handle
// it opened is gone afterwards, and a stopped agent's port can be bound again.
import dgram from 'node:dgram';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../config/load.js';
import { Crypto } from '../crypto/facade.js';
import { freePorts } from '../../scripts/testing/agent-process.js';
import { Agent } from './agent.js';
import { loadOrCreateIdentity } from './identity.js';
import { silentLogger } from './log.js';

const activeHandles = () => (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles().length;

describe('agent lifecycle', () => {
  it('leaves no handle behind after 20 start/stop cycles', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-life-'));
    const [port, chainPort] = (await freePorts(2)) as [number, number];
    const crypto = new Crypto();
    const { identity } = await loadOrCreateIdentity(dir, crypto);
    // The whole agent: a devchain it starts itself, the proxy endpoint, the channel store.
    const config = defaultConfig({
      agent: { stateDir: dir },
      mesh: { bindAddress: '127.0.0.1', port, peer: [{ host: '127.0.0.1', port }] },
      chain: { esploraUrl: `http://127.0.0.1:${chainPort}` },
      dataplane: { socksPort: 0 },
    });
    const before = activeHandles();
    for (let i = 0; i < 20; i++) {
      const agent = new Agent({ config, identity, crypto, log: silentLogger });
      await agent.start();
      expect(agent.status().mesh.port).toBe(port);
      if (i === 0) {
        // Once, let the chain come up fully before stopping.
        while (agent.status().chain?.tip === null) await new Promise((r) => setTimeout(r, 20));
      }
      await agent.stop();
    }
    await new Promise((r) => setTimeout(r, 50));
    expect(activeHandles()).toBeLessThanOrEqual(before);
    // The port is free again.
    const s = dgram.createSocket('udp4');
    await new Promise<void>((resolve, reject) => {
      s.once('error', reject);
      s.bind(port, '127.0.0.1', () => resolve());
    });
    s.close();
  });

  it('refuses a second agent on the same control socket', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-life-'));
    const [p1, p2] = (await freePorts(2)) as [number, number];
    const crypto = new Crypto();
    const { identity } = await loadOrCreateIdentity(dir, crypto);
    const mk = (port: number) =>
      new Agent({ config: defaultConfig({ agent: { stateDir: dir }, mesh: { bindAddress: '127.0.0.1', port }, chain: { backend: 'none' } }), identity, crypto, log: silentLogger });
    const first = mk(p1);
    await first.start();
    await expect(mk(p2).start()).rejects.toMatchObject({ code: 'already_running' });
    expect(first.status().node.id).toBe(identity.idBech32);
    await first.stop();
  });
});
