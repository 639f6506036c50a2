// Remote management against a real mosquitto with a password file and an ACL:
// retained status and last will, signed commands through `bitmesh mgmt send`, every
// kind of bad command refused without effect, and the metrics endpoint.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex } from '@noble/hashes/utils.js';
import { mgmtCommand } from '../../src/cli/commands/mgmt.js';
import { randomBytes } from 'node:crypto';
import { MAX_COMMAND_BYTES, commandBody, signCommand } from '../../src/mgmt/command.js';
import { parseMetrics } from '../../src/mgmt/metrics.js';
import { Mosquitto, OPERATOR_USER, mosquittoUnavailable } from './mosquitto.js';
import { Observer, Relay, crypto, keyPair, runCli, nodePassword, signed, startNode, waitFor, type RunningNode } from './harness.js';

const why = await mosquittoUnavailable();
if (why) console.warn(`hw-test/mqtt/mgmt: SKIPPED (${why}); CI installs the Debian packages mosquitto and mosquitto-clients`);

const OP_PW = 'operator-pw';
const operator = keyPair(1000);
const stranger = keyPair(1001);
const A = keyPair(1);
const B = keyPair(2);
const C = keyPair(3);

describe.runIf(!why)('mgmt over a real mosquitto', () => {
  let broker: Mosquitto;
  let dir: string;
  let a: RunningNode;
  let observer: Observer;
  const topic = (id: string, kind: string) => `bitmesh/${id}/${kind}`;

  beforeAll(async () => {
    const users = new Map([[OPERATOR_USER, OP_PW], ...[A, B, C].map((k) => [k.bech32, nodePassword(k.bech32)] as [string, string])]);
    broker = await Mosquitto.start(users);
    dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-mgmt-'));
    await writeFile(path.join(dir, 'bitmesh'), "config market 'market'\n\toption price_msat_per_kib '100'\n");
    observer = await Observer.connect(broker.url, OPERATOR_USER, OP_PW, ['bitmesh/#']);
    a = await startNode({ seed: 1, url: broker.url, operators: [operator.pub], configFile: path.join(dir, 'bitmesh'), metricsPort: 0 });
    await waitFor(() => observer.on(topic(A.bech32, 'status')).length > 0, 5000, 'status of A');
  });

  afterAll(async () => {
    await a?.stop();
    await observer?.close();
    await broker?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('publishes a retained online status that a later client sees, and metrics', async () => {
    const late = await Observer.connect(broker.url, OPERATOR_USER, OP_PW, [topic(A.bech32, 'status')]);
    try {
      const s = await waitFor(() => late.on(topic(A.bech32, 'status'))[0], 3000, 'retained status');
      expect(s.retain).toBe(true);
      expect(JSON.parse(s.text)).toMatchObject({ state: 'online', node: A.bech32, priceMsatPerKiB: 100, selling: true });
    } finally {
      await late.close();
    }
    const m = await waitFor(() => observer.on(topic(A.bech32, 'metrics')).at(-1), 3000, 'metrics');
    expect(parseMetrics(m.text)).toMatchObject({ node: A.bech32, priceMsatPerKiB: 100, cryptoBackend: 'noble' });
  });

  it('the broker publishes the last will offline when a node vanishes; a later client sees it retained', async () => {
    const relay = await Relay.start(broker.port);
    const b = await startNode({ seed: 2, url: relay.url, operators: [operator.pub] });
    try {
      await waitFor(() => observer.on(topic(B.bech32, 'status')).some((m) => m.text.includes('"online"')), 5000, 'B online');
      relay.cut(); // no DISCONNECT reaches the broker: it must send the will
      const will = await waitFor(() => observer.on(topic(B.bech32, 'status')).find((m) => m.text === 'offline'), 5000, 'last will');
      expect(will.text).toBe('offline');
      const late = await Observer.connect(broker.url, OPERATOR_USER, OP_PW, [topic(B.bech32, 'status')]);
      const retained = await waitFor(() => late.on(topic(B.bech32, 'status'))[0], 3000, 'retained will');
      await late.close();
      expect(retained).toMatchObject({ text: 'offline', retain: true });
    } finally {
      await b.stop();
    }
  });

  it('a clean stop leaves status offline (retained)', async () => {
    const c = await startNode({ seed: 3, url: broker.url, operators: [operator.pub] });
    await waitFor(() => observer.on(topic(C.bech32, 'status')).some((m) => m.text.includes('"online"')), 5000, 'C online');
    await c.stop();
    await waitFor(() => observer.on(topic(C.bech32, 'status')).at(-1)?.text === 'offline', 3000, 'C offline');
  });

  it('the ACL keeps a node off other nodes’ topics', async () => {
    const { connectAsync } = await import('mqtt');
    const rogue = await connectAsync(broker.url, { username: B.bech32, password: nodePassword(B.bech32), reconnectPeriod: 0 });
    await rogue.publishAsync(topic(A.bech32, 'status'), 'offline', { qos: 1, retain: true });
    await rogue.publishAsync(topic(A.bech32, 'cmd'), 'x', { qos: 1 });
    await rogue.endAsync();
    await new Promise((r) => setTimeout(r, 300));
    expect(observer.on(topic(A.bech32, 'status')).some((m) => m.text === 'offline')).toBe(false);
    expect(a.manager.stats().commandsRejected['malformed']).toBeUndefined();
  });

  it('bitmesh mgmt send set-price changes the price, answers on cmd/result and republishes status', async () => {
    const keyFile = path.join(dir, 'operator.key');
    await writeFile(keyFile, bytesToHex(operator.sk) + '\n', { mode: 0o600 });
    const out: string[] = [];
    const err: string[] = [];
    const common = ['--to', A.bech32, '--key', keyFile, '--broker', broker.url, '--username', OPERATOR_USER, '--password', OP_PW, '--config', path.join(dir, 'none')];
    const rc = await runCli(mgmtCommand, ['send', ...common, '--json', 'set-price', '250'], { out: (t) => out.push(t), err: (t) => err.push(t) });
    expect(err.join('\n')).toBe('');
    expect(rc).toBe(0);
    expect(JSON.parse(out.join('\n'))).toMatchObject({ ok: true, cmd: 'set_price', node: A.bech32, result: { priceMsatPerKiB: 250 } });
    expect(a.node.price).toBe(250);
    await waitFor(() => observer.on(topic(A.bech32, 'status')).at(-1)?.text.includes('"priceMsatPerKiB":250'), 3000, 'status with the new price');
    await waitFor(() => parseMetrics(observer.on(topic(A.bech32, 'metrics')).at(-1)?.text ?? '')?.priceMsatPerKiB === 250, 3000, 'metrics with the new price');
    // The event stream saw it too.
    await waitFor(() => observer.on(topic(A.bech32, 'events')).some((m) => m.text.includes('price_changed')), 3000, 'price event');

    // pause, resume, set-config (written to the UCI file), close-channel, reauction, restart
    const send = async (...words: string[]) => {
      const o: string[] = [];
      const code = await runCli(mgmtCommand, ['send', ...common, ...words], { out: (t) => o.push(t), err: (t) => o.push(t) });
      return { code, text: o.join('\n') };
    };
    expect(await send('pause')).toMatchObject({ code: 0 });
    expect(a.node.sell(1024)).toBe(false);
    expect(await send('resume')).toMatchObject({ code: 0 });
    expect(a.node.selling).toBe(true);
    expect(await send('set-config', 'market', 'price_msat_per_kib', '180')).toMatchObject({ code: 0 });
    expect(a.node.price).toBe(180);
    expect(await readFile(path.join(dir, 'bitmesh'), 'utf8')).toContain("option price_msat_per_kib '180'");
    expect((await send('set-config', 'mesh', 'port', '1')).text).toContain('refused: refused');
    expect((await send('set-config', 'market', 'price_msat_per_kib', 'lots')).text).toContain('refused: bad_args');
    expect(await readFile(path.join(dir, 'bitmesh'), 'utf8')).toContain("option price_msat_per_kib '180'");
    expect(await send('close-channel', 'chan-1')).toMatchObject({ code: 0 });
    expect(a.node.channels.has('chan-1')).toBe(false);
    expect((await send('close-channel', 'nope')).code).toBe(1);
    expect(await send('reauction')).toMatchObject({ code: 0 });
    expect(a.node.reauctions).toBe(1);
    expect(await send('restart')).toMatchObject({ code: 0 });
    await waitFor(() => a.node.restarts === 1, 2000, 'restart');
    const st = await send('status');
    expect(st.code).toBe(0);
    expect(st.text).toContain('"priceMsatPerKiB":180');
  });

  it('refuses each kind of bad command, reports it on cmd/result and in the log, and changes nothing', async () => {
    const raw = await (await import('mqtt')).connectAsync(broker.url, { username: OPERATOR_USER, password: OP_PW, reconnectPeriod: 0 });
    const snapshot = async () => ({
      price: a.node.price,
      selling: a.node.selling,
      restarts: a.node.restarts,
      channels: [...a.node.channels],
      config: await readFile(path.join(dir, 'bitmesh'), 'utf8'),
    });
    const results = () => observer.on(topic(A.bech32, 'cmd/result')).map((m) => JSON.parse(m.text) as { ok: boolean; code?: string });
    const start = results().length;
    // Accepted once (and undone below), so that its second copy is a replay.
    const replayed = signed({ name: 'pause_selling' }, { to: A.pub, signerSk: operator.sk });
    await raw.publishAsync(topic(A.bech32, 'cmd'), Buffer.from(replayed), { qos: 1 });
    await waitFor(() => a.node.selling === false, 3000, 'first pause accepted');
    a.node.resumeSelling();
    const before = await snapshot();
    const now = Date.now();
    const body = (cmd: string, args: Record<string, string | number>) => ({
      ...commandBody({ name: 'status' }, { to: A.pub, op: operator.pub, ts: now, exp: now + 60_000, nonce: new Uint8Array(randomBytes(16)) }),
      cmd,
      args,
    });
    const bad: [string, Uint8Array | string][] = [
      ['unsigned', JSON.stringify({ body: body('set_price', { msat_per_kib: 1 }) })],
      ['bad_signature', signed({ name: 'set_price', msatPerKiB: 1 }, { to: A.pub, signerSk: stranger.sk, op: operator.pub })],
      ['unknown_operator', signed({ name: 'set_price', msatPerKiB: 1 }, { to: A.pub, signerSk: stranger.sk })],
      ['wrong_target', signed({ name: 'set_price', msatPerKiB: 1 }, { to: B.pub, signerSk: operator.sk })],
      ['expired', signed({ name: 'set_price', msatPerKiB: 1 }, { to: A.pub, signerSk: operator.sk, ts: now - 120_000, exp: now - 60_000 })],
      ['replay', replayed],
      ['oversize', 'x'.repeat(MAX_COMMAND_BYTES + 1)],
      ['malformed', '{"body": 1}'],
      ['unknown_command', signCommand(crypto, body('rm_rf', {}), operator.sk, new Uint8Array(32))],
      ['bad_args', signCommand(crypto, body('set_price', { msat_per_kib: 'free' }), operator.sk, new Uint8Array(32))],
      ['bad_args', signed({ name: 'set_price', msatPerKiB: 1e13 }, { to: A.pub, signerSk: operator.sk })],
    ];
    for (const [, payload] of bad) await raw.publishAsync(topic(A.bech32, 'cmd'), typeof payload === 'string' ? payload : Buffer.from(payload), { qos: 1 });
    await waitFor(() => results().length >= start + 1 + bad.length, 5000, 'all results');
    await raw.endAsync();
    expect(results().slice(start).map((r) => (r.ok ? 'ok' : r.code))).toEqual(['ok', ...bad.map(([code]) => code)]);
    expect(await snapshot()).toEqual(before);
    for (const [code] of bad) expect(a.logs.some((l) => l.includes('command rejected') && l.includes(`code=${code}`))).toBe(true);
  });

  it('serves the same figures on the Prometheus endpoint as on MQTT', async () => {
    const n = await startNode({ seed: 4, url: '', operators: [], metricsPort: 0 });
    await n.stop();
    // Port 0 means off; use a real free port.
    const { freeTcpPort } = await import('./mosquitto.js');
    const port = await freeTcpPort();
    const d = await startNode({ seed: 1, url: '', operators: [], metricsPort: port });
    try {
      d.node.sell(4096);
      const text = await new Promise<string>((resolve, reject) => {
        request({ host: '127.0.0.1', port, path: '/metrics' }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve(body));
        })
          .on('error', reject)
          .end();
      });
      const m = d.node.metrics();
      expect(text).toContain(`bitmesh_sold_bytes_total ${m.bytesSold}`);
      expect(text).toContain(`bitmesh_earned_msat_total ${m.earnedMsat}`);
      expect(text).toContain(`bitmesh_price_msat_per_kib ${m.priceMsatPerKiB}`);
    } finally {
      await d.stop();
    }
  });

  it('never throws into the node when the broker is unreachable', async () => {
    const { freeTcpPort } = await import('./mosquitto.js');
    const n = await startNode({ seed: 5, url: `mqtt://127.0.0.1:${await freeTcpPort()}`, operators: [] });
    try {
      await new Promise((r) => setTimeout(r, 1500));
      expect(n.node.sell(1024)).toBe(true);
      expect(n.manager.stats().connects).toBe(0);
      expect(n.manager.stats().queued).toBeGreaterThan(0);
      expect(n.logs.some((l) => l.includes('broker down'))).toBe(true);
    } finally {
      await n.stop();
    }
  });

  it('mgmt keygen writes a 0600 key and prints its public key', async () => {
    const out: string[] = [];
    const file = path.join(dir, 'new.key');
    expect(await runCli(mgmtCommand, ['keygen', '--out', file, '--json'], { out: (t) => out.push(t), err: () => {} })).toBe(0);
    const j = JSON.parse(out[0]!) as { pubkey: string; hex: string };
    expect(j.pubkey).toMatch(/^bm1/);
    const { stat } = await import('node:fs/promises');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(await runCli(mgmtCommand, ['keygen', '--out', file], { out: () => {}, err: () => {} })).toBe(2);
    expect(mgmtCommand.name).toBe('mgmt');
  });
});
