// `make demo`: a paid BitMesh market on a laptop — no root, no router, no Bitcoin node.
// Three gateways and three clients run as separate agent processes on loopback with a
// devchain (the embedded regtest-like chain). Clients are funded from the faucet, run
// their auctions, open Taproot payment channels with the gateways they award, and
// download from a local HTTP "internet" through their SOCKS5 endpoints while a live
// table shows each node's gateway, price, bytes and sats. Then the gateways close the
// channels, the settlement transactions are printed and mined, and the demo exits 0.
// With --nft (root) the same market runs in network namespaces with agents in nft mode
// (scripts/demo/nft.mjs).
//   node scripts/demo.mjs [--nft] [--json] [--seconds N]
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { fetchChain } from './demo/chain-client.mjs';
import { startInternet } from './demo/internet.mjs';
import { rows as snapshotRows, summarize, table, verdictLine } from './demo/market-view.mjs';
import { settle } from './demo/settle.mjs';
import { socksGet } from './demo/socks-get.mjs';
import { waitFor } from './demo/wait-for.mjs';
import { ask } from './testing/control-socket.mjs';
import { freePorts } from './testing/free-ports.mjs';

const HELP = `usage: node scripts/demo.mjs [--nft] [--json] [--seconds N]   (make demo [NFT=1] [DEMO_ARGS=...])

A paid BitMesh market on this machine: three gateways, three clients and a devchain.
Clients buy upstream in auctions, pay through Taproot payment channels and download
from a local HTTP "internet"; a live table shows each node's gateway, price, bytes and
sats; then the gateways close the channels and the settlement transactions are printed.

  --nft        root: agents in nft mode in network namespaces (kernel forwarding, per-client
               quotas, shaped uplinks) instead of SOCKS5 relays on loopback
  --json       print a machine-readable summary instead of the live table
  --seconds N  how long the clients download (5-40, default 20)

Exits 0 when every client carried paid traffic and every channel settled on chain.`;

let values;
try {
  ({ values } = parseArgs({ options: { json: { type: 'boolean' }, nft: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, seconds: { type: 'string', default: '20' } } }));
} catch (e) {
  console.error(`demo: ${e.message}\n\n${HELP}`);
  process.exit(2);
}
if (values.help) {
  console.log(HELP);
  process.exit(0);
}
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 5 || seconds > 40) {
  console.error('demo: --seconds (how long clients download) must be between 5 and 40');
  process.exit(2);
}
const json = values.json === true;
const say = (s) => { if (!json) console.log(s); };
if (values.nft) {
  const { runNftDemo } = await import('./demo/nft.mjs');
  process.exit(await runNftDemo({ seconds, json, say }));
}
const BUNDLE = path.resolve('dist/bitmesh.js');
// Prices in msat per KiB (10 msat/KiB = 10 sat per MiB): high enough that a short demo
// earns more than the fee of the closing transaction. Three gateways, three clients.
const NODES = [
  { name: 'gw-1', role: 'gateway', price: 10 },
  { name: 'gw-2', role: 'gateway', price: 15 },
  { name: 'gw-3', role: 'gateway', price: 20 },
  { name: 'client-1', role: 'client' },
  { name: 'client-2', role: 'client' },
  { name: 'client-3', role: 'client' },
];
const FUND_SAT = 1_200_000;
const COINS = 6;
const DOWNLOAD_BYTES = 4 << 20;

async function post(url, body) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  if (!r.ok) throw new Error(`${url}: ${r.status} ${await r.text()}`);
  return r.json().catch(() => ({}));
}

