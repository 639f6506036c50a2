// A three-namespace upstream testbed (root only): `<p>cl` (a mesh client, mesh0),
// `<p>gw` (a gateway: mesh0 towards the client, up0 towards the internet, forwarding
// on) and `<p>in` (the internet: up0, an HTTP byte server, iperf3 if asked). IPv4 and
// IPv6 on both links, static routes, no NAT, so the gateway sees client addresses.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { deleteNamespaces, inNs, ip, netnsUnavailable, sh } from './netns.js';
import { isRunningChild, killChild } from '../../src/os/kill-child.js';

export interface Testbed {
  readonly client: string;
  readonly gateway: string;
  readonly internet: string;
  /** Client addresses on mesh0: [0] and [1] are two "clients" in one namespace. */
  readonly clientV4: readonly [string, string];
  readonly clientV6: readonly [string, string];
  readonly gatewayMeshV4: string;
  readonly gatewayMeshV6: string;
  readonly internetV4: string;
  readonly internetV6: string;
  /** `ip netns exec <gw> nft`: the nft command of the gateway. */
  readonly gatewayNft: readonly string[];
}

export async function buildUpstreamTestbed(prefix: string): Promise<Testbed> {
  await deleteNamespaces(prefix);
  const [cl, gw, inet] = [`${prefix}cl`, `${prefix}gw`, `${prefix}in`];
  for (const ns of [cl, gw, inet]) {
    await ip('netns', 'add', ns);
    await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    await inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
  }
  await ip('link', 'add', 'mesh0', 'netns', cl, 'type', 'veth', 'peer', 'name', 'mesh0', 'netns', gw);
  await ip('link', 'add', 'up0', 'netns', gw, 'type', 'veth', 'peer', 'name', 'up0', 'netns', inet);
  const addrs: [string, string, string][] = [
    [cl, 'mesh0', '10.77.1.2/24'],
    [cl, 'mesh0', '10.77.1.3/24'],
    [cl, 'mesh0', 'fd77:1::2/64'],
    [cl, 'mesh0', 'fd77:1::3/64'],
    [gw, 'mesh0', '10.77.1.1/24'],
    [gw, 'mesh0', 'fd77:1::1/64'],
    [gw, 'up0', '10.77.2.1/24'],
    [gw, 'up0', 'fd77:2::1/64'],
    [inet, 'up0', '10.77.2.2/24'],
    [inet, 'up0', 'fd77:2::2/64'],
  ];
  for (const [ns, dev, a] of addrs) await inNs(ns, 'ip', 'addr', 'add', a, 'dev', dev, ...(a.includes(':') ? ['nodad'] : []));
  for (const [ns, dev] of [[cl, 'mesh0'], [gw, 'mesh0'], [gw, 'up0'], [inet, 'up0']] as const) await inNs(ns, 'ip', 'link', 'set', dev, 'up');
  await inNs(gw, 'sysctl', '-qw', 'net.ipv4.ip_forward=1', 'net.ipv6.conf.all.forwarding=1');
  await inNs(cl, 'ip', 'route', 'add', 'default', 'via', '10.77.1.1');
  await inNs(cl, 'ip', '-6', 'route', 'add', 'default', 'via', 'fd77:1::1');
  await inNs(inet, 'ip', 'route', 'add', '10.77.1.0/24', 'via', '10.77.2.1');
  await inNs(inet, 'ip', '-6', 'route', 'add', 'fd77:1::/64', 'via', 'fd77:2::1');
  return {
    client: cl,
    gateway: gw,
    internet: inet,
    clientV4: ['10.77.1.2', '10.77.1.3'],
    clientV6: ['fd77:1::2', 'fd77:1::3'],
    gatewayMeshV4: '10.77.1.1',
    gatewayMeshV6: 'fd77:1::1',
    internetV4: '10.77.2.2',
    internetV6: 'fd77:2::2',
    gatewayNft: ['ip', 'netns', 'exec', gw, 'nft'],
  };
}

/** A process started in a namespace; `stop()` kills it by its pid. */
export interface NsProcess {
  readonly child: ChildProcess;
  stop(): Promise<void>;
}

