#!/usr/bin/env node
// Proxy data plane: one TCP stream on loopback, three paths, interleaved in one run:
//   direct   sink → source
//   plain    sink → a plain Node pipe() relay → source
//   metered  sink → the metered SOCKS5 relay (RelayServer, a grant far above the
//            transfer, metering and usage reports on) → source
// The source and the sink run in their own worker threads, the relays in the main
// thread, so each path has the same endpoints. Timed from the sink's "go" byte to the
// last byte received. Goal (issue 5): metered / plain >= 0.85.
//   node scripts/bench/proxy.mjs [--quick] [--rounds N] [--mib N]
// or from run.mjs: `printProxyBench(await proxyBench())`.
import { build } from 'esbuild';
import { once as eventOnce } from 'node:events';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const CHANNEL = 'ab'.repeat(32);
const PASSWORD = 'bench';

async function loadRelay() {
  const out = await build({
    entryPoints: [join(root, 'src/dataplane/proxy/relay-server.ts')],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
  });
  const dir = mkdtempSync(join(tmpdir(), 'bm-bench-proxy-'));
  const file = join(dir, 'relay.mjs');
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

// Source: on each connection, waits for one byte, then writes `bytes` and ends.
const SOURCE = `
const net = require('node:net');
const { parentPort, workerData } = require('node:worker_threads');
const block = Buffer.alloc(1 << 20, 0x5a);
const server = net.createServer((s) => {
  s.on('error', () => s.destroy());
  s.once('data', () => {
    let left = workerData.bytes;
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, block.length);
        left -= n;
        if (!s.write(n === block.length ? block : block.subarray(0, n))) return void s.once('drain', pump);
      }
      s.end();
    };
    pump();
  });
});
server.listen(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));
parentPort.on('message', (m) => { if (m === 'close') server.close(() => process.exit(0)); });
`;

// Sink: per request, connects (optionally through SOCKS5 with username/password),
// sends the go byte, counts bytes to the end, answers elapsed ms.
const SINK = `
const net = require('node:net');
const { parentPort } = require('node:worker_threads');
function socksHandshake(s, target, user, pass) {
  const u = Buffer.from(user), p = Buffer.from(pass);
  s.write(Buffer.concat([
    Buffer.from([5, 1, 2]),
    Buffer.from([1, u.length]), u, Buffer.from([p.length]), p,
    Buffer.from([5, 1, 0, 1, 127, 0, 0, 1, target >> 8, target & 255]),
  ]));
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const onData = (c) => {
      buf = Buffer.concat([buf, c]);
      if (buf.length < 14) return;
      s.off('data', onData);
      s.pause();
      if (buf[1] !== 2 || buf[3] !== 0 || buf[5] !== 0) reject(new Error('socks refused ' + [...buf.subarray(0, 6)]));
      else resolve(buf.subarray(14));
    };
    s.on('data', onData);
  });
}
parentPort.on('message', async (m) => {
  if (m === 'close') process.exit(0);
  const s = net.connect({ host: '127.0.0.1', port: m.port });
  await new Promise((r) => s.once('connect', r));
  let got = 0;
  if (m.socks) got += (await socksHandshake(s, m.target, m.user, m.pass)).length;
  const t0 = performance.now();
  s.on('data', (c) => { got += c.length; });
  s.on('end', () => {
    const ms = performance.now() - t0;
    s.destroy();
    parentPort.postMessage({ ms, got });
  });
  s.resume();
  s.write(Buffer.from([1]));
});
`;

const startWorker = (code, workerData) => new Worker(code, { eval: true, workerData });

const once = async (w) => (await eventOnce(w, 'message'))[0];

/** A relay as small as Node allows: accept, dial, pipe both ways. */
function plainRelay(targetPort) {
  const server = net.createServer((c) => {
    const u = net.connect({ host: '127.0.0.1', port: targetPort });
    c.on('error', () => u.destroy());
    u.on('error', () => c.destroy());
    c.pipe(u);
    u.pipe(c);
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const gbps = (bytes, ms) => (bytes * 8) / (ms * 1e6);

/** Runs the three paths `rounds` times, interleaved; returns Gbit/s figures and ratios. */
export async function proxyBench({ mib = 1024, rounds = 3 } = {}) {
  const bytes = mib * 2 ** 20;
  const { RelayServer } = await loadRelay();
  const source = startWorker(SOURCE, { bytes });
  const sourcePort = await once(source);
  const sink = startWorker(SINK);
  const plain = await plainRelay(sourcePort);
  const plainPort = plain.address().port;
  let reports = 0;
  let reported = 0;
  const relay = new RelayServer({
    host: '127.0.0.1',
    authorize: (id, pw) => id === CHANNEL && Buffer.from(pw).toString() === PASSWORD,
    onUsage: (_id, d) => {
      reports++;
      reported += d;
    },
    allowDestination: () => true,
  });
  await relay.start();
  await relay.grant({ channelId: CHANNEL, addresses: [] }, 2 ** 52);

  // The relays run on this thread: its event-loop busy time is what relaying costs,
  // a figure that holds up better than throughput on a loaded machine.
  const busyMs = { direct: [], plain: [], metered: [] };
  const run = async (msg, name) => {
    const elu0 = performance.eventLoopUtilization();
    sink.postMessage(msg);
    const r = await once(sink);
    const elu = performance.eventLoopUtilization(elu0);
    if (r.got !== bytes) throw new Error(`received ${r.got} of ${bytes} bytes`);
    busyMs[name]?.push(elu.active);
    return gbps(bytes, r.ms);
  };
  const paths = {
    direct: { port: sourcePort },
    plain: { port: plainPort },
    metered: { port: relay.port(), socks: true, target: sourcePort, user: CHANNEL, pass: PASSWORD },
  };
  const samples = { direct: [], plain: [], metered: [] };
  // One warm-up round (JIT, socket buffers) that does not count.
  for (const name of Object.keys(paths)) await run(paths[name], 'warm-up');
  const billedBefore = (await relay.usage(CHANNEL)).totalBytes;
  for (let i = 0; i < rounds; i++) {
    for (const name of Object.keys(paths)) samples[name].push(await run(paths[name], name));
  }
  const billed = (await relay.usage(CHANNEL)).totalBytes - billedBefore;
  await new Promise((r) => setTimeout(r, 50));

  sink.postMessage('close');
  source.postMessage('close');
  await relay.stop();
  await new Promise((r) => plain.close(() => r()));

  const direct = median(samples.direct);
  const plainG = median(samples.plain);
  const metered = median(samples.metered);
  return {
    mib,
    rounds,
    samples,
    direct,
    plain: plainG,
    metered,
    plainOverDirect: plainG / direct,
    meteredOverPlain: metered / plainG,
    meteredOverDirect: metered / direct,
    // Relay thread busy time per GiB carried (median), ms.
    plainBusyMsPerGiB: (median(busyMs.plain) * 1024) / mib,
    meteredBusyMsPerGiB: (median(busyMs.metered) * 1024) / mib,
    billedExact: billed === rounds * (bytes + 1),
    usageReports: reports,
    reportedBytes: reported,
  };
}

export function printProxyBench(r) {
  const f = (x) => x.toFixed(2);
  console.log(`one TCP stream on 127.0.0.1, ${r.mib} MiB per transfer, ${r.rounds} interleaved rounds (median); node ${process.version}`);
  console.log('');
  console.log('| path | Gbit/s (median) | samples |');
  console.log('|---|---:|---|');
  for (const k of ['direct', 'plain', 'metered']) console.log(`| ${k} | ${f(r[k])} | ${r.samples[k].map(f).join(', ')} |`);
  console.log('');
  console.log(`plain / direct    ${f(r.plainOverDirect)}`);
  console.log(`metered / direct  ${f(r.meteredOverDirect)}`);
  console.log(`metered / plain   ${f(r.meteredOverPlain)}   goal >= 0.85: ${r.meteredOverPlain >= 0.85 ? 'met' : 'NOT met'}`);
  console.log(`relay thread busy per GiB: plain ${r.plainBusyMsPerGiB.toFixed(0)} ms, metered ${r.meteredBusyMsPerGiB.toFixed(0)} ms (metered / plain ${f(r.meteredBusyMsPerGiB / r.plainBusyMsPerGiB)})`);
  console.log(`metered relay billed exactly the bytes carried: ${r.billedExact ? 'yes' : 'NO'}; usage reports: ${r.usageReports}`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const arg = (name, dflt) => {
    const at = args.indexOf(name);
    return at >= 0 ? Number(args[at + 1]) : dflt;
  };
  const quick = args.includes('--quick');
  proxyBench({ mib: arg('--mib', quick ? 256 : 1024), rounds: arg('--rounds', 3) })
    .then(printProxyBench)
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
