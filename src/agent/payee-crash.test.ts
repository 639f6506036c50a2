// Two agent processes with an open channel and traffic through the proxy relay: the
// payee (gateway) is killed with SIGKILL at 50 random moments and restarted each
// time. Afterwards no paid state is lost (the payee holds the payer's latest
// commitment and can close with it), the payer never paid for more than it received
// plus one tick, and state writes stayed within the configured rate.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { hexToBytes } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { BUNDLE, freePorts } from '../../scripts/testing/agent-process.js';
import { socksDownload } from '../../scripts/testing/socks-download.js';
import { startDevchain } from '../chain/devchain/server.js';
import { requestFaucet } from '../chain/devchain/control-client.js';
import { verifyWithBitcore } from '../chain/testing/bitcore-verify.js';
import { controlRequest } from './control-client.js';
import type { StatusReport } from './agent.js';
import type { ChannelReport, CloseResult } from './channel-manager.js';

const KILLS = 50;
const PERSIST_INTERVAL_MS = 500;
const PRICE = 100; // msat per KiB
const TICK_MSAT = 16 * PRICE;

describe('payee killed with SIGKILL under load', () => {
  const cleanups: (() => unknown)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it(`keeps every paid state across ${KILLS} crashes and writes at a bounded rate`, async () => {
    const chain = await startDevchain({ port: 0 });
    cleanups.push(() => chain.close());
    // An endless HTTP body: the "internet" behind the gateway.
    const chunk = Buffer.alloc(64 * 1024, 7);
    const web = http.createServer((_q, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const pump = () => {
        while (res.write(chunk)) if (res.destroyed) return;
        res.once('drain', pump);
      };
      res.on('close', () => res.removeAllListeners('drain'));
      pump();
    });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    cleanups.push(() => web.close());
    const webPort = (web.address() as { port: number }).port;

    const [gwPort, clPort, socksPort] = (await freePorts(3)) as [number, number, number];
    const conf = async (role: 'gateway' | 'client', port: number) => {
      const dir = await mkdtemp(path.join(tmpdir(), `bitmesh-crash-${role}-`));
      const file = path.join(dir, 'bitmesh.conf');
      await writeFile(
        file,
        `config agent 'main'\n\toption role '${role}'\n\toption state_dir '${dir}'\n` +
          `config mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${port}'\n\toption hello_interval_ms '200'\n` +
          `\tlist peer '127.0.0.1:${gwPort}'\n\tlist peer '127.0.0.1:${clPort}'\n` +
          `config market 'market'\n\toption price_msat_per_kib '${PRICE}'\n` +
          `config channel 'channel'\n\toption persist_interval_ms '${PERSIST_INTERVAL_MS}'\n` +
          `config chain 'chain'\n\toption esplora_url '${chain.url}'\n` +
          `config dataplane 'dataplane'\n\toption socks_port '${socksPort}'\n\toption allow_private_destinations '1'\n`,
      );
      return { dir, file, sock: path.join(dir, 'bitmesh.sock') };
    };
    const gw = await conf('gateway', gwPort);
    const cl = await conf('client', clPort);
    const run = (c: { file: string }): ChildProcess => {
      const child = spawn(process.execPath, [BUNDLE, 'agent', '--config', c.file], { stdio: 'ignore' });
      cleanups.push(() => child.kill('SIGKILL'));
      return child;
    };
    const ask = <T>(c: { sock: string }, cmd: string, args: Record<string, unknown> = {}) => controlRequest(c.sock, cmd, args, 5000) as Promise<T>;
    const waitFor = async (cond: () => Promise<boolean>, ms: number, what: string) => {
      const t0 = Date.now();
      for (;;) {
        if (await cond().catch(() => false)) return;
        if (Date.now() - t0 > ms) throw new Error(`timed out: ${what}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    };

    let gwChild = run(gw);
    run(cl);
    await waitFor(async () => (await ask<unknown[]>(gw, 'peers')).length === 1 && (await ask<StatusReport>(cl, 'status')).chain?.tip !== null, 10_000, 'agents up');
    const { address } = await ask<{ address: string }>(cl, 'wallet.address');
    await requestFaucet(chain.url, address, 2_000_000n, { mine: 1 });
    const gwId = (await ask<StatusReport>(gw, 'status')).node.id;
    const { channelId } = await ask<{ channelId: string }>(cl, 'channel.open', { peer: gwId, capacitySat: 90_000, priceMsatPerKiB: PRICE });
    const payee = async () => (await ask<ChannelReport[]>(gw, 'channels')).find((c) => c.id === channelId);
    const payer = async () => (await ask<ChannelReport[]>(cl, 'channels')).find((c) => c.id === channelId);
    await waitFor(async () => (await payee())?.state === 'Open' && (await payer())?.state === 'Open', 10_000, 'channel open');

    let writes = 0;
    let lifetimeMs = 0;
    let startedAt = Date.now();
    let rnd = 0x9e3779b9;
    const random = () => ((rnd = (Math.imul(rnd ^ (rnd >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0), rnd / 2 ** 32);
    const download = () => {
      const ac = new AbortController();
      const p = socksDownload(socksPort, { host: '127.0.0.1', port: webPort, path: '/' }, { signal: ac.signal, timeoutMs: 60_000 });
      return { ac, p };
    };
    for (let k = 0; k < KILLS; k++) {
      const d = download();
      await new Promise((r) => setTimeout(r, 50 + random() * 600)); // a random moment mid-download
      writes += (await ask<StatusReport>(gw, 'status').catch(() => undefined))?.channels?.stateWrites ?? 0;
      gwChild.kill('SIGKILL');
      await new Promise((r) => gwChild.once('exit', r));
      lifetimeMs += Date.now() - startedAt;
      d.ac.abort();
      await d.p;
      gwChild = run(gw);
      startedAt = Date.now();
      await waitFor(async () => (await payee())?.state === 'Open', 10_000, `payee restored after kill ${k + 1}`);
    }
    // Let payments settle: one last download with the payee up, then quiet.
    const last = await socksDownload(socksPort, { host: '127.0.0.1', port: webPort, path: '/' }, { maxBytes: 1 << 20, timeoutMs: 20_000 });
    expect(last.ok).toBe(true);
    // Bytes still in the relay's buffers after that download are paid a moment later, so
    // the two sides must agree on two reads 300 ms apart, and those are the values checked.
    let settled: [ChannelReport, ChannelReport] | undefined;
    let prev = '';
    await waitFor(async () => {
      const [a, b] = [await payee(), await payer()];
      const key = `${a?.paidMsat}/${b?.paidMsat}`;
      const same = key === prev && a !== undefined && b !== undefined && a.paidMsat === b.paidMsat;
      prev = key;
      if (same) settled = [a, b];
      else await new Promise((r) => setTimeout(r, 250));
      return same;
    }, 15_000, 'states converge and stay');

    const [pe, pr] = settled!;
    const received = pr.bytes;
    // The payee holds the payer's latest commitment: nothing paid was lost to 50 crashes.
    expect(BigInt(pe.paidMsat)).toBe(BigInt(pr.paidMsat));
    // The payer never paid for more than it received plus one tick.
    expect(BigInt(pr.paidMsat)).toBeLessThanOrEqual(BigInt(Math.ceil((received / 1024) * PRICE)) + BigInt(TICK_MSAT));
    expect(received).toBeGreaterThan(1 << 20);
    // Writes: one key per channel, at most one write per persist interval, plus the
    // first write of each life.
    writes += (await ask<StatusReport>(gw, 'status')).channels!.stateWrites;
    lifetimeMs += Date.now() - startedAt;
    const allowed = Math.ceil(lifetimeMs / PERSIST_INTERVAL_MS) + KILLS + 1;
    console.log(`payee crash test: ${KILLS} kills, paid ${pe.paidMsat} msat for ${received} bytes, ${writes} state writes in ${lifetimeMs} ms of payee lifetime (allowed ${allowed})`);
    expect(writes).toBeLessThanOrEqual(allowed);

    // And it can still close with the best state it acknowledged, consensus-valid.
    const close = await ask<CloseResult>(gw, 'channel.close', { id: channelId });
    const verdict = verifyWithBitcore(close.hex, close.spends.map((s) => ({ script: hexToBytes(s.scriptHex), amount: BigInt(s.amountSat) })));
    expect(verdict.errors).toEqual([]);
  }, 240_000);
});
