// The issue-5 testbed (root only): a mesh segment (a bridge), three gateways each with
// its own shaped uplink to an `internet` namespace, three clients, a devchain, and real
// agents in nft mode as separate processes. Every name carries `<prefix>`; teardown
// deletes them all.
//
//   <p>seg   br0 10.42.0.254/24 — the mesh segment; the devchain listens here
//   <p>g1..3 mesh0 10.42.0.1..3, up0 10.43.k.1/24, default via 10.43.k.2, NAT on up0
//   <p>c1..3 mesh0 10.42.0.11..13, no default route (their agent adds one)
//   <p>in    u1..3 10.43.k.2/24; the internet host 10.99.0.1 (HTTP byte server, iperf3)
//
// Uplinks are shaped with tbf on both ends (no netem). Control traffic stays on the
// segment; only mesh → upstream crosses a gateway's bitmesh table.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { ChannelReport } from '../../src/agent/channel-manager.js';
import type { PeerReport, StatusReport } from '../../src/agent/agent.js';
import { controlRequest } from '../../src/agent/control-client.js';
import { loadOrCreateIdentity } from '../../src/agent/identity.js';
import { Wallet } from '../../src/chain/wallet.js';
import { Crypto } from '../../src/crypto/facade.js';
import { isRunningChild, killChild } from '../../src/os/kill-child.js';
import { BUNDLE } from '../../scripts/testing/agent-process.js';
import { deleteNamespaces, inNs, ip } from '../lib/netns.js';
import { linkStats, spawnInNs, startByteServer, type NsProcess } from '../lib/testbed.js';

export const INTERNET_HOST = '10.99.0.1';
export const HTTP_PORT = 8080;
export const CHAIN_HOST = '10.42.0.254';
export const CHAIN_PORT = 4280;
export const MESH_PORT = 4270;
/**
 * Terms: 10 msat/KiB and 100 KiB ticks make one tick exactly 1 sat, so every tick is
 * followed by a COMMIT (the gateway's paidMsat is the last tick), and the credit (64 KiB
 * at first, never over 1 sat = 100 KiB) plus a tick covers a 10 Mbit/s uplink's
 * round of metering and payment without the quota cutting in.
 */
export const PRICE_MSAT_PER_KIB = 10;
export const TICK_KIB = 100;
/**
 * A gateway measures its uplink by downloading this much from the internet host (a
 * gateway that has measured nothing bids nothing, so the market needs it).
 */
const PROBE_BYTES = 64 * 1024;

export interface Node {
  readonly name: string;
  readonly ns: string;
  readonly role: 'gateway' | 'client';
  readonly meshV4: string;
  /** Gateways: their uplink address as the internet sees it (NAT). */
  readonly uplinkV4?: string;
  readonly dir: string;
  readonly socket: string;
  agent: ChildProcess | undefined;
  log: string;
}

export interface MeshTestbed {
  readonly prefix: string;
  readonly root: string;
  readonly seg: string;
  readonly internet: string;
  readonly gateways: readonly Node[];
  readonly clients: readonly Node[];
  readonly chainUrl: string;
  readonly services: NsProcess[];
}

