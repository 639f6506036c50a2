// Two real agents (gateway, client) and a devchain as separate processes, a paid
// channel, and downloads through the client's SOCKS5 endpoint: the payment bytes on
// the wire per MiB served, and the throughput the tick window sustains as the round
// trip grows. The client reaches the gateway through a DelayLink (added one-way delay
// on every datagram and TCP chunk, both directions, and a rate limit), so ticks,
// commits and grants all pay the round trip; each row is measured side by side with
// the same download through an identical link without payment (a plain HTTP fetch).
//
// Main table: a link the paid path's CPU can fill (LINK_MBITPS each way), so the
// ratio paid / unpaid says whether the credit keeps the link full; the
// bandwidth-delay product of the link at that round trip is printed beside the credit.
// Second table: the link unlimited, i.e. the CPU ceiling of the paid path.
// Every row opens a fresh channel (the credit never shrinks within a channel, so the
// credit shown is what that round trip needed) and closes the previous one, then runs
// a warm-up download on it (the credit grows from 64 KiB) before the measured one.
// `node scripts/bench/paid-link.mjs [--mib N]` runs this part alone;
// `--max-credit-msat 64` pins the gateway's credit at its initial 64 KiB (a control: is
// it the credit's growth that keeps the link full?).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { openSync } from 'node:fs';
import { promisify } from 'node:util';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ask } from '../testing/control-socket.mjs';
import { DelayLink } from './delay-link.mjs';

// BITMESH_BUNDLE: a private copy of the bundle (the shared dist/ is rebuilt by others).
const BUNDLE = path.resolve(process.env.BITMESH_BUNDLE ?? 'dist/bitmesh.js');
/** The default asking price (config market.price_msat_per_kib): 1 msat/KiB ≈ 1 sat/MiB. */
export const PRICE_MSAT_PER_KIB = 1;
/** The main table's link rate, each way: what the paid path sustains on two shared cores. */
export const LINK_MBITPS = 40;
/** Each row's channel: below the gateway's zero-conf cap (100,000 sat), ≫ 1 sat per MiB. */
const CHANNEL_SAT = 50_000;
const WARMUP_MIB = 4;

function sh(cmd, ...args) {
  return execFileSync(cmd, args, { encoding: 'utf8' });
}

