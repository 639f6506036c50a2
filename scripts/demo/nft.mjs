// `make demo NFT=1` (root): the demo's market with agents in nft mode in network
// namespaces. The namespaces, uplinks, devchain and agent processes are the issue-5
// testbed's (hw-test/testbed/mesh-testbed.ts, bundled on the fly by esbuild): a bridge as
// the mesh segment, three gateways each with its own tbf-shaped uplink to an `internet`
// namespace serving HTTP, three clients. The kernel forwards and enforces each client's
// paid quota; the agents meter and pay. Each client's user downloads in a loop from
// inside its namespace (download-loop.mjs), the live table and summary come from the
// agents' control sockets (market-view.mjs), and the gateways settle on the devchain
// (settle.mjs), as in proxy mode.
//
// Every namespace is named `bmd<pid>-…`; they are deleted on every exit path (normal,
// error, SIGINT/SIGTERM/SIGHUP), and a later run deletes those of a run that was killed.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { nsChain } from './chain-client.mjs';
import { askAgent, nameAgents, rows as snapshotRows, summarize, table, verdictLine } from './market-view.mjs';
import { settle } from './settle.mjs';
import { waitFor } from './wait-for.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUNDLE = path.join(ROOT, 'dist/bitmesh.js');
const DOWNLOAD_LOOP = path.join(ROOT, 'scripts/demo/download-loop.mjs');
const PREFIX_RE = /^bmd(\d+)-/;
/** Each gateway's uplink, both directions (tbf). */
const UPLINK_MBIT = 20;
// Prices in msat per KiB, high enough that a channel earns the fee of its closing
// transaction (about 200 sat + 330 sat dust on the devchain) within a few seconds at
// these uplink rates. The credit cap is raised to the bytes the defaults allow at
// 1 msat/KiB (1 sat = 1000 KiB): at these prices 1 sat would be 2.5–5 KiB, a trickle per
// payment round trip. The credit still starts at 64 KiB and grows with rate × round trip.
const GATEWAY_PRICES = [200, 300, 400];
const MAX_PRICE = 500;
const CREDIT_KIB = 1000;
const FUND_SAT = 1_200_000;
const COINS = 6;
const DOWNLOAD_BYTES = 4 << 20;

/** Why the nft demo cannot run here, or undefined. */
async function unavailable(m) {
  if (process.getuid?.() !== 0) return 'it needs root (network namespaces, nftables, tc)';
  const why = await m.nftUnavailable();
  if (why) return why;
  for (const tool of ['tc', 'curl']) {
    try {
      await m.sh('which', [tool]);
    } catch {
      return `${tool} is not installed`;
    }
  }
  return undefined;
}

