// `make demo`: a paid BitMesh market on a laptop — no root, no router, no Bitcoin node.
// Three gateways and three clients run as separate agent processes on loopback with a
// devchain (the embedded regtest-like chain). Clients are funded from the faucet, run
// their auctions, open Taproot payment channels with the gateways they award, and
// download from a local HTTP "internet" through their SOCKS5 endpoints while a live
// table shows each node's gateway, price, bytes and sats. Then the gateways close the
// channels, the settlement transactions are printed and mined, and the demo exits 0.
//   node scripts/demo.mjs [--json] [--seconds N]
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { startInternet } from './demo/internet.mjs';
import { socksGet } from './demo/socks-get.mjs';
import { ask } from './testing/control-socket.mjs';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, seconds: { type: 'string', default: '20' } } });
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 5 || seconds > 40) {
  console.error('demo: --seconds (how long clients download) must be between 5 and 40');
  process.exit(2);
}
const json = values.json === true;
const say = (s) => { if (!json) console.log(s); };
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

async function freePorts(n) {
  // UDP and TCP: a gateway's relay listens on TCP at its mesh port.
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise((r) => { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); })),
  );
  const ports = socks.map((s) => s.address().port);
  for (const s of socks) s.close();
  return ports;
}

async function waitFor(what, ms, cond) {
  const t0 = Date.now();
  for (;;) {
    try {
      const v = await cond();
      if (v) return v;
    } catch {}
    if (Date.now() - t0 > ms) throw new Error(`demo: timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

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
const t0 = Date.now();
try {
  const internet = await startInternet();
  const [chainPort, socksBase, ...meshPorts] = await freePorts(2 + NODES.length);
  const chainUrl = `http://127.0.0.1:${chainPort}`;
  const chain = spawn(process.execPath, [BUNDLE, 'devchain', '--port', String(chainPort), '--state-dir', path.join(root, 'chain')], { stdio: 'ignore' });
  children.push(chain);
  await waitFor('the devchain', 10_000, async () => (await fetch(`${chainUrl}/blocks/tip/height`)).ok);

  const agents = [];
  for (const [i, n] of NODES.entries()) {
    const dir = path.join(root, n.name);
    const conf = path.join(root, `${n.name}.conf`);
    const socksPort = n.role === 'client' ? socksBase + i : 0;
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

  const snapshot = async () =>
    Promise.all(agents.map(async (a) => {
      try {
        const [s, ch] = await Promise.all([ask(a.sock, 'status'), ask(a.sock, 'channels')]);
        return { a, s, ch };
      } catch {
        return { a, s: undefined, ch: [] };
      }
    }));
  const row = ({ a, s, ch }) => {
    const open = ch.filter((c) => c.state === 'Open');
    const msat = ch.reduce((x, c) => x + BigInt(c.paidMsat), 0n);
    const bytes = ch.reduce((x, c) => x + c.bytes, 0);
    const award = s?.market?.auction?.award ?? null;
    const via = a.role === 'client'
      ? (award ? `${names.get(award.gatewayHex) ?? award.gateway.slice(0, 12)}${award.channelOpen ? '' : ' (opening)'}` : '-')
      : `${open.length} client${open.length === 1 ? '' : 's'}`;
    const price = a.role === 'gateway' ? s?.market?.priceMsatPerKiB : award?.priceMsatPerKiB;
    return { name: a.name, role: a.role, via, price: price ?? null, bytes, msat: msat.toString(), channels: ch.length, failovers: s?.market?.auction?.counters?.failovers ?? null };
  };
  const table = (rows) => {
    const head = ['NODE', 'ROLE', 'GATEWAY / SELLS TO', 'PRICE msat/KiB', 'BYTES', 'SATS'];
    const cells = rows.map((r) => [r.name, r.role, r.via, r.price === null ? '-' : String(r.price), (r.bytes / 2 ** 20).toFixed(1) + ' MiB', (Number(r.msat) / 1000).toFixed(3)]);
    const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
    const fmt = (c) => c.map((x, i) => x.padEnd(w[i])).join('  ');
    return [fmt(head), ...cells.map(fmt)].join('\n');
  };

  const tEnd = Date.now() + seconds * 1000;
  let rows = [];
  while (Date.now() < tEnd) {
    await new Promise((r) => setTimeout(r, 1000));
    rows = (await snapshot()).map(row);
    if (!json) process.stdout.write(`\x1b[2J\x1b[H` + `BitMesh demo — clients downloading, ${Math.max(0, Math.ceil((tEnd - Date.now()) / 1000))} s left\n\n` + table(rows) + '\n');
  }
  downloading = false;
  await Promise.race([Promise.all(loops), new Promise((r) => setTimeout(r, 5000))]);
  clearInterval(miner);
  rows = (await snapshot()).map(row);
  say('\n' + table(rows));

  // Settlement: each gateway closes its channels with the best state it holds.
  say('\nSettlement: the gateways close their channels (leaf A with the payer\'s latest state)');
  const closes = [];
  for (const g of gateways) {
    for (const c of await ask(g.sock, 'channels')) {
      if (c.role !== 'payee' || c.state !== 'Open') continue;
      const entry = { gateway: g.name, client: names.get(c.peer) ?? c.peer, channelId: c.id, paidMsat: c.paidMsat, bytes: c.bytes };
      try {
        const r = await ask(g.sock, 'channel.close', { id: c.id });
        Object.assign(entry, r.hex ? { txid: r.txid, hex: r.hex, spends: r.spends } : {});
      } catch (e) {
        entry.error = e.message;
      }
      closes.push(entry);
    }
  }
  // A close still being built when the command returned: its txid shows in the report.
  for (const c of closes.filter((x) => !x.txid && !x.error)) {
    const g = gateways.find((x) => x.name === c.gateway);
    try {
      const rep = await waitFor(`the close of ${c.channelId.slice(0, 12)}`, 10_000, async () => (await ask(g.sock, 'channels')).find((x) => x.id === c.channelId && x.closeTxid));
      c.txid = rep.closeTxid;
      c.hex = await (await fetch(`${chainUrl}/tx/${c.txid}/hex`)).text();
      c.spends = [{ txid: rep.funding.txid, vout: rep.funding.vout, amountSat: String(rep.capacitySat), address: rep.funding.address }];
    } catch (e) {
      c.error = e.message;
    }
  }
  // The gateway returns the close as soon as it is signed; wait for the chain to have it.
  for (const c of closes.filter((x) => x.txid)) {
    await waitFor(`${c.txid} in the mempool`, 10_000, async () => (await fetch(`${chainUrl}/tx/${c.txid}/status`)).ok).catch(() => {});
  }
  await post(`${chainUrl}/mine`, { blocks: 1 });
  for (const c of closes) {
    if (!c.txid) continue;
    const r = await fetch(`${chainUrl}/tx/${c.txid}/status`);
    const st = r.ok ? await r.json() : {};
    if (!r.ok) c.error = `the chain does not know ${c.txid}: ${await r.text()}`;
    c.confirmed = st.confirmed === true;
    c.blockHeight = st.block_height ?? null;
  }
  for (const c of closes) {
    if (c.error) {
      say(`  ${c.gateway} <- ${c.client}: close failed: ${c.error}`);
      continue;
    }
    say(`  ${c.gateway} <- ${c.client}: ${(Number(c.paidMsat) / 1000).toFixed(3)} sat for ${(c.bytes / 2 ** 20).toFixed(1)} MiB, tx ${c.txid} ${c.confirmed ? `confirmed in block ${c.blockHeight}` : 'NOT confirmed'}`);
    for (const sp of c.spends) say(`      spends ${sp.txid}:${sp.vout} (${sp.amountSat} sat${sp.scriptHex ? `, script ${sp.scriptHex}` : `, ${sp.address}`})`);
    say(`      raw ${c.hex}`);
  }

  const summary = {
    seconds: (Date.now() - t0) / 1000,
    nodes: rows,
    traffic: Object.fromEntries(traffic),
    settlements: closes,
  };
  const everyClientPaid = clients.every((c) => traffic.get(c.name).bytes > 0 && rows.find((r) => r.name === c.name).msat !== '0');
  const allSettled = closes.length > 0 && closes.every((c) => c.confirmed);
  summary.ok = everyClientPaid && allSettled;
  if (json) console.log(JSON.stringify(summary, null, 2));
  else say(`\n${summary.ok ? 'OK' : 'FAILED'}: every client carried paid traffic: ${everyClientPaid}; every channel settled on chain: ${allSettled}; ${summary.seconds.toFixed(1)} s`);
  failed = !summary.ok;
  if (failed) for (const a of agents) console.error(`--- ${a.name}\n${a.log()}`);
  await internet.close();
} catch (e) {
  console.error(e instanceof Error ? e.message : e);
  failed = true;
} finally {
  await stopAll();
  await rm(root, { recursive: true, force: true });
}
process.exit(failed ? 1 : 0);
