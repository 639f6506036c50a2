// Two real agents (gateway, client) and a devchain as separate processes, a paid
// channel, and downloads through the client's SOCKS5 endpoint: the payment bytes on
// the wire per MiB served, and the throughput the tick window sustains as the round
// trip grows. The client reaches the gateway through a DelayLink (added one-way delay
// on every datagram and TCP chunk, both directions), so ticks, commits and grants all
// pay the round trip; each row is measured side by side with the same download
// through the same delayed link without payment (a plain HTTP fetch via the link).
import { execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ask } from '../testing/control-socket.mjs';
import { DelayLink } from './delay-link.mjs';

const BUNDLE = path.resolve('dist/bitmesh.js');

function inNs(ns, cmd, args) {
  return ns ? ['ip', ['netns', 'exec', ns, cmd, ...args]] : [cmd, args];
}

function sh(ns, cmd, ...args) {
  const [c, a] = inNs(ns, cmd, args);
  return execFileSync(c, a, { encoding: 'utf8' });
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
  return { bytes: size, seconds: time, gbps: (size * 8) / time / 1e9 };
}

export async function paidLinkBench({ mib = 64, delays = [0, 1, 5, 20] } = {}) {
  const ns = undefined; // the delay is in user space (DelayLink); no namespace needed
  const children = [];
  const spawnIn = (cmd, args, opts = {}) => {
    const [c, a] = inNs(ns, cmd, args);
    const child = spawn(c, a, { stdio: 'ignore', ...opts });
    children.push(child);
    return child;
  };
  const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-link-'));
  try {
    const blob = path.join(dir, 'blob');
    execFileSync('head', ['-c', String(mib << 20), '/dev/zero'], { stdio: ['ignore', (await import('node:fs')).openSync(blob, 'w'), 'ignore'] });
    const ports = { chain: 34280, gw: 34271, cl: 34272, socks: 31080, web: 38080, link: 34273, webLink: 38081 };
    // client → link (34273) → gateway (34271); the gateway sees the client at the link's far port.
    const link = await new DelayLink().start({ listenPort: ports.link, bPort: ports.gw, aPort: ports.cl });
    // The unpaid reference: the same delay on a plain HTTP fetch.
    const webLink = await new DelayLink().start({ listenPort: ports.webLink, bPort: ports.web, aPort: 1 });
    children.push({ kill: () => { link.close(); webLink.close(); } });
    spawnIn('python3', ['-m', 'http.server', String(ports.web), '--bind', '127.0.0.1', '--directory', dir]);
    spawnIn(process.execPath, [BUNDLE, 'devchain', '--port', String(ports.chain), '--state-dir', path.join(dir, 'chain')]);
    const conf = async (role, port, peers) => {
      const d = path.join(dir, role);
      const file = path.join(dir, `${role}.conf`);
      await writeFile(file,
        `config agent 'main'\n\toption role '${role}'\n\toption state_dir '${d}'\n\toption log_level 'warn'\n` +
        `config mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${port}'\n${peers.map((p) => `\tlist peer '127.0.0.1:${p}'\n`).join('')}` +
        `config market 'market'\n\toption price_msat_per_kib '100'\n` +
        `config chain 'chain'\n\toption esplora_url 'http://127.0.0.1:${ports.chain}'\n` +
        `config dataplane 'dataplane'\n\toption socks_port '${ports.socks}'\n\toption allow_private_destinations '1'\n`);
      return { file, sock: path.join(d, 'bitmesh.sock') };
    };
    const gw = await conf('gateway', ports.gw, [link.bSidePort]);
    const cl = await conf('client', ports.cl, [ports.link]);
    await new Promise((r) => setTimeout(r, 800));
    spawnIn(process.execPath, [BUNDLE, 'agent', '--config', gw.file]);
    spawnIn(process.execPath, [BUNDLE, 'agent', '--config', cl.file]);
    await waitFor(async () => (await ask(gw.sock, 'peers')).length === 1 && (await ask(cl.sock, 'status')).chain?.tip !== null, 15_000, 'agents');
    const { address } = await ask(cl.sock, 'wallet.address');
    sh(ns, 'curl', '-s', '-XPOST', `http://127.0.0.1:${ports.chain}/faucet`, '-H', 'content-type: application/json', '-d', JSON.stringify({ address, amountSat: 5_000_000, mine: 1 }));
    const gwId = (await ask(gw.sock, 'status')).node.id;
    const { channelId } = await ask(cl.sock, 'channel.open', { peer: gwId, capacitySat: 4_000_000, priceMsatPerKiB: 100 });
    // Above the gateway's zero-conf cap: it waits for a confirmation.
    await waitFor(async () => (await ask(cl.sock, 'channels')).find((c) => c.id === channelId)?.funding, 15_000, 'funding');
    await new Promise((r) => setTimeout(r, 300));
    sh(ns, 'curl', '-s', '-XPOST', `http://127.0.0.1:${ports.chain}/mine`, '-H', 'content-type: application/json', '-d', '{"blocks":1}');
    await waitFor(async () => (await ask(gw.sock, 'channels')).find((c) => c.id === channelId)?.grantedBytes > 0, 15_000, 'channel');
    await waitFor(async () => (await ask(cl.sock, 'channels')).find((c) => c.id === channelId)?.state === 'Open', 15_000, 'channel');

    const url = `http://127.0.0.1:${ports.web}/blob`;
    const rows = [];
    let overhead;
    for (const delay of delays) {
      link.delayMs = delay;
      webLink.delayMs = delay;
      const before = await ask(cl.sock, 'status');
      const paid = await download(url, ports.socks);
      const after = await ask(cl.sock, 'status');
      const direct = await download(`http://127.0.0.1:${ports.webLink}/blob`);
      rows.push({ delayMs: delay, paidGbps: paid.gbps, directGbps: direct.gbps, credit: (await ask(gw.sock, 'status')).channels.creditInForce[0]?.creditBytes });
      if (delay === 0) {
        const sent = (t) => (after.controlPlane.sent[t] ?? 0) - (before.controlPlane.sent[t] ?? 0);
        const datagrams = sent('TICK') + sent('COMMIT');
        const bytes = after.controlPlane.txBytes - before.controlPlane.txBytes - sent('HELLO') * 130;
        overhead = { ticks: sent('TICK'), commits: sent('COMMIT'), perMiB: (bytes + datagrams * 28) / (paid.bytes / 2 ** 20) };
      }
    }
    return { rows, overhead };
  } finally {
    for (const c of children) c.kill('SIGKILL');
  }
}

export function printPaidLinkBench(r, line) {
  if (r.overhead) {
    line('payment bytes per MiB served (live, 100 msat/KiB)', `${Math.round(r.overhead.perMiB)} B = ${((r.overhead.perMiB / 2 ** 20) * 100).toFixed(3)} % (goal ≤ 0.5 %; ${r.overhead.ticks} TICK + ${r.overhead.commits} COMMIT datagrams)`);
  }
  for (const row of r.rows) {
    line(`paid link, +${row.delayMs} ms each way`, `${(row.paidGbps * 1000).toFixed(0)} Mbit/s vs unpaid ${(row.directGbps * 1000).toFixed(0)} = ${(row.paidGbps / row.directGbps).toFixed(2)} (credit in force ${row.credit} B)`);
  }
}