async function waitFor(cond, ms, what) {
  const t0 = Date.now();
  for (;;) {
    try {
      if (await cond()) return;
    } catch {}
    if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

// One download with curl (optionally via SOCKS5). Asynchronous: the DelayLink lives
// in this process and must keep forwarding while curl runs.
async function download(url, socksPort) {
  const args = ['-s', '-m', '120', '-o', '/dev/null', '-w', '%{size_download} %{time_total}', ...(socksPort ? ['--socks5-hostname', `127.0.0.1:${socksPort}`] : []), url];
  const { stdout } = await promisify(execFile)('curl', args);
  const [size, time] = stdout.trim().split(' ').map(Number);
  if (!size) throw new Error(`download of ${url} got nothing`);
  return { bytes: size, seconds: time, mbps: (size * 8) / time / 1e6 };
}

// Payment bytes the client sent during one measured download: TICK and COMMIT
// datagrams with UDP/IP headers (28 B). The control plane counts all datagrams'
// bytes, so HELLOs (≈ 130 B each) are taken out; the rare market message is not.
function overheadOf({ before, after, bytes }) {
  const sent = (t) => (after.sent[t] ?? 0) - (before.sent[t] ?? 0);
  const datagrams = sent('TICK') + sent('COMMIT');
  const txBytes = after.txBytes - before.txBytes - sent('HELLO') * 130;
  return { ticks: sent('TICK'), commits: sent('COMMIT'), perMiB: (txBytes + datagrams * 28) / (bytes / 2 ** 20) };
}

const payerBytes = async (sock) => new Map((await ask(sock, 'channels')).filter((c) => c.role === 'payer').map((c) => [c.id, c.bytes]));

export async function paidLinkBench({ mib = 16, delays = [0, 1, 5, 20], linkMbps = LINK_MBITPS, ceiling = { mib: 32, delays: [0, 20] }, maxCreditMsat } = {}) {
  const children = [];
  const spawnChild = (cmd, args) => {
    const child = spawn(cmd, args, { stdio: 'ignore' });
    child.on('error', () => {}); // a failed spawn shows up as a timeout below
    children.push(child);
    return child;
  };
  const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-link-'));
  const links = [];
  try {
    for (const [name, size] of [['warm', WARMUP_MIB], ['small', mib], ['ceil', ceiling?.mib ?? 1]]) {
      execFileSync('head', ['-c', String(size << 20), '/dev/zero'], { stdio: ['ignore', openSync(path.join(dir, name), 'w'), 'ignore'] });
    }
    const ports = { chain: 34280, gw: 34271, cl: 34272, socks: 31080, web: 38080, link: 34273, webLink: 38081 };
    // client → link (34273) → gateway (34271); the gateway sees the client at the link's far port.
    const link = await new DelayLink().start({ listenPort: ports.link, bPort: ports.gw, aPort: ports.cl });
    // The unpaid reference: an identical link in front of a plain HTTP server.
    const webLink = await new DelayLink().start({ listenPort: ports.webLink, bPort: ports.web, aPort: 1 });
    links.push(link, webLink);
    const setLink = (delayMs, mbps) => {
      for (const l of links) {
        l.delayMs = delayMs;
        l.rateBytesPerSec = (mbps * 1e6) / 8;
      }
    };
    spawnChild('python3', ['-m', 'http.server', String(ports.web), '--bind', '127.0.0.1', '--directory', dir]);
    spawnChild(process.execPath, [BUNDLE, 'devchain', '--port', String(ports.chain), '--state-dir', path.join(dir, 'chain')]);
    const conf = async (role, port, peers) => {
      const d = path.join(dir, role);
      const file = path.join(dir, `${role}.conf`);
      await writeFile(file,
        `config agent 'main'\n\toption role '${role}'\n\toption state_dir '${d}'\n\toption log_level 'warn'\n` +
        `config mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${port}'\n${peers.map((p) => `\tlist peer '127.0.0.1:${p}'\n`).join('')}` +
        // The client's auction reuses an open channel to the winner at an acceptable
        // price (it opens one only when none is open): asking = max price, so it takes
        // the bench's channel and every row pays the same.
        `config market 'market'\n\toption price_msat_per_kib '${PRICE_MSAT_PER_KIB}'\n\toption max_price_msat_per_kib '${PRICE_MSAT_PER_KIB}'\n` +
        (role === 'gateway' && maxCreditMsat !== undefined ? `config channel 'channel'\n\toption max_credit_msat '${maxCreditMsat}'\n` : '') +
        `config chain 'chain'\n\toption esplora_url 'http://127.0.0.1:${ports.chain}'\n` +
        `config dataplane 'dataplane'\n\toption socks_port '${ports.socks}'\n\toption allow_private_destinations '1'\n`);
      return { file, sock: path.join(d, 'bitmesh.sock') };
    };
    const gw = await conf('gateway', ports.gw, [link.bSidePort]);
    const cl = await conf('client', ports.cl, [ports.link]);
    await new Promise((r) => setTimeout(r, 800));
    spawnChild(process.execPath, [BUNDLE, 'agent', '--config', gw.file]);
    spawnChild(process.execPath, [BUNDLE, 'agent', '--config', cl.file]);
    await waitFor(async () => (await ask(gw.sock, 'peers')).length === 1 && (await ask(cl.sock, 'status')).chain?.tip !== null, 15_000, 'agents');
    const { address } = await ask(cl.sock, 'wallet.address');
    const chainPost = (what, body) => sh('curl', '-s', '-XPOST', `http://127.0.0.1:${ports.chain}/${what}`, '-H', 'content-type: application/json', '-d', JSON.stringify(body));
    chainPost('faucet', { address, amountSat: 5_000_000, mine: 1 });
    const gwId = (await ask(gw.sock, 'status')).node.id;
    const benchChannels = new Set();

    // A fresh channel for a row; the previous one is closed so that neither the
    // auction's route nor the fallback (newest open channel) can pick it.
    let current;
    const freshChannel = async () => {
      const previous = current;
      const { channelId } = await ask(cl.sock, 'channel.open', { peer: gwId, capacitySat: CHANNEL_SAT, priceMsatPerKiB: PRICE_MSAT_PER_KIB });
      benchChannels.add(channelId);
      await waitFor(async () => (await ask(cl.sock, 'channels')).find((c) => c.id === channelId)?.funding, 15_000, 'funding');
      chainPost('mine', { blocks: 1 }); // confirms it, and the wallet's change for the next one
      await waitFor(async () => (await ask(gw.sock, 'channels')).find((c) => c.id === channelId)?.grantedBytes > 0, 15_000, 'channel at the gateway');
      await waitFor(async () => (await ask(cl.sock, 'channels')).find((c) => c.id === channelId)?.state === 'Open', 15_000, 'channel at the client');
      if (previous) {
        await ask(cl.sock, 'channel.close', { id: previous });
        await waitFor(async () => (await ask(cl.sock, 'channels')).find((c) => c.id === previous)?.state !== 'Open', 15_000, 'previous channel closed');
      }
      current = channelId;
      return channelId;
    };
    const creditOf = async (channelId) => (await ask(gw.sock, 'status')).channels.creditInForce.find((c) => c.channelId === channelId)?.creditBytes;

    const measureRow = async (delayMs, mbps, blob) => {
      setLink(delayMs, mbps);
      const channelId = await freshChannel();
      await download(`http://127.0.0.1:${ports.web}/warm`, ports.socks); // the credit grows from 64 KiB
      const creditAfterWarmup = await creditOf(channelId);
      const bytesBefore = await payerBytes(cl.sock);
      const before = await ask(cl.sock, 'status');
      const paid = await download(`http://127.0.0.1:${ports.web}/${blob}`, ports.socks);
      const after = await ask(cl.sock, 'status');
      const bytesAfter = await payerBytes(cl.sock);
      const direct = await download(`http://127.0.0.1:${ports.webLink}/${blob}`);
      // Which payer channels carried the measured download (must be this row's only).
      const carried = [...bytesAfter].filter(([id, b]) => b - (bytesBefore.get(id) ?? 0) > 0).map(([id]) => id);
      return {
        delayMs,
        linkMbps: mbps,
        paidMbps: paid.mbps,
        directMbps: direct.mbps,
        creditAfterWarmup,
        credit: await creditOf(channelId),
        bdpBytes: mbps > 0 ? Math.round(((mbps * 1e6) / 8) * ((2 * delayMs) / 1000)) : null,
        carriedBy: carried.map((id) => (id === channelId ? 'row' : benchChannels.has(id) ? 'old' : 'auction')),
        controlPlane: { before: before.controlPlane, after: after.controlPlane, bytes: paid.bytes },
      };
    };

    const rows = [];
    for (const delay of delays) rows.push(await measureRow(delay, linkMbps, 'small'));
    const ceilingRows = [];
    for (const delay of ceiling?.delays ?? []) ceilingRows.push(await measureRow(delay, 0, 'ceil'));

    const auction = (await ask(cl.sock, 'status')).market?.auction?.counters ?? null;
    const overheads = [rows[0], ceilingRows[0]].filter(Boolean).map((r) => ({ linkMbps: r.linkMbps, ...overheadOf(r.controlPlane) }));
    for (const r of [...rows, ...ceilingRows]) delete r.controlPlane;
    return { rows, ceilingRows, overheads, maxCreditMsat, mib, ceilingMib: ceiling?.mib, auctionChannelOpens: auction?.channelOpens ?? 0 };
  } finally {
    for (const l of links) l.close();
    // As src/os/kill-child.ts: a child that never started has pid 0 and must not be signalled.
    for (const c of children) if (typeof c.pid === 'number' && c.pid > 0 && c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true }).catch(() => {});
  }
}

const bytes = (b) => (b === undefined || b === null ? '?' : `${b.toLocaleString('en-US')} B`);

export function printPaidLinkBench(r, line) {
  for (const o of r.overheads) {
    line(`payment bytes/MiB, ${PRICE_MSAT_PER_KIB} msat/KiB, ${o.linkMbps ? `${o.linkMbps} Mbit/s` : 'unlimited'} link`, `${Math.round(o.perMiB)} B = ${((o.perMiB / 2 ** 20) * 100).toFixed(3)} % (goal ≤ 0.5 %; ${o.ticks} TICK + ${o.commits} COMMIT datagrams)`);
  }
  if (r.maxCreditMsat !== undefined) line('gateway max_credit_msat (not the default)', `${r.maxCreditMsat} msat`);
  const row = (x) => {
    const ratio = (x.paidMbps / x.directMbps).toFixed(2);
    const bdp = x.bdpBytes === null ? '' : `, link BDP ${bytes(x.bdpBytes)}`;
    const carried = x.carriedBy.join('+') === 'row' ? '' : `; carried by ${x.carriedBy.join('+') || 'nothing?'} channel(s)`;
    return `${x.paidMbps.toFixed(1)} vs unpaid ${x.directMbps.toFixed(1)} Mbit/s = ${ratio}; credit ${bytes(x.credit)} (after warm-up ${bytes(x.creditAfterWarmup)})${bdp}${carried}`;
  };
  for (const x of r.rows) line(`paid link ${x.linkMbps} Mbit/s, +${x.delayMs} ms each way`, row(x));
  for (const x of r.ceilingRows) line(`paid link unlimited (CPU), +${x.delayMs} ms each way`, row(x));
  line('channels the client auction opened itself', `${r.auctionChannelOpens} (each row: the bench's own channel only, unless noted)`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const arg = (name) => {
    const i = process.argv.indexOf(name);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  const mib = arg('--mib') ?? 16;
  const maxCreditMsat = arg('--max-credit-msat');
  const line = (k, v) => console.log(`  ${k.padEnd(48)} ${v}`);
  console.log(`# paid link — node ${process.version}, ${new Date().toISOString()}`);
  const t0 = Date.now();
  printPaidLinkBench(await paidLinkBench({ mib, maxCreditMsat, ...(maxCreditMsat !== undefined ? { ceiling: null } : {}) }), line);
  console.log(`  (${((Date.now() - t0) / 1000).toFixed(0)} s)`);
}
