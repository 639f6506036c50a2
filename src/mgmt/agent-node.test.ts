import { describe, it, expect } from 'vitest';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { silentLogger } from '../agent/log.js';
import { AgentNode, type AgentNodeDeps } from './agent-node.js';
import { MgmtError } from './errors.js';
import type { NodeEvent } from './managed-node.js';

const status: AgentNodeDeps['status'] = () =>
  ({
    node: { id: 'bm1x', idHex: '00', role: 'gateway', version: 't', pid: 1, uptimeS: 5, firstHelloAfterMs: 0 },
    mesh: { port: 1, bind: 'any', interfaces: [], neighbours: 4, sendErrors: 0, linkQuality: null },
    crypto: { name: 'noble', reason: 'default' },
    memory: { rssBytes: 10, heapUsedBytes: 5 },
  }) as unknown as ReturnType<AgentNodeDeps['status']>;

function make(configPath?: string) {
  let restarts = 0;
  const n = new AgentNode({ status, initialPriceMsatPerKiB: 100, configPath, log: silentLogger, clock: () => 42, restart: () => (restarts += 1) });
  const events: NodeEvent[] = [];
  n.onEvent((e) => events.push(e));
  return { n, events, restarts: () => restarts };
}

describe('AgentNode', () => {
  it('holds price and selling, reports them in status and metrics, and emits events', async () => {
    const { n, events, restarts } = make();
    expect(n.status()).toMatchObject({ node: 'bm1x', priceMsatPerKiB: 100, selling: true, uptimeS: 5 });
    n.setPrice(250);
    n.pauseSelling();
    expect(n.metrics()).toMatchObject({ priceMsatPerKiB: 250, selling: false, peers: 4, cryptoBackend: 'noble', ts: 42 });
    n.resumeSelling();
    expect(events.map((e) => e.kind)).toEqual(['price_changed', 'selling_paused', 'selling_resumed']);
    await n.restart();
    expect(restarts()).toBe(1);
  });

  it('set_config writes the file and applies the price; without a file it refuses', async () => {
    await expect(make().n.setConfigOption('market', 'price_msat_per_kib', '5')).rejects.toMatchObject({ code: 'refused' });
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-agentnode-'));
    try {
      const file = path.join(dir, 'bitmesh');
      const { n } = make(file);
      await n.setConfigOption('market', 'price_msat_per_kib', '77');
      expect(n.priceMsatPerKiB).toBe(77);
      expect(await readFile(file, 'utf8')).toContain("price_msat_per_kib '77'");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('has no channels to close yet', async () => {
    await expect(make().n.closeChannel('c')).rejects.toBeInstanceOf(MgmtError);
  });
});