export function spawnInNs(ns: string, cmd: string, args: readonly string[]): NsProcess {
  const child = spawn('ip', ['netns', 'exec', ns, cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  return {
    child,
    stop: () =>
      new Promise((r) => {
        if (!isRunningChild(child)) return r();
        child.once('exit', () => r());
        killChild(child, 'SIGKILL');
      }),
  };
}

// GET /?n=N answers N bytes; used by the download tests.
const SERVER = `
const http = require('node:http');
const buf = Buffer.alloc(1 << 16, 120);
http.createServer((req, res) => {
  const n = Number(new URL(req.url, 'http://x').searchParams.get('n') || 0);
  res.writeHead(200, { 'content-length': n });
  let left = n;
  const more = () => { while (left > 0) { const k = Math.min(left, buf.length); left -= k; if (!res.write(buf.subarray(0, k))) return res.once('drain', more); } res.end(); };
  more();
}).listen(Number(process.argv[1]), '::', () => console.log('ready'));
`;

export async function startByteServer(ns: string, port: number): Promise<NsProcess> {
  const p = spawnInNs(ns, process.execPath, ['-e', SERVER, String(port)]);
  await new Promise<void>((resolve, reject) => {
    p.child.stdout?.once('data', () => resolve());
    p.child.once('exit', (c) => reject(new Error(`byte server exited ${c}`)));
  });
  return p;
}

// Prints {"bytes":…, "complete":…} after the body ends or `ms` pass.
const GET = `
const http = require('node:http');
const [url, local, ms] = process.argv.slice(1);
let bytes = 0, done = false;
const finish = (complete, error) => { if (done) return; done = true; console.log(JSON.stringify({ bytes, complete, error })); process.exit(0); };
const req = http.get(url, { localAddress: local || undefined }, (res) => {
  res.on('data', (d) => (bytes += d.length));
  res.on('end', () => finish(true));
});
req.on('error', (e) => finish(false, e.code || e.message));
setTimeout(() => finish(false, 'timeout'), Number(ms));
`;

export interface GetResult {
  readonly bytes: number;
  readonly complete: boolean;
  readonly error?: string;
}

/** HTTP GET from `ns`, bound to `localAddress`, giving up after `ms`. */
export async function httpGet(ns: string, url: string, localAddress: string, ms: number): Promise<GetResult> {
  const out = await inNs(ns, process.execPath, '-e', GET, url, localAddress, String(ms));
  return JSON.parse(out) as GetResult;
}

/** An interface's byte and packet counters inside a namespace. */
export async function linkStats(ns: string, dev: string): Promise<{ rxBytes: number; rxPackets: number; txBytes: number; txPackets: number }> {
  const read = async (f: string) => Number((await inNs(ns, 'cat', `/sys/class/net/${dev}/statistics/${f}`)).trim());
  return { rxBytes: await read('rx_bytes'), rxPackets: await read('rx_packets'), txBytes: await read('tx_bytes'), txPackets: await read('tx_packets') };
}

/** Why nft tests cannot run here, or undefined when they can. */
export async function nftUnavailable(): Promise<string | undefined> {
  const why = await netnsUnavailable();
  if (why) return why;
  try {
    await sh('nft', ['--version']);
  } catch {
    return 'nft not installed';
  }
  return undefined;
}

/**
 * Waits until the machine is quiet: at most `maxRunnable` runnable tasks (the 4th field
 * of /proc/loadavg, this process included) in three samples 100 ms apart, for at most
 * `maxMs`. A timed scenario started while the previous test's agents and their nft
 * children are still winding down measures them, not the agents under test. Returns
 * how long it waited.
 */
export async function waitForQuiet(maxRunnable = 2, maxMs = 10_000): Promise<number> {
  const t0 = Date.now();
  let calm = 0;
  while (calm < 3 && Date.now() - t0 < maxMs) {
    const runnable = Number(/^\S+ \S+ \S+ (\d+)\//.exec(await readFile('/proc/loadavg', 'utf8'))?.[1] ?? 0);
    calm = runnable <= maxRunnable ? calm + 1 : 0;
    if (calm < 3) await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}
