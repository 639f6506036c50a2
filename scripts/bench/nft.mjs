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
import { build } from 'esbuild';
import { execFile, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { promisify } from 'node:util';

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

export async function nftBench({ seconds = 4, rounds = 2, updates = 2000, freshUpdates = 100 } = {}) {
  if (process.getuid?.() !== 0) return { skipped: 'not root' };
  const m = await load();
  const why = await m.nftUnavailable();
  if (why) return { skipped: why };
  try {
    await exec('iperf3', ['--version']);
  } catch {
    return { skipped: 'iperf3 not installed' };
  }
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

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const i = process.argv.indexOf('--seconds');
  const r = await nftBench(i > 0 ? { seconds: Number(process.argv[i + 1]) } : {});
  console.log(`\n## Data plane: nft`);
  printNftBench(r);
}
