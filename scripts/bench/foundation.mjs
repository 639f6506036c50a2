// Foundation figures: bundle size (dist/bitmesh.js, the file a router runs; the
// development file dist/bitmesh-dev.js beside it is reported apart), agent idle RSS,
// time from process start to the first HELLO on the wire (the agent started with the
// init script's node flags), and the strict wire decoder against plain cbor-x on the
// same datagrams (what strictness costs per packet), all in one run.
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, readFile, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from '../testing/free-ports.mjs';

const BUNDLE = path.resolve('dist/bitmesh.js');
const DEV_BUNDLE = path.resolve('dist/bitmesh-dev.js');
const INIT_SCRIPT = path.resolve('packages-openwrt/bitmesh/files/bitmesh.init');
/** What the init script's heap_mb gives on a 256 MB router (MemTotal ≈ 249,420 kB). */
const ROUTER_HEAP_MB = 60;

/**
 * The node flags the router's init script starts the agent with: its V8_FLAGS line and
 * the old-space limit of a 256 MB router, so the bench measures the agent as it runs there.
 */
export async function routerNodeFlags() {
  const init = await readFile(INIT_SCRIPT, 'utf8');
  const m = /^V8_FLAGS="([^"]*)"$/m.exec(init);
  if (!m) throw new Error(`${INIT_SCRIPT}: no V8_FLAGS="..." line`);
  return [...m[1].split(/\s+/).filter(Boolean), `--max-old-space-size=${ROUTER_HEAP_MB}`];
}

const freePort = async () => (await freePorts(1))[0];

async function startAgent(listenerPort, chainUrl) {
  const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-bench-'));
  const port = await freePort();
  const conf = path.join(dir, 'b.conf');
  await writeFile(conf, `config agent 'main'\n\toption state_dir '${dir}'\n\toption log_level 'warn'\nconfig mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${port}'\n\tlist peer '127.0.0.1:${listenerPort}'\n` +
    `config chain 'chain'\n\toption esplora_url '${chainUrl}'\nconfig dataplane 'dataplane'\n\toption socks_port '0'\n`);
  // First start creates the key; measure later starts, as on a router that reboots.
  await new Promise((r) => spawn(process.execPath, [BUNDLE, 'id', '--config', conf]).on('exit', r));
  return { conf };
}

/** Signals a child only if it really started and is still running (see src/os/kill-child.ts). */
function stopChild(child) {
  if (typeof child.pid === 'number' && child.pid > 0 && child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export async function foundationBench() {
  const results = {};
  results.bundleBytes = (await stat(BUNDLE)).size;
  results.devBundleBytes = (await stat(DEV_BUNDLE)).size;
  results.nodeFlags = await routerNodeFlags();

  // Time to first HELLO and idle RSS, median of 5 starts, of a whole agent: mesh,
  // wallet, channel manager, proxy endpoint and a chain client (the devchain it talks
  // to runs in its own process, as a router's Esplora server would).
  const chainDir = await mkdtemp(path.join(tmpdir(), 'bitmesh-bench-chain-'));
  const chainPort = await freePort();
  const chain = spawn(process.execPath, [BUNDLE, 'devchain', '--port', String(chainPort), '--state-dir', chainDir], { stdio: 'ignore' });
  await new Promise((r) => setTimeout(r, 1000));
  const chainUrl = `http://127.0.0.1:${chainPort}`;
  const firstHello = [];
  const rss = [];
  for (let i = 0; i < 5; i++) {
    const listener = dgram.createSocket('udp4');
    await new Promise((r) => listener.bind(0, '127.0.0.1', r));
    const { conf } = await startAgent(listener.address().port, chainUrl);
    const t0 = performance.now();
    const child = spawn(process.execPath, [...results.nodeFlags, BUNDLE, 'agent', '--config', conf], { stdio: 'ignore' });
    await new Promise((r) => listener.once('message', r));
    firstHello.push(performance.now() - t0);
    await new Promise((r) => setTimeout(r, 5000)); // idle: beacons only
    const status = await readFile(`/proc/${child.pid}/status`, 'utf8');
    rss.push(Number(/VmRSS:\s+(\d+) kB/.exec(status)[1]) * 1024);
    const exited = new Promise((r) => child.once('exit', r));
    stopChild(child);
    await exited;
    listener.close();
  }
  stopChild(chain);
  results.firstHelloMs = median(firstHello);
  results.idleRssBytes = median(rss);
  results.idleRssAll = rss;
  results.firstHelloAll = firstHello;
  return results;
}

export async function decoderBench() {
  // Imported from the TypeScript sources through the bundle-free path: esbuild a tiny entry.
  const { build } = await import('esbuild');
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'bitmesh-bench-')), 'wire.cjs');
  await build({
    stdin: {
      contents: `export { WireCodec } from './src/core/wire/codec.ts'; export { Decoder } from 'cbor-x';`,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error',
  });
  const { createRequire } = await import('node:module');
  const { WireCodec, Decoder } = createRequire(import.meta.url)(out);
  const codec = new WireCodec();
  const tick = codec.encodeEnvelope('TICK', codec.encodeBody('TICK', { channelId: new Uint8Array(32).fill(1), index: 123456, preimage: new Uint8Array(32).fill(2) }));
  const plain = new Decoder({ useRecords: false });
  const N = 200_000;
  const time = (fn) => {
    for (let i = 0; i < 20_000; i++) fn(); // warm up
    const t = performance.now();
    for (let i = 0; i < N; i++) fn();
    return (performance.now() - t) / N;
  };
  // Interleave the two three times so neither gets the quieter moment.
  const strict = [], loose = [];
  for (let r = 0; r < 3; r++) {
    strict.push(time(() => codec.decode(tick)));
    loose.push(time(() => plain.decode(tick)));
  }
  return { strictUsPerTick: median(strict) * 1000, plainCborUsPerTick: median(loose) * 1000 };
}

// `node scripts/bench/foundation.mjs`: the three footprint figures alone.
if (import.meta.url === `file://${process.argv[1]}`) {
  const f = await foundationBench();
  console.log(`bundle dist/bitmesh.js                 ${(f.bundleBytes / 1024).toFixed(1)} KiB (${f.bundleBytes} bytes)`);
  console.log(`  (not shipped) dist/bitmesh-dev.js     ${(f.devBundleBytes / 1024).toFixed(1)} KiB (${f.devBundleBytes} bytes)`);
  console.log(`agent idle RSS (median of 5, after 5 s) ${(f.idleRssBytes / 2 ** 20).toFixed(1)} MiB (${(f.idleRssBytes / 1e6).toFixed(1)} MB; all 5: ${f.idleRssAll.map((b) => (b / 2 ** 20).toFixed(1)).join(' ')} MiB)`);
  console.log(`process start → first HELLO (median)    ${f.firstHelloMs.toFixed(0)} ms (all 5: ${f.firstHelloAll.map((t) => t.toFixed(0)).join(' ')} ms)`);
  console.log(`node flags (from the init script)       ${f.nodeFlags.join(' ')}`);
}
