// `make demo`: BitMesh on a laptop, no root, no router, no Bitcoin node.
// Starts gateway and client agents as separate processes on loopback, shows the
// mesh forming live (who hears whom, datagrams, rejects), stops them cleanly and
// prints a summary. Ends by itself and exits 0 when everything worked.
//   node scripts/demo.mjs [--json] [--seconds N]
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ask } from './testing/control-socket.mjs';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { json: { type: 'boolean' }, seconds: { type: 'string', default: '8' } } });
const seconds = Number(values.seconds);
if (!Number.isFinite(seconds) || seconds < 2 || seconds > 50) {
  console.error('demo: --seconds must be between 2 and 50');
  process.exit(2);
}
const BUNDLE = path.resolve('dist/bitmesh.js');
const NODES = [
  { name: 'gw-1', role: 'gateway' },
  { name: 'gw-2', role: 'gateway' },
  { name: 'gw-3', role: 'gateway' },
  { name: 'client-1', role: 'client' },
  { name: 'client-2', role: 'client' },
  { name: 'client-3', role: 'client' },
];

async function freePorts(n) {
  const socks = await Promise.all(
    Array.from({ length: n }, () => new Promise((r) => { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => r(s)); })),
  );
  const ports = socks.map((s) => s.address().port);
  for (const s of socks) s.close();
  return ports;
}


const root = await mkdtemp(path.join(tmpdir(), 'bitmesh-demo-'));
const ports = await freePorts(NODES.length);
const agents = [];
for (const [i, n] of NODES.entries()) {
  const dir = path.join(root, n.name);
  const conf = path.join(root, `${n.name}.conf`);
  await writeFile(conf, `config agent 'main'\n\toption role '${n.role}'\n\toption state_dir '${dir}'\n\nconfig mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${ports[i]}'\n\toption hello_interval_ms '500'\n\toption neighbour_expiry_ms '2000'\n${ports.map((p) => `\tlist peer '127.0.0.1:${p}'`).join('\n')}\n\nconfig chain 'chain'\n\toption backend 'none'\n`);
  const child = spawn(process.execPath, [BUNDLE, 'agent', '--config', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
  let log = '';
  child.stderr.on('data', (d) => (log += d));
  agents.push({ ...n, port: ports[i], sock: path.join(dir, 'bitmesh.sock'), child, log: () => log, exit: new Promise((r) => child.on('exit', r)) });
}

const t0 = Date.now();
const snapshot = async () =>
  Promise.all(agents.map(async (a) => {
    try {
      const [s, p] = await Promise.all([ask(a.sock, 'status'), ask(a.sock, 'peers')]);
      return { a, s, p };
    } catch {
      return { a, s: undefined, p: [] };
    }
  }));
const names = new Map();
let fullMeshAfterMs;
let last = [];
while (Date.now() - t0 < seconds * 1000) {
  await new Promise((r) => setTimeout(r, 500));
  last = await snapshot();
  for (const { a, s } of last) if (s) names.set(s.node.id, a.name);
  if (fullMeshAfterMs === undefined && last.every(({ p }) => p.length === NODES.length - 1)) fullMeshAfterMs = Date.now() - t0;
  if (!values.json) {
    const rows = last.map(({ a, s, p }) => [
      a.name, a.role, s ? s.node.id.slice(0, 14) + '…' : '(starting)', String(p.length),
      p.map((x) => names.get(x.id) ?? x.id.slice(0, 10)).sort().join(' '),
      s ? `${s.controlPlane.rxDatagrams}/${s.controlPlane.txDatagrams}` : '-',
    ]);
    const head = ['NODE', 'ROLE', 'ID', 'PEERS', 'HEARS', 'RX/TX'];
    const w = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    const fmt = (r) => r.map((c, i) => c.padEnd(w[i])).join('  ');
    process.stdout.write(`\x1b[2J\x1b[H` + `BitMesh demo — ${((Date.now() - t0) / 1000).toFixed(1)} s of ${seconds} s\n\n` + [fmt(head), ...rows.map(fmt)].join('\n') + '\n');
  }
}

for (const a of agents) a.child.kill('SIGTERM');
const codes = await Promise.all(agents.map((a) => a.exit));
const summary = {
  nodes: last.map(({ a, s, p }) => ({ name: a.name, role: a.role, id: s?.node.id ?? null, peers: p.length, rxDatagrams: s?.controlPlane.rxDatagrams ?? 0, rejected: s?.controlPlane.rejected ?? {} })),
  fullMeshAfterMs: fullMeshAfterMs ?? null,
  cleanExits: codes.every((c) => c === 0),
};
await rm(root, { recursive: true, force: true });
if (values.json) console.log(JSON.stringify(summary, null, 2));
else {
  console.log(`\nfull mesh after ${summary.fullMeshAfterMs ?? 'never'} ms; all agents stopped cleanly: ${summary.cleanExits}`);
  console.log('Next: market, payment channels and paid traffic join this demo as they land (see docs/architecture.md).');
}
const ok = summary.fullMeshAfterMs !== null && summary.cleanExits;
if (!ok) for (const a of agents) console.error(`--- ${a.name}\n${a.log()}`);
process.exit(ok ? 0 : 1);