/** The testbed's TypeScript helpers, bundled into a temporary ES module. */
async function loadTestbed() {
  const { build } = await import('esbuild');
  const entry = ['hw-test/testbed/mesh-testbed.ts', 'hw-test/lib/testbed.ts', 'hw-test/lib/netns.ts']
    .map((f) => `export * from ${JSON.stringify(path.join(ROOT, f))};`)
    .join('\n');
  const out = await build({ stdin: { contents: entry, resolveDir: ROOT, loader: 'ts' }, bundle: true, platform: 'node', format: 'esm', target: 'node20', write: false, logLevel: 'error' });
  const dir = mkdtempSync(path.join(tmpdir(), 'bmd-load-'));
  const file = path.join(dir, 'mesh-testbed.mjs');
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The testbed's agent config with the demo's market terms. */
function demoConfig(base, role, price) {
  const line = (option) => new RegExp(`^\\toption ${option} '[^']*'$`, 'm');
  const set = (text, option, value) => {
    if (!line(option).test(text)) throw new Error(`demo: the testbed's agent config has no option ${option}`);
    return text.replace(line(option), `\toption ${option} '${value}'`);
  };
  // A new option in the same section as `neighbour`.
  const addBeside = (text, neighbour, option, value) => {
    if (!line(neighbour).test(text)) throw new Error(`demo: the testbed's agent config has no option ${neighbour}`);
    return text.replace(line(neighbour), (l) => `${l}\n\toption ${option} '${value}'`);
  };
  let c = base;
  c = set(c, 'max_price_msat_per_kib', MAX_PRICE);
  // The defaults, where the testbed tightens them for its bounds (loss, failover time):
  // on a loaded machine a 300 ms beacon is late often enough to read as a dead gateway.
  c = set(c, 'loss_tolerance_pct', 2);
  c = set(c, 'hello_interval_ms', 1000);
  c = set(c, 'neighbour_expiry_ms', 5000);
  c = set(c, 'log_level', 'warn');
  if (role === 'gateway') {
    c = set(c, 'price_msat_per_kib', price);
    c = addBeside(c, 'tick_kib', 'max_credit_msat', price * CREDIT_KIB);
  }
  return c;
}

/** Starts `n`'s agent with the config file `conf`, as the testbed's startAgent does (its pid is the agent's). */
function startDemoAgent(n, conf) {
  const child = spawn('ip', ['netns', 'exec', n.ns, process.execPath, BUNDLE, 'agent', '--config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  n.agent = child;
  n.log = '';
  child.stderr.on('data', (d) => (n.log = (n.log + d).slice(-20_000)));
}

/** Namespaces of demos whose process is gone (killed before it could clean up). */
async function deleteStaleNamespaces(m) {
  const list = await m.ip('netns', 'list').catch(() => '');
  for (const line of list.split('\n')) {
    const pid = Number(PREFIX_RE.exec(line)?.[1]);
    if (!pid || pid === process.pid) continue;
    try {
      process.kill(pid, 0);
    } catch (e) {
      if (e.code === 'ESRCH') await sweep(m, `bmd${pid}-`);
    }
  }
}

/** Ends what still runs in our namespaces (by pid) and deletes them. */
async function sweep(m, prefix) {
  const list = await m.ip('netns', 'list').catch(() => '');
  for (const ns of list.split('\n').map((l) => l.split(' ')[0]).filter((n) => n && n.startsWith(prefix))) {
    const pids = await m.ip('netns', 'pids', ns).catch(() => '');
    for (const pid of pids.split('\n').map(Number).filter((p) => p > 0 && p !== process.pid)) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }
  await m.deleteNamespaces(prefix);
}

/** Runs the demo; resolves with the process exit code. */
export async function runNftDemo({ seconds, json, say }) {
  if (process.getuid?.() !== 0) {
    console.error('demo --nft (make demo NFT=1): needs root, for network namespaces, nftables and tc.\n' +
      'Run it as root (sudo make demo NFT=1), or run `make demo` for the same market on loopback without root.');
    return 1;
  }
  const m = await loadTestbed();
  const why = await unavailable(m);
  if (why) {
    console.error(`demo --nft: cannot run here: ${why}`);
    return 1;
  }
  const prefix = `bmd${process.pid}-`;
  const t0 = Date.now();
  let tb;
  let building;
  const downloads = [];
  let miner;
  // Set once cleanup has begun: the main flow starts no process after that.
  let stopping = false;
  const go = () => {
    if (stopping) throw new Error('demo: stopping');
  };
  let cleaning;
  const cleanup = () => (cleaning ??= (async () => {
    stopping = true;
    clearInterval(miner);
    // A testbed half built when a signal came: let it finish, so teardown knows its processes.
    if (!tb && building) tb = await building.catch(() => undefined);
    await Promise.all(downloads.map((d) => d.stop()));
    // teardown() keeps agent logs for CI in a shared directory: ours are printed instead.
    if (tb) for (const n of [...tb.gateways, ...tb.clients]) n.log = '';
    await m.teardown(tb, prefix).catch((e) => console.error(`demo: teardown: ${e.message}`));
    // Anything that was still being created when a signal came.
    await sweep(m, prefix);
  })());
  const onSignal = (sig) => {
    console.error(`\ndemo: ${sig}: stopping the agents and deleting the namespaces`);
    void cleanup().finally(() => process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGHUP' ? 1 : 15)));
  };
  const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  for (const s of signals) process.once(s, onSignal);

  let failed = false;
  try {
    await deleteStaleNamespaces(m);
    building = m.buildMeshTestbed(prefix, { uplinkMbit: UPLINK_MBIT });
    tb = await building;
    const chain = nsChain(tb.seg, tb.chainUrl);
    const agents = [
      ...tb.gateways.map((n, i) => ({ n, name: `gw-${i + 1}`, role: 'gateway', price: GATEWAY_PRICES[i] })),
      ...tb.clients.map((n, i) => ({ n, name: `client-${i + 1}`, role: 'client' })),
    ].map((a) => ({ ...a, sock: a.n.socket, log: () => a.n.log }));
    for (const a of agents) {
      const conf = path.join(tb.root, `${a.n.name}.conf`);
      await writeFile(conf, demoConfig(m.agentConfig(tb, a.n), a.role, a.price));
      go();
      startDemoAgent(a.n, conf);
    }
    for (const a of agents) await waitFor(`${a.name} to answer`, 15_000, () => askAgent(a.sock, 'status'));
    const names = await nameAgents(agents);
    say(`BitMesh demo (nft mode): ${agents.length} agents in network namespaces ${prefix}*, devchain at ${tb.chainUrl} on the mesh segment, ` +
      `"internet" at ${m.INTERNET_HOST}:${m.HTTP_PORT} behind ${UPLINK_MBIT} Mbit/s uplinks; up after ${Date.now() - t0} ms`);

    // Fund the clients in several coins (a channel's funding never waits for another's
    // change); then a block a second, like a fast regtest.
    const clients = agents.filter((a) => a.role === 'client');
    const gateways = agents.filter((a) => a.role === 'gateway');
    const timings = { upMs: Date.now() - t0 };
    await Promise.all(clients.map(async (c) => {
      const { address } = await askAgent(c.sock, 'wallet.address');
      for (let k = 0; k < COINS; k++) await chain.post('/faucet', { address, amountSat: FUND_SAT / COINS });
    }));
    await chain.post('/mine', { blocks: 1 });
    timings.fundedMs = Date.now() - t0;
    miner = setInterval(() => void chain.post('/mine', { blocks: 1 }).catch(() => {}), 1000);
    say(`funded ${clients.length} clients with ${FUND_SAT.toLocaleString('en')} sat each; auctions, channels and default routes follow on their own`);

    // Each client's user downloads in a loop; until its agent has a paid gateway there is no route.
    const traffic = new Map(clients.map((c) => [c.name, { bytes: 0, ok: 0, failed: 0, firstPaidMs: null }]));
    for (const c of clients) {
      go();
      const d = m.spawnInNs(c.n.ns, process.execPath, [DOWNLOAD_LOOP, `http://${m.INTERNET_HOST}:${m.HTTP_PORT}/?n=${DOWNLOAD_BYTES}`]);
      downloads.push(d);
      const t = traffic.get(c.name);
      let buf = '';
      d.child.stdout.on('data', (chunk) => {
        buf += chunk;
        const lines = buf.split('\n');
        buf = lines.pop();
        const last = lines.at(-1);
        if (!last) return;
        Object.assign(t, JSON.parse(last));
        if (t.bytes > 0 && t.firstPaidMs === null) t.firstPaidMs = Date.now() - t0;
      });
    }

    const tEnd = Date.now() + seconds * 1000;
    let rows = [];
    while (Date.now() < tEnd) {
      await new Promise((r) => setTimeout(r, 1000));
      rows = await snapshotRows(agents, names);
      if (!json) process.stdout.write(`\x1b[2J\x1b[H` + `BitMesh demo (nft mode, network namespaces) — clients downloading, ${Math.max(0, Math.ceil((tEnd - Date.now()) / 1000))} s left\n\n` + table(rows) + '\n');
    }
    await Promise.all(downloads.map((d) => d.stop()));
    clearInterval(miner);
    timings.downloadedMs = Date.now() - t0;
    rows = await snapshotRows(agents, names);
    say('\n' + table(rows));

    say('\nSettlement: the gateways close their channels (leaf A with the payer\'s latest state)');
    const closes = await settle({ gateways, names, chain, say });
    timings.settledMs = Date.now() - t0;
    const verdict = summarize({ t0, clients, rows, traffic, closes });
    verdict.summary.mode = 'nft';
    verdict.summary.timings = timings;
    if (json) console.log(JSON.stringify(verdict.summary, null, 2));
    else say(verdictLine(verdict));
    failed = !verdict.summary.ok;
    if (failed) for (const a of agents) console.error(`--- ${a.name}\n${a.log()}`);
  } catch (e) {
    if (!stopping) console.error(e instanceof Error ? e.message : e);
    failed = true;
  } finally {
    await cleanup();
    for (const s of signals) process.removeListener(s, onSignal);
  }
  return failed ? 1 : 0;
}