const root = await mkdtemp(path.join(tmpdir(), 'bitmesh-demo-'));
const children = [];
const stopAll = async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null && c.pid) c.kill('SIGTERM');
  await Promise.all(children.map((c) => (c.exitCode === null && c.signalCode === null ? new Promise((r) => c.once('exit', r)) : undefined)));
};
let failed = false;
/** The agents started so far, with the tail of each one's log. */
const agents = [];
const t0 = Date.now();
try {
  const internet = await startInternet();
  const ports = await freePorts(1 + 2 * NODES.length);
  const chainPort = ports[0];
  const meshPorts = ports.slice(1, 1 + NODES.length);
  const socksPorts = ports.slice(1 + NODES.length);
  const chainUrl = `http://127.0.0.1:${chainPort}`;
  const chain = spawn(process.execPath, [BUNDLE, 'devchain', '--port', String(chainPort), '--state-dir', path.join(root, 'chain')], { stdio: 'ignore' });
  children.push(chain);
  await waitFor('the devchain', 10_000, async () => (await fetch(`${chainUrl}/blocks/tip/height`)).ok);

  for (const [i, n] of NODES.entries()) {
    const dir = path.join(root, n.name);
    const conf = path.join(root, `${n.name}.conf`);
    const socksPort = n.role === 'client' ? socksPorts[i] : 0;
    await writeFile(conf,
      `config agent 'main'\n\toption role '${n.role}'\n\toption state_dir '${dir}'\n\toption log_level 'warn'\n\n` +
      `config mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${meshPorts[i]}'\n\toption hello_interval_ms '500'\n\toption neighbour_expiry_ms '3000'\n` +
      meshPorts.map((p) => `\tlist peer '127.0.0.1:${p}'\n`).join('') + '\n' +
      // Gateways extend 20 sat of credit instead of 1: six agents share two cores here,
      // and a payment round trip of tens of milliseconds would otherwise bound the flow.
      `config channel 'channel'\n\toption persist_interval_ms '500'\n` + (n.role === 'gateway' ? `\toption max_credit_msat '20000'\n` : '') + '\n' +
      // Gateways measure their uplink by downloading from the "internet" now and then;
      // clients pay at most 25 msat/KiB.
      `config market 'market'\n` +
      (n.role === 'gateway'
        ? `\toption price_msat_per_kib '${n.price}'\n\toption probe_url 'http://127.0.0.1:${internet.port}/bytes/${2 << 20}'\n\toption probe_interval_ms '10000'\n`
        : `\toption max_price_msat_per_kib '25'\n`) + '\n' +
      `config chain 'chain'\n\toption backend 'esplora'\n\toption esplora_url '${chainUrl}'\n\n` +
      // The demo's "internet" is on loopback: let the gateways' relays reach it.
      `config dataplane 'dataplane'\n\toption backend 'proxy'\n\toption socks_port '${socksPort}'\n\toption allow_private_destinations '1'\n`);
    const child = spawn(process.execPath, [BUNDLE, 'agent', '--config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    child.stderr.on('data', (d) => (log = (log + d).slice(-20_000)));
    children.push(child);
    agents.push({ ...n, port: meshPorts[i], socksPort, sock: path.join(dir, 'bitmesh.sock'), child, log: () => log });
  }
  const names = new Map();
  for (const a of agents) {
    const s = await waitFor(`${a.name} to answer`, 10_000, () => ask(a.sock, 'status'));
    a.id = s.node.idHex;
    names.set(s.node.idHex, a.name);
    names.set(s.node.id, a.name);
  }
  say(`BitMesh demo: devchain at ${chainUrl}, "internet" at 127.0.0.1:${internet.port}, ${agents.length} agents up after ${Date.now() - t0} ms`);

  // Fund the clients from the faucet, in several coins so that funding one channel
  // never waits for the change of another; then a block a second, like a fast regtest.
  const clients = agents.filter((a) => a.role === 'client');
  const gateways = agents.filter((a) => a.role === 'gateway');
  for (const c of clients) {
    const { address } = await ask(c.sock, 'wallet.address');
    for (let k = 0; k < COINS; k++) await post(`${chainUrl}/faucet`, { address, amountSat: FUND_SAT / COINS });
  }
  await post(`${chainUrl}/mine`, { blocks: 1 });
  const miner = setInterval(() => void post(`${chainUrl}/mine`, { blocks: 1 }).catch(() => {}), 1000);
  say(`funded ${clients.length} clients with ${FUND_SAT.toLocaleString('en')} sat each; auctions and channels follow on their own`);

  // Each client downloads in a loop through its own SOCKS5 endpoint.
  const traffic = new Map(clients.map((c) => [c.name, { bytes: 0, ok: 0, failed: 0, firstPaidMs: null }]));
  let downloading = true;
  const loops = clients.map(async (c) => {
    const t = traffic.get(c.name);
    while (downloading) {
      try {
        await socksGet({ socksPort: c.socksPort, host: '127.0.0.1', port: internet.port, path: `/bytes/${DOWNLOAD_BYTES}`, onBytes: (n) => {
          t.bytes += n;
          if (t.firstPaidMs === null) t.firstPaidMs = Date.now() - t0;
        } });
        t.ok++;
      } catch {
        t.failed++;
        await new Promise((r) => setTimeout(r, 250)); // no gateway yet, or failing over
      }
    }
  });

  const tEnd = Date.now() + seconds * 1000;
  let rows = [];
  while (Date.now() < tEnd) {
    await new Promise((r) => setTimeout(r, 1000));
    rows = await snapshotRows(agents, names);
    if (!json) process.stdout.write(`\x1b[2J\x1b[H` + `BitMesh demo — clients downloading, ${Math.max(0, Math.ceil((tEnd - Date.now()) / 1000))} s left\n\n` + table(rows) + '\n');
  }
  downloading = false;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 5000))]);
  clearInterval(miner);
  rows = await snapshotRows(agents, names);
  say('\n' + table(rows));

  // Settlement: each gateway closes its channels with the best state it holds.
  say('\nSettlement: the gateways close their channels (leaf A with the payer\'s latest state)');
  const closes = await settle({ gateways, names, chain: fetchChain(chainUrl), say });

  const verdict = summarize({ t0, clients, rows, traffic, closes });
  const { summary } = verdict;
  if (json) console.log(JSON.stringify(summary, null, 2));
  else say(verdictLine(verdict));
  failed = !summary.ok;
  if (failed) for (const a of agents) console.error(`--- ${a.name}\n${a.log()}`);
  await internet.close();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  // Say why: an agent that did not come up has logged the reason before it exited.
  for (const a of agents) if (a.log()) console.error(`--- ${a.name}\n${a.log()}`);
  failed = true;
} finally {
  await stopAll();
  await rm(root, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
