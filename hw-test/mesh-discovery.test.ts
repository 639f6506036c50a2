// Router-mode discovery for real: agents in separate network namespaces on one
// bridged layer-2 segment, no peer list, no bind address — they must find each other
// by HELLO to ff02::4270 on mesh0. Root only.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PeerReport } from '../src/agent/agent.js';
import { controlRequest } from '../src/agent/control-client.js';
import { BUNDLE } from '../scripts/testing/agent-process.js';
import { buildSegment, deleteNamespaces, netnsUnavailable } from './lib/netns.js';

const PREFIX = 'bmd-';
const why = await netnsUnavailable();
if (why) console.warn(`hw-test/mesh-discovery: SKIPPED (${why}); runs as root in CI`);

describe.runIf(!why)('mesh discovery in network namespaces', () => {
  const children: ChildProcess[] = [];
  const sockets = new Map<string, string>();

  beforeAll(async () => {
    const nodes = await buildSegment(PREFIX, ['a', 'b', 'c']);
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-hw-'));
    for (const [name, { ns }] of nodes) {
      const state = path.join(dir, name);
      const conf = path.join(dir, `${name}.conf`);
      await writeFile(
        conf,
        `config agent 'main'\n\toption state_dir '${state}'\n\toption role 'both'\n` +
          `config mesh 'mesh'\n\tlist interface 'mesh0'\n\toption ipv4_broadcast '0'\n\toption hello_interval_ms '300'\n\toption neighbour_expiry_ms '1500'\n` +
          `config chain 'chain'\n\toption backend 'none'\n`,
      );
      const child = spawn('ip', ['netns', 'exec', ns, process.execPath, BUNDLE, 'agent', '--config', conf], { stdio: 'ignore' });
      children.push(child);
      sockets.set(name, path.join(state, 'bitmesh.sock'));
    }
  });

  afterAll(async () => {
    for (const c of children) c.kill('SIGKILL');
    await deleteNamespaces(PREFIX);
  });

  const peersOf = async (name: string) =>
    (await controlRequest(sockets.get(name)!, 'peers', {}, 1000).catch(() => [])) as PeerReport[];

  it('each agent hears the other two over multicast within 3 s', async () => {
    const t0 = Date.now();
    let counts: number[] = [];
    while (Date.now() - t0 < 3000) {
      counts = await Promise.all(['a', 'b', 'c'].map(async (n) => (await peersOf(n)).length));
      if (counts.every((c) => c === 2)) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    expect(counts).toEqual([2, 2, 2]);
    // With the IPv4 fallback off, they can only have met over IPv6 link-local multicast.
    const addrs = (await peersOf('a')).map((p) => p.address);
    for (const a of addrs) expect(a).toMatch(/^fe80:/);
  });

  it('a node that leaves the segment expires from the others', async () => {
    children[2]!.kill('SIGKILL');
    const t0 = Date.now();
    // Each node sweeps its own table on its own timer: wait for both, within the bound.
    const both = async () => (await peersOf('a')).length === 1 && (await peersOf('b')).length === 1;
    while (Date.now() - t0 < 4000 && !(await both())) await new Promise((r) => setTimeout(r, 100));
    expect((await peersOf('a')).length).toBe(1);
    expect((await peersOf('b')).length).toBe(1);
  });
});