export async function buildMeshTestbed(prefix: string, opts: { uplinkMbit?: number } = {}): Promise<MeshTestbed> {
  await deleteNamespaces(prefix);
  const root = await mkdtemp(path.join(tmpdir(), `${prefix}`));
  const seg = `${prefix}seg`;
  const internet = `${prefix}in`;
  const rate = `${opts.uplinkMbit ?? 10}mbit`;
  const addNs = async (ns: string) => {
    await ip('netns', 'add', ns);
    await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    await inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
  };
  await addNs(seg);
  await addNs(internet);
  await inNs(seg, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
  await inNs(seg, 'ip', 'addr', 'add', `${CHAIN_HOST}/24`, 'dev', 'br0');
  await inNs(seg, 'ip', 'link', 'set', 'br0', 'up');
  await inNs(internet, 'ip', 'addr', 'add', `${INTERNET_HOST}/32`, 'dev', 'lo');

  const mk = (name: string, role: 'gateway' | 'client', meshV4: string, uplinkV4?: string): Node => {
    const dir = path.join(root, name);
    return { name, ns: `${prefix}${name}`, role, meshV4, ...(uplinkV4 ? { uplinkV4 } : {}), dir, socket: path.join(dir, 'bitmesh.sock'), agent: undefined, log: '' };
  };
  const gateways = [1, 2, 3].map((k) => mk(`g${k}`, 'gateway', `10.42.0.${k}`, `10.43.${k}.1`));
  const clients = [1, 2, 3].map((k) => mk(`c${k}`, 'client', `10.42.0.${10 + k}`));
  for (const [i, n] of [...gateways, ...clients].entries()) {
    await addNs(n.ns);
    const host = `m${i}`;
    await ip('link', 'add', host, 'netns', seg, 'type', 'veth', 'peer', 'name', 'mesh0', 'netns', n.ns);
    await inNs(seg, 'ip', 'link', 'set', host, 'master', 'br0', 'up');
    await inNs(n.ns, 'ip', 'addr', 'add', `${n.meshV4}/24`, 'dev', 'mesh0');
    await inNs(n.ns, 'ip', 'link', 'set', 'mesh0', 'up');
  }
  for (const [i, g] of gateways.entries()) {
    const k = i + 1;
    await ip('link', 'add', 'up0', 'netns', g.ns, 'type', 'veth', 'peer', 'name', `u${k}`, 'netns', internet);
    await inNs(g.ns, 'ip', 'addr', 'add', `${g.uplinkV4}/24`, 'dev', 'up0');
    await inNs(internet, 'ip', 'addr', 'add', `10.43.${k}.2/24`, 'dev', `u${k}`);
    await inNs(g.ns, 'ip', 'link', 'set', 'up0', 'up');
    await inNs(internet, 'ip', 'link', 'set', `u${k}`, 'up');
    await inNs(g.ns, 'ip', 'route', 'add', 'default', 'via', `10.43.${k}.2`);
    await inNs(g.ns, 'sysctl', '-qw', 'net.ipv4.ip_forward=1');
    await addNat(g.ns);
    // The uplink's rate, both directions (tbf: no netem on this kernel).
    await inNs(g.ns, 'tc', 'qdisc', 'add', 'dev', 'up0', 'root', 'tbf', 'rate', rate, 'burst', '32kb', 'latency', '100ms');
    await inNs(internet, 'tc', 'qdisc', 'add', 'dev', `u${k}`, 'root', 'tbf', 'rate', rate, 'burst', '32kb', 'latency', '100ms');
  }
  const tb: MeshTestbed = { prefix, root, seg, internet, gateways, clients, chainUrl: `http://${CHAIN_HOST}:${CHAIN_PORT}`, services: [] };
  tb.services.push(await startByteServer(internet, HTTP_PORT));
  const chain = spawnInNs(seg, process.execPath, [BUNDLE, 'devchain', '--host', CHAIN_HOST, '--port', String(CHAIN_PORT), '--state-dir', path.join(root, 'chain')]);
  tb.services.push(chain);
  await waitFor(async () => (await inNs(seg, 'curl', '-s', '-m', '1', `${tb.chainUrl}/blocks/tip/height`).catch(() => '')).trim() !== '', 10_000, 'devchain');
  return tb;
}

/** The gateway's NAT towards its uplink (what the router's firewall provides). */
export async function addNat(ns: string): Promise<void> {
  await inNs(ns, 'nft', 'add table ip bm_test_nat; add chain ip bm_test_nat post { type nat hook postrouting priority srcnat; policy accept; }; add rule ip bm_test_nat post oifname "up0" masquerade');
}

/** Terms a scenario may set apart from the testbed's defaults. */
export interface AgentTerms {
  readonly priceMsatPerKiB?: number;
  /** Gateways: the largest unconfirmed funding taken, which also caps the channels clients open. */
  readonly zeroConfCapSat?: number;
  /** Gateways: the credit cap (the default, 1 sat, is 100 KiB here and holds a client to a few Mbit/s). */
  readonly maxCreditMsat?: number;
}

export function agentConfig(tb: MeshTestbed, n: Node, terms: AgentTerms = {}): string {
  const all = [...tb.gateways, ...tb.clients];
  const price = terms.priceMsatPerKiB ?? PRICE_MSAT_PER_KIB;
  return `# hw-test/testbed
config agent 'main'
\toption role '${n.role}'
\toption state_dir '${n.dir}'
\toption log_level 'info'

config mesh 'mesh'
\tlist interface 'mesh0'
\toption bind_address '${n.meshV4}'
\toption port '${MESH_PORT}'
\toption hello_interval_ms '300'
\toption neighbour_expiry_ms '3000'
${all.map((o) => `\tlist peer '${o.meshV4}:${MESH_PORT}'`).join('\n')}

config market 'market'
\toption price_msat_per_kib '${price}'
\toption max_price_msat_per_kib '${price}'
${n.role === 'gateway' ? `\toption probe_url 'http://${INTERNET_HOST}:${HTTP_PORT}/?n=${PROBE_BYTES}'\n\toption probe_interval_ms '30000'\n` : ''}
config channel 'channel'
\toption tick_kib '${TICK_KIB}'
\toption loss_tolerance_pct '0'
\toption persist_interval_ms '200'
${terms.zeroConfCapSat !== undefined ? `\toption zero_conf_cap_sat '${terms.zeroConfCapSat}'\n` : ''}${terms.maxCreditMsat !== undefined ? `\toption max_credit_msat '${terms.maxCreditMsat}'\n` : ''}
config chain 'chain'
\toption backend 'esplora'
\toption esplora_url '${tb.chainUrl}'

config dataplane 'dataplane'
\toption backend 'nft'
\tlist upstream_interface 'up0'
`;
}

export async function startAgent(tb: MeshTestbed, n: Node, terms: AgentTerms = {}): Promise<void> {
  const conf = path.join(tb.root, `${n.name}.conf`);
  await writeFile(conf, agentConfig(tb, n, terms));
  // `ip netns exec` execs the command: the child's pid is the agent's (SIGSTOP reaches it).
  const child = spawn('ip', ['netns', 'exec', n.ns, process.execPath, BUNDLE, 'agent', '--config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  n.agent = child;
  n.log = '';
  child.stderr?.on('data', (d: Buffer) => {
    if (n.log.length < 256 * 1024) n.log += d.toString();
  });
}

export async function stopAgent(n: Node, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  const child = n.agent;
  if (!child || !isRunningChild(child)) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  killChild(child, 'SIGCONT');
  killChild(child, signal);
  const t = setTimeout(() => killChild(child, 'SIGKILL'), 3_000);
  await exited;
  clearTimeout(t);
}

/** Where teardown leaves the agents' logs (CI keeps them). */
export const LOG_DIR = path.join(tmpdir(), 'bitmesh-testbed-logs');

export async function teardown(tb: MeshTestbed | undefined, prefix: string): Promise<void> {
  if (tb) {
    await Promise.all([...tb.gateways, ...tb.clients].map((n) => stopAgent(n, 'SIGKILL')));
    await mkdir(LOG_DIR, { recursive: true });
    for (const n of [...tb.gateways, ...tb.clients]) if (n.log) await writeFile(path.join(LOG_DIR, `${n.name}.log`), n.log);
    for (const s of tb.services) await s.stop();
    await rm(tb.root, { recursive: true, force: true });
  }
  await deleteNamespaces(prefix);
}

// ---- the agents' view, through the control socket the CLI uses ----

export const ask = <T>(n: Node, cmd: string, args: Record<string, unknown> = {}, timeoutMs = 5_000) => controlRequest(n.socket, cmd, args, timeoutMs) as Promise<T>;
export const status = (n: Node) => ask<StatusReport>(n, 'status');
export const channels = (n: Node) => ask<ChannelReport[]>(n, 'channels');
export const peers = (n: Node) => ask<PeerReport[]>(n, 'peers');

export async function waitFor<T>(cond: () => Promise<T | undefined | false>, ms: number, what: string): Promise<T> {
  const t0 = Date.now();
  let lastError = '';
  for (;;) {
    try {
      const v = await cond();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      lastError = (e as Error).message;
    }
    if (Date.now() - t0 > ms) throw new Error(`timed out after ${ms} ms waiting for ${what}${lastError ? ` (last error: ${lastError})` : ''}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** Devchain faucet (run inside the segment: the chain is only reachable there). */
export async function fund(tb: MeshTestbed, address: string, sat: number): Promise<void> {
  await inNs(tb.seg, 'curl', '-s', '-f', '-XPOST', `${tb.chainUrl}/faucet`, '-H', 'content-type: application/json', '-d', JSON.stringify({ address, amountSat: String(sat), mine: 1 }));
}

/**
 * The client's open payer channel; if it has none, funds its wallet and opens one to
 * `gateway` (zero-conf: under the gateways' 100,000 sat cap), and waits for Open.
 */
export async function ensureChannel(tb: MeshTestbed, client: Node, gateway: Node): Promise<ChannelReport> {
  const open = (await channels(client)).find((c) => c.role === 'payer' && c.state === 'Open');
  if (open) return open;
  const { address } = await ask<{ address: string }>(client, 'wallet.address');
  await fund(tb, address, 1_000_000);
  const gw = await status(gateway);
  const { channelId } = await ask<{ channelId: string }>(client, 'channel.open', { peer: gw.node.id, capacitySat: 50_000, priceMsatPerKiB: PRICE_MSAT_PER_KIB }, 30_000);
  return waitFor(async () => (await channels(client)).find((c) => c.id === channelId && c.state === 'Open'), 30_000, `channel ${client.name} → ${gateway.name} open`);
}

/**
 * Makes a node's key before its agent first starts (the agent loads it) and funds its
 * wallet from the faucet: an owner who has money before switching the router on. The
 * agent then needs no key generation at boot, and its first channel no faucet race.
 */
export async function fundWalletBeforeStart(tb: MeshTestbed, n: Node, sat = 1_000_000): Promise<string> {
  await mkdir(n.dir, { recursive: true });
  const crypto = new Crypto();
  const { identity } = await loadOrCreateIdentity(n.dir, crypto);
  const { address } = new Wallet(crypto, identity.secretKey, 'regtest');
  await fund(tb, address, sat);
  return address;
}

/** Funds a client's wallet from the faucet as soon as its control socket answers (the market opens channels from it). */
export async function fundWallet(tb: MeshTestbed, client: Node, sat = 1_000_000): Promise<void> {
  const { address } = await waitFor(() => ask<{ address: string }>(client, 'wallet.address', {}, 1_000), 20_000, `${client.name} wallet address`);
  await fund(tb, address, sat);
}

// ---- traffic ----

/**
 * A user of the client: small GETs one after another until stopped (errors, e.g. no
 * route yet, are retried), so the client has upstream traffic to buy.
 */
export function startDemand(ns: string, n = 20_000): NsProcess {
  // A shell loop of curl, not a node process: it starts in milliseconds and costs the
  // agents starting beside it no CPU (node's own start is a fifth of a core-second).
  return spawnInNs(ns, 'sh', ['-c', `while :; do curl -s -o /dev/null -m 1 '${`http://${INTERNET_HOST}:${HTTP_PORT}/?n=${n}`}'; sleep 0.1; done`]);
}

export interface GetResult {
  readonly bytes: number;
  readonly complete: boolean;
  readonly error?: string;
}

/** One HTTP GET of `n` bytes from the internet host, from a namespace (curl: it starts in milliseconds, node does not on a loaded machine). */
export async function get(ns: string, n: number, ms: number): Promise<GetResult> {
  const out = await inNs(ns, 'curl', '-s', '-o', '/dev/null', '-m', (ms / 1000).toFixed(2), '-w', '%{size_download} %{exitcode}', `http://${INTERNET_HOST}:${HTTP_PORT}/?n=${n}`).catch((e: Error) => {
    // curl exits non-zero on a timeout; -w still printed the bytes it got.
    const m = /(\d+) (\d+)\s*$/.exec(e.message);
    return m ? `${m[1]} ${m[2]}` : '0 -1';
  });
  const [bytes, code] = out.trim().split(' ').map(Number) as [number, number];
  return { bytes, complete: code === 0 && bytes === n, ...(code === 0 ? {} : { error: `curl exit ${code}` }) };
}

/** A GET left running in the background (the scenario stops its client mid-download). */
export function startGet(ns: string, n: number, ms: number): { result: Promise<GetResult>; proc: NsProcess } {
  const proc = spawnInNs(ns, process.execPath, ['-e', GET, `http://${INTERNET_HOST}:${HTTP_PORT}/?n=${n}`, String(ms)]);
  let out = '';
  proc.child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const result = new Promise<GetResult>((resolve) => proc.child.once('exit', () => resolve(out ? (JSON.parse(out) as GetResult) : { bytes: 0, complete: false, error: 'killed' })));
  return { result, proc };
}

const GET = `
const http = require('node:http');
const [url, ms] = process.argv.slice(1);
let bytes = 0, done = false;
const finish = (complete, error) => { if (done) return; done = true; console.log(JSON.stringify({ bytes, complete, error })); process.exit(0); };
const req = http.get(url, (res) => { res.on('data', (d) => (bytes += d.length)); res.on('end', () => finish(true)); });
req.on('error', (e) => finish(false, e.code || e.message));
setTimeout(() => finish(false, 'timeout'), Number(ms));
`;

/** IP bytes an interface received and sent (its counters less 14 bytes of Ethernet per packet). */
export async function ipBytes(ns: string, dev: string): Promise<{ rx: number; tx: number }> {
  const s = await linkStats(ns, dev);
  return { rx: s.rxBytes - 14 * s.rxPackets, tx: s.txBytes - 14 * s.txPackets };
}

/** The client's own kernel counters (table inet bitmesh_client): what passed its gateway. */
export async function clientKernelBytes(n: Node): Promise<{ up: number; down: number }> {
  const doc = JSON.parse(await inNs(n.ns, 'nft', '-j', 'list', 'counters', 'table', 'inet', 'bitmesh_client')) as { nftables: { counter?: { name: string; bytes: number } }[] };
  const of = (name: string) => doc.nftables.find((i) => i.counter?.name === name)?.counter?.bytes ?? 0;
  return { up: of('bmc_up'), down: of('bmc_down') };
}
