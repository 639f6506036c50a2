// Real agents (the bundled CLI, one process each) with remote management on a real
// mosquitto: retained status, fleet with fresh metrics, a signed set-price that the
// agent's own `status` then reports, and the last will when an agent is killed.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { StatusReport } from '../../src/agent/agent.js';
import { controlRequest } from '../../src/agent/control-client.js';
import { fleetCommand } from '../../src/cli/commands/fleet.js';
import { mgmtCommand } from '../../src/cli/commands/mgmt.js';
import type { FleetEntry } from '../../src/mgmt/fleet-view.js';
import { BUNDLE, freePorts } from '../../scripts/testing/agent-process.js';
import { Mosquitto, OPERATOR_USER, mosquittoUnavailable } from './mosquitto.js';
import { Observer, keyPair, nodePassword, runCli, waitFor } from './harness.js';

const why = await mosquittoUnavailable();
if (why) console.warn(`hw-test/mqtt/agent-processes: SKIPPED (${why}); CI installs the Debian packages mosquitto and mosquitto-clients`);

const OP_PW = 'operator-pw';
const operator = keyPair(4000);
const keys = [keyPair(40), keyPair(41), keyPair(42)];

describe.runIf(!why)('agents with remote management', () => {
  let broker: Mosquitto;
  let dir: string;
  let observer: Observer;
  const children: ChildProcess[] = [];
  const sockets: string[] = [];
  const output: string[] = ['', '', ''];

  beforeAll(async () => {
    broker = await Mosquitto.start(new Map([[OPERATOR_USER, OP_PW], ...keys.map((k) => [k.bech32, nodePassword(k.bech32)] as [string, string])]));
    observer = await Observer.connect(broker.url, OPERATOR_USER, OP_PW, ['bitmesh/#']);
    dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-mgmt-agents-'));
    const ports = await freePorts(keys.length);
    for (const [i, k] of keys.entries()) {
      const state = path.join(dir, `n${i}`);
      await mkdir(state, { mode: 0o700 });
      await writeFile(path.join(state, 'node.key'), bytesToHex(k.sk) + '\n', { mode: 0o600 });
      const conf = path.join(dir, `n${i}.conf`);
      await writeFile(
        conf,
        `config agent 'main'\n\toption role 'gateway'\n\toption state_dir '${state}'\n` +
          `config mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${ports[i]}'\n\toption ipv4_broadcast '0'\n` +
          ports.filter((_, j) => j !== i).map((p) => `\tlist peer '127.0.0.1:${p}'\n`).join('') +
          `config market 'market'\n\toption price_msat_per_kib '100'\n` +
          `config chain 'chain'\n\toption backend 'none'\n` +
          `config mgmt 'mgmt'\n\toption broker_url '${broker.url}'\n\toption username '${k.bech32}'\n\toption password '${nodePassword(k.bech32)}'\n` +
          `\tlist operator '${operator.bech32}'\n\toption metrics_interval_ms '1000'\n`,
      );
      const child = spawn(process.execPath, [BUNDLE, 'agent', '--config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
      child.stderr?.on('data', (d: Buffer) => (output[i] += d.toString()));
      children.push(child);
      sockets.push(path.join(state, 'bitmesh.sock'));
    }
    for (const k of keys) await waitFor(() => observer.on(`bitmesh/${k.bech32}/status`).some((m) => m.text.includes('"online"')), 10_000, `${k.bech32} online`);
  });

  afterAll(async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
    await observer?.close();
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('fleet --json lists every agent with fresh metrics', async () => {
    const out: string[] = [];
    const rc = await runCli(fleetCommand, ['--broker', broker.url, '--username', OPERATOR_USER, '--password', OP_PW, '--json', '--wait-ms', '1500'], { out: (t) => out.push(t), err: (t) => out.push(t) });
    expect(rc).toBe(0);
    const list = JSON.parse(out.join('\n')) as FleetEntry[];
    expect(list.map((e) => e.node).sort()).toEqual(keys.map((k) => k.bech32).sort());
    for (const e of list) {
      expect(e.state).toBe('online');
      expect(e.metrics?.priceMsatPerKiB).toBe(100);
      expect(e.metrics?.peers).toBe(2);
      expect(e.metricsAgeMs).toBeLessThan(1500);
    }
  });

  it('a signed set-price changes the price the agent reports and the next OFFER', async () => {
    const keyFile = path.join(dir, 'operator.key');
    await writeFile(keyFile, bytesToHex(operator.sk) + '\n', { mode: 0o600 });
    const out: string[] = [];
    const rc = await runCli(
      mgmtCommand,
      ['send', '--to', keys[0]!.bech32, '--key', keyFile, '--broker', broker.url, '--username', OPERATOR_USER, '--password', OP_PW, 'set-price', '321'],
      { out: (t) => out.push(t), err: (t) => out.push(t) },
    );
    expect(out.join('\n')).toContain('ok set_price');
    expect(rc).toBe(0);
    const s = (await controlRequest(sockets[0]!, 'status', {}, 2000)) as StatusReport;
    expect(s.market.priceMsatPerKiB).toBe(321);
    expect(s.mgmt).toMatchObject({ state: 'connected', commandsAccepted: 1 });
    expect(output[0]).toContain('price set remotely');
    // The next OFFER carries it: a neighbour hears the new price on the mesh.
    await waitFor(
      async () => {
        const peer = (await controlRequest(sockets[1]!, 'status', {}, 2000)) as StatusReport;
        return peer.market.offers.some((o) => o.gateway === keys[0]!.bech32 && o.priceMsatPerKiB === 321) || undefined;
      },
      5000,
      'the new price in an OFFER heard by a neighbour',
    );
  });

  it('the broker publishes the last will when an agent is killed', async () => {
    const victim = children[2]!;
    victim.kill('SIGKILL');
    const topic = `bitmesh/${keys[2]!.bech32}/status`;
    const t0 = Date.now();
    await waitFor(() => observer.on(topic).at(-1)?.text === 'offline', 5000, 'last will');
    console.info(`agent-processes: last will seen ${Date.now() - t0} ms after SIGKILL`);
  });
});
