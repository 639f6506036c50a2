#!/usr/bin/env node
// nft data plane, side by side in one run (root):
//   node scripts/bench/nft.mjs [--seconds N]
// or from run.mjs: `const r = await nftBench(); printNftBench(r);`
// Builds the client/gateway/internet namespaces of hw-test/lib/testbed.ts, then runs
// iperf3 (one TCP stream, upload and download) from the client through the gateway
// with the bitmesh table and a paid client, and through the same path with the table
// deleted (forwarding open), alternating. Then times one allowance update through the
// long-lived `nft -i` child against a fresh `nft` process.
// Goal (issue 5): paid / open ≥ 0.95.
// Then (nftCpuBench) the cost of metering and payments alone: a real gateway agent and a
// real client agent in nft mode, a channel opened by the client's own auction, ≥ 1 GiB
// of iperf3 through the paid gateway, and both agents' CPU time (with their children:
// the `nft -i` processes are part of the metering) per GiB forwarded.
//   node scripts/bench/nft.mjs [--seconds N] [--cpu-only] [--gib N]
import { build } from 'esbuild';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';
import { waitFor } from '../demo/wait-for.mjs';
import { ask } from '../testing/control-socket.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const exec = promisify(execFile);
const PREFIX = 'bmb-';

async function load() {
  const entry = [
    `export * from ${JSON.stringify(join(root, 'hw-test/lib/testbed.ts'))};`,
    `export * from ${JSON.stringify(join(root, 'hw-test/lib/netns.ts'))};`,
    `export * from ${JSON.stringify(join(root, 'src/dataplane/nft/nft-backend.ts'))};`,
    `export * from ${JSON.stringify(join(root, 'src/dataplane/nft/nft-process.ts'))};`,
  ].join('\n');
  const out = await build({ stdin: { contents: entry, resolveDir: root, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false });
  const dir = mkdtempSync(join(tmpdir(), 'bm-bench-nft-'));
  const file = join(dir, 'nft.mjs');
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

async function iperf(tb, seconds, reverse) {
  const args = ['netns', 'exec', tb.client, 'iperf3', '-c', tb.internetV4, '-B', tb.clientV4[0], '-t', String(seconds), '-J', ...(reverse ? ['-R'] : [])];
  const { stdout } = await exec('ip', args, { maxBuffer: 64 << 20 });
  return JSON.parse(stdout).end.sum_received.bits_per_second / 1e9;
}

const mean = (xs) => xs.reduce((a, b) => a + b, 0) / xs.length;

/** Why a bench cannot run here (not root, no nft, a tool missing), or undefined. */
async function cannotRun(m, tools) {
  const why = await m.nftUnavailable();
  if (why) return why;
  for (const tool of tools) {
    try {
      await exec('which', [tool]);
    } catch {
      return `${tool} not installed`;
    }
  }
  return undefined;
}

export async function nftBench({ seconds = 4, rounds = 2, updates = 2000, freshUpdates = 100 } = {}) {
  if (process.getuid?.() !== 0) return { skipped: 'not root' };
  const m = await load();
  const why = await cannotRun(m, ['iperf3']);
  if (why) return { skipped: why };
  const tb = await m.buildUpstreamTestbed(PREFIX);
  const server = spawn('ip', ['netns', 'exec', tb.internet, 'iperf3', '-s'], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 500));
  const backend = new m.NftBackend({ meshInterfaces: ['mesh0'], upstreamInterfaces: ['up0'], nftCommand: tb.gatewayNft });
  const id = 'be01';
  const r = { seconds, rounds, open: { up: [], down: [] }, paid: { up: [], down: [] } };
  try {
    for (let i = 0; i < rounds; i++) {
      // Open: no bitmesh table at all.
      await exec('ip', ['netns', 'exec', tb.gateway, 'nft', 'flush', 'ruleset']);
      r.open.up.push(await iperf(tb, seconds, false));
      r.open.down.push(await iperf(tb, seconds, true));
      // Paid: the table, one client with a large allowance.
      const b = new m.NftBackend({ meshInterfaces: ['mesh0'], upstreamInterfaces: ['up0'], nftCommand: tb.gatewayNft });
      await b.start();
      await b.grant({ channelId: id, addresses: [tb.clientV4[0]] }, Number.MAX_SAFE_INTEGER - 1e9);
      r.paid.up.push(await iperf(tb, seconds, false));
      r.paid.down.push(await iperf(tb, seconds, true));
      const u = await b.usage(id);
      r.paidBytesCounted = u.totalBytes;
      await b.stop();
    }

    // Allowance updates: the long-lived child vs a fresh nft process per update.
    await backend.start();
    await backend.grant({ channelId: id, addresses: [tb.clientV4[0]] }, 1_000_000);
    let total = 1_000_000;
    let t0 = performance.now();
    for (let i = 0; i < updates; i++) await backend.grant({ channelId: id, addresses: [tb.clientV4[0]] }, (total += 16_384));
    r.childUpdateMs = (performance.now() - t0) / updates;
    const proc = new m.NftProcess({ command: tb.gatewayNft });
    const line = `add quota inet bitmesh q_${id} { over ${total} bytes }; add element inet bitmesh cut4 { ${tb.clientV4[0]} }; delete element inet bitmesh cut4 { ${tb.clientV4[0]} }`;
    await proc.exec(line);
    t0 = performance.now();
    for (let i = 0; i < updates; i++) await proc.exec(line);
    r.childRawUpdateMs = (performance.now() - t0) / updates;
    await proc.close();
    t0 = performance.now();
    for (let i = 0; i < freshUpdates; i++) await exec('ip', ['netns', 'exec', tb.gateway, 'nft', line]);
    r.freshUpdateMs = (performance.now() - t0) / freshUpdates;
    // `ip netns exec` itself costs a fork+exec+setns; time it alone to subtract.
    t0 = performance.now();
    for (let i = 0; i < freshUpdates; i++) await exec('ip', ['netns', 'exec', tb.gateway, 'true']);
    r.netnsExecMs = (performance.now() - t0) / freshUpdates;
    await backend.stop();
  } finally {
    server.kill('SIGKILL');
    await m.deleteNamespaces(PREFIX);
  }
  return r;
}

export function printNftBench(r) {
  const line = (k, v) => console.log(`  ${k.padEnd(52)} ${v}`);
  if (r.skipped) return line('nft data plane', `SKIPPED (${r.skipped})`);
  for (const dir of ['up', 'down']) {
    const open = mean(r.open[dir]);
    const paid = mean(r.paid[dir]);
    line(`iperf3 ${dir === 'up' ? 'client→internet' : 'internet→client'}, table removed (open)`, `${open.toFixed(2)} Gbit/s  (${r.open[dir].map((x) => x.toFixed(2)).join(', ')})`);
    line(`iperf3 ${dir === 'up' ? 'client→internet' : 'internet→client'}, bitmesh table, paid`, `${paid.toFixed(2)} Gbit/s  (${r.paid[dir].map((x) => x.toFixed(2)).join(', ')})`);
    line(`  paid / open`, `${(paid / open).toFixed(3)}  (goal ≥ 0.95)`);
  }
  line('allowance update via backend.grant (nft -i child)', `${(r.childUpdateMs * 1000).toFixed(0)} µs`);
  line('allowance update, raw line to the nft -i child', `${(r.childRawUpdateMs * 1000).toFixed(0)} µs`);
  line('allowance update, fresh `ip netns exec … nft` process', `${r.freshUpdateMs.toFixed(2)} ms  (of which ip netns exec alone ${r.netnsExecMs.toFixed(2)} ms)`);
  line('fresh / child', `${(r.freshUpdateMs / r.childRawUpdateMs).toFixed(0)}×`);
}

// ---- agent CPU seconds per GiB forwarded ----

const CPU_PREFIX = 'bmc-';
const CHAIN_PORT = 4280;
const HTTP_PORT = 8080;
const MESH_PORT = 4270;
/**
 * Default terms: 1 msat/KiB (the client's ceiling is set to the gateway's price, as a
 * lone bidder is paid the client's ceiling), 16 KiB ticks, a COMMIT per whole sat. The
 * credit cap is raised to 16 MiB (the default is 1 sat = 1000 KiB) so that the credit,
 * growing from 64 KiB with rate × round trip, never limits the link here.
 */
const CPU_CREDIT_KIB = 16_384;

function cpuAgentConfig(tb, dir, role) {
  const me = role === 'gateway' ? tb.gatewayMeshV4 : tb.clientV4[0];
  return `# scripts/bench/nft.mjs
config agent 'main'
\toption role '${role}'
\toption state_dir '${dir}'
\toption log_level 'warn'

config mesh 'mesh'
\tlist interface 'mesh0'
\toption bind_address '${me}'
\toption port '${MESH_PORT}'
\tlist peer '${tb.gatewayMeshV4}:${MESH_PORT}'
\tlist peer '${tb.clientV4[0]}:${MESH_PORT}'

config market 'market'
\toption max_price_msat_per_kib '1'
${role === 'gateway' ? `\toption probe_url 'http://${tb.internetV4}:${HTTP_PORT}/?n=262144'\n` : ''}
config channel 'channel'
\toption max_credit_msat '${CPU_CREDIT_KIB}'

config chain 'chain'
\toption backend 'esplora'
\toption esplora_url 'http://${tb.gatewayMeshV4}:${CHAIN_PORT}'

config dataplane 'dataplane'
\toption backend 'nft'
\tlist upstream_interface 'up0'
`;
}

/** utime, stime, cutime, cstime and ppid of a process, from /proc (clock ticks). */
function procStat(pid) {
  try {
    const st = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may hold spaces.
    const f = st.slice(st.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(f[1]), self: Number(f[11]) + Number(f[12]), reaped: Number(f[13]) + Number(f[14]) };
  } catch {
    return undefined;
  }
}

/**
 * CPU ticks of a process and all its descendants: their own time plus that of the
 * children they reaped (short-lived `nft`, `ip`). Returns { self, children }.
 */
function treeTicks(pid) {
  const all = new Map();
  for (const d of readdirSync('/proc')) if (/^\d+$/.test(d)) {
    const s = procStat(Number(d));
    if (s) all.set(Number(d), s);
  }
  const top = all.get(pid);
  if (!top) throw new Error(`process ${pid} is gone`);
  let children = top.reaped;
  const stack = [pid];
  while (stack.length > 0) {
    const p = stack.pop();
    for (const [q, s] of all) if (s.ppid === p) {
      children += s.self + s.reaped;
      stack.push(q);
    }
  }
  return { self: top.self, children };
}

export async function nftCpuBench({ gib = 1, idleSeconds = 5 } = {}) {
  if (process.getuid?.() !== 0) return { skipped: 'not root' };
  const m = await load();
  const why = await cannotRun(m, ['iperf3', 'curl']);
  if (why) return { skipped: why };
  const hz = Number((await exec('getconf', ['CLK_TCK'])).stdout.trim()) || 100;
  const tb = await m.buildUpstreamTestbed(CPU_PREFIX);
  const dir = mkdtempSync(join(tmpdir(), 'bm-bench-cpu-'));
  const procs = [];
  const agents = {};
  try {
    procs.push(await m.startByteServer(tb.internet, HTTP_PORT));
    procs.push(m.spawnInNs(tb.internet, 'iperf3', ['-s']));
    procs.push(m.spawnInNs(tb.gateway, process.execPath, [join(root, 'dist/bitmesh.js'), 'devchain', '--host', tb.gatewayMeshV4, '--port', String(CHAIN_PORT), '--state-dir', join(dir, 'chain')]));
    const chain = (...args) => m.inNs(tb.gateway, 'curl', '-s', '-f', '-m', '5', ...args);
    await waitFor('the devchain', 15_000, async () => (await chain(`http://${tb.gatewayMeshV4}:${CHAIN_PORT}/blocks/tip/height`)).trim() !== '', 200);
    for (const [role, ns] of [['gateway', tb.gateway], ['client', tb.client]]) {
      const d = join(dir, role);
      const conf = join(dir, `${role}.conf`);
      writeFileSync(conf, cpuAgentConfig(tb, d, role));
      // `ip netns exec` execs the agent: this pid is the agent's.
      const p = m.spawnInNs(ns, process.execPath, [join(root, 'dist/bitmesh.js'), 'agent', '--config', conf]);
      let log = '';
      p.child.stderr.on('data', (x) => (log = (log + x).slice(-8000)));
      agents[role] = { ...p, sock: join(d, 'bitmesh.sock'), log: () => log };
      procs.push(p);
    }
    const { gateway: gw, client: cl } = agents;
    const { address } = await waitFor('the client agent', 15_000, () => ask(cl.sock, 'wallet.address'), 200);
    // Idle with no client: the gateway before anyone can pay it (the client has no money
    // yet: it auctions, but opens no channel). Most of a router's life as a gateway.
    await new Promise((r) => setTimeout(r, 2000)); // past the start-up
    const n0 = { t: performance.now(), gw: treeTicks(gw.child.pid) };
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const n1 = { t: performance.now(), gw: treeTicks(gw.child.pid) };
    await chain('-XPOST', '-H', 'content-type: application/json', '-d', JSON.stringify({ address, amountSat: 1_000_000, mine: 1 }), `http://${tb.gatewayMeshV4}:${CHAIN_PORT}/faucet`);
    // The client's own auction awards the gateway and opens the channel; a user asking
    // for upstream is what makes it buy, and its first complete download is the sign.
    const url = `http://${tb.internetV4}:${HTTP_PORT}/?n=100000`;
    await waitFor('a paid download through the gateway', 60_000, async () => (await m.httpGet(tb.client, url, tb.clientV4[0], 2_000)).complete, 200);
    const payer = async () => (await ask(cl.sock, 'channels')).filter((c) => c.role === 'payer');
    const payee = async () => (await ask(gw.sock, 'channels')).filter((c) => c.role === 'payee');
    const sum = (chs, k) => chs.reduce((a, c) => a + BigInt(c[k]), 0n);
    const sample = async () => ({
      t: performance.now(),
      gw: treeTicks(gw.child.pid),
      cl: treeTicks(cl.child.pid),
      paidMsat: sum(await payee(), 'paidMsat'),
      meteredBytes: Number(sum(await payee(), 'bytes')),
      clientBytes: Number(sum(await payer(), 'bytes')),
    });
    // Idle: the channel open, nothing flowing (meter polls, HELLOs, offers).
    const i0 = await sample();
    await new Promise((r) => setTimeout(r, idleSeconds * 1000));
    const i1 = await sample();
    // Loaded: iperf3 downloads `gib` GiB from the internet through the paid gateway.
    const s0 = await sample();
    const bytes = Math.round(gib * 2 ** 30);
    const { stdout } = await exec('ip', ['netns', 'exec', tb.client, 'iperf3', '-c', tb.internetV4, '-B', tb.clientV4[0], '-R', '-n', String(bytes), '-J'], { maxBuffer: 64 << 20, timeout: 600_000 });
    // The last bytes are metered and paid a poll or two later: their cost counts too.
    let s1 = await sample();
    for (let k = 0; k < 10; k++) {
      await new Promise((r) => setTimeout(r, 300));
      const next = await sample();
      const settled = next.meteredBytes === s1.meteredBytes && next.paidMsat === s1.paidMsat;
      s1 = next;
      if (settled) break;
    }
    const iperf = JSON.parse(stdout).end;
    const channels = await payer();
    const secs = (a, b, who, k) => (b[who][k] - a[who][k]) / hz;
    const r = {
      gib,
      hz,
      seconds: (s1.t - s0.t) / 1000,
      iperfBytes: iperf.sum_received.bytes,
      gbitPerS: iperf.sum_received.bits_per_second / 1e9,
      meteredBytes: s1.meteredBytes - s0.meteredBytes,
      clientMeteredBytes: s1.clientBytes - s0.clientBytes,
      paidMsat: String(s1.paidMsat - s0.paidMsat),
      channels: channels.length,
      idleSeconds: (i1.t - i0.t) / 1000,
      noClientSeconds: (n1.t - n0.t) / 1000,
    };
    r.gwNoClient = { agent: secs(n0, n1, 'gw', 'self'), children: secs(n0, n1, 'gw', 'children') };
    for (const who of ['gw', 'cl']) {
      r[who] = {
        agent: secs(s0, s1, who, 'self'),
        children: secs(s0, s1, who, 'children'),
        idleAgent: secs(i0, i1, who, 'self'),
        idleChildren: secs(i0, i1, who, 'children'),
      };
    }
    return r;
  } catch (e) {
    for (const [role, a] of Object.entries(agents)) console.error(`--- ${role} agent\n${a.log()}`);
    throw e;
  } finally {
    for (const p of procs.reverse()) await p.stop();
    await m.deleteNamespaces(CPU_PREFIX);
    rmSync(dir, { recursive: true, force: true });
  }
}

export function printNftCpuBench(r) {
  const line = (k, v) => console.log(`  ${k.padEnd(52)} ${v}`);
  if (r.skipped) return line('agent CPU per GiB forwarded (nft)', `SKIPPED (${r.skipped})`);
  // Per GiB the gateway metered (IP bytes, both directions): what the client pays for.
  const gibs = r.meteredBytes / 2 ** 30;
  line('forwarded through the paid gateway (iperf3 -R -n)', `${(r.iperfBytes / 2 ** 30).toFixed(2)} GiB of payload, ${r.gbitPerS.toFixed(2)} Gbit/s`);
  const nc = r.gwNoClient;
  line('gateway agent idle, no client yet (node + nft child)', `${(((nc.agent + nc.children) / r.noClientSeconds) * 1000).toFixed(0)} ms CPU/s  (node ${((nc.agent / r.noClientSeconds) * 1000).toFixed(0)} + children ${((nc.children / r.noClientSeconds) * 1000).toFixed(0)})`);
  line('  metered by the gateway (both directions, IP bytes)', `${gibs.toFixed(3)} GiB in ${r.seconds.toFixed(1)} s, paid ${(Number(r.paidMsat) / 1000).toFixed(0)} sat, ${r.channels} channel(s)`);
  for (const [who, name] of [['gw', 'gateway'], ['cl', 'client']]) {
    const c = r[who];
    const idlePerS = (c.idleAgent + c.idleChildren) / r.idleSeconds;
    const total = c.agent + c.children;
    line(`${name} agent CPU s per GiB (node + its nft children)`, `${(total / gibs).toFixed(2)} s  (node ${(c.agent / gibs).toFixed(2)} + children ${(c.children / gibs).toFixed(2)})`);
    line(`  of which idle cost (${(idlePerS * 1000).toFixed(0)} ms CPU/s × ${r.seconds.toFixed(1)} s)`, `${((idlePerS * r.seconds) / gibs).toFixed(2)} s`);
    line(`  idle with the channel open (node + nft children)`, `${(idlePerS * 1000).toFixed(0)} ms CPU/s  (node ${((c.idleAgent / r.idleSeconds) * 1000).toFixed(0)} + children ${((c.idleChildren / r.idleSeconds) * 1000).toFixed(0)})`);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const arg = (k) => {
    const i = process.argv.indexOf(k);
    return i > 0 ? Number(process.argv[i + 1]) : undefined;
  };
  console.log(`\n## Data plane: nft`);
  if (!process.argv.includes('--cpu-only')) printNftBench(await nftBench(arg('--seconds') ? { seconds: arg('--seconds') } : {}));
  const r = await nftCpuBench(arg('--gib') ? { gib: arg('--gib') } : {});
  printNftCpuBench(r);
  if (process.argv.includes('--raw')) console.log(JSON.stringify(r));
}
