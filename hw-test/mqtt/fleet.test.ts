// 50 nodes on one broker, each with its own MQTT connection and credentials:
// `bitmesh fleet --json` lists all 50, online, with fresh metrics.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { fleetCommand } from '../../src/cli/commands/fleet.js';
import type { FleetEntry } from '../../src/mgmt/fleet-view.js';
import { Mosquitto, OPERATOR_USER, mosquittoUnavailable } from './mosquitto.js';
import { keyPair, nodePassword, runCli, startNode, type RunningNode } from './harness.js';

const why = await mosquittoUnavailable();
if (why) console.warn(`hw-test/mqtt/fleet: SKIPPED (${why}); CI installs the Debian packages mosquitto and mosquitto-clients`);

const N = 50;
const OP_PW = 'operator-pw';
const operator = keyPair(3000);
const keys = Array.from({ length: N }, (_, i) => keyPair(100 + i));

describe.runIf(!why)('bitmesh fleet', () => {
  let broker: Mosquitto;
  const nodes: RunningNode[] = [];

  beforeAll(async () => {
    broker = await Mosquitto.start(new Map([[OPERATOR_USER, OP_PW], ...keys.map((k) => [k.bech32, nodePassword(k.bech32)] as [string, string])]));
    for (let i = 0; i < N; i++) nodes.push(await startNode({ seed: 100 + i, url: broker.url, operators: [operator.pub], metricsIntervalMs: 1000 }));
    for (const [i, n] of nodes.entries()) n.node.sell(1024 * (i + 1));
  });

  afterAll(async () => {
    await Promise.all(nodes.map((n) => n.stop()));
    await broker?.stop();
  });

  it(`--json lists all ${N} nodes with fresh metrics`, async () => {
    const out: string[] = [];
    const err: string[] = [];
    const t0 = Date.now();
    const rc = await runCli(fleetCommand, ['--broker', broker.url, '--username', OPERATOR_USER, '--password', OP_PW, '--json', '--once', '--wait-ms', '2500'], {
      out: (t) => out.push(t),
      err: (t) => err.push(t),
    });
    expect(err).toEqual([]);
    expect(rc).toBe(0);
    const list = JSON.parse(out.join('\n')) as FleetEntry[];
    expect(list.map((e) => e.node).sort()).toEqual(keys.map((k) => k.bech32).sort());
    for (const e of list) {
      expect(e.state).toBe('online');
      expect(e.metrics).not.toBeNull();
      expect(e.metricsAgeMs).toBeLessThan(2500);
      expect(e.metrics!.ts).toBeGreaterThan(t0 - 1500);
      const i = keys.findIndex((k) => k.bech32 === e.node);
      expect(e.metrics!.bytesSold).toBe(1024 * (i + 1));
    }
    console.info(`fleet: ${list.length} nodes listed in ${Date.now() - t0} ms`);
  });

  it('the table names every node', async () => {
    const out: string[] = [];
    const rc = await runCli(fleetCommand, ['--broker', broker.url, '--username', OPERATOR_USER, '--password', OP_PW, '--once', '--wait-ms', '1200'], {
      out: (t) => out.push(t),
      err: () => {},
    });
    expect(rc).toBe(0);
    const text = out.join('\n');
    for (const k of keys) expect(text).toContain(k.bech32);
    expect(text).toContain(`${N} nodes, ${N} online`);
  });
});
