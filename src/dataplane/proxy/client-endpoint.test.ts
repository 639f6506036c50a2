import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import net from 'node:net';
import { ClientEndpoint } from './client-endpoint.js';
import type { RelayRoute } from './client-endpoint.js';
import { RelayServer } from './relay-server.js';
import { anyDestination } from './destination-policy.js';
import { Reply } from './socks5.js';
import type { Usage } from '../backend.js';
import {
  CHANNEL_A,
  CHANNEL_B,
  close,
  collect,
  endlessServer,
  exchangeHeader,
  exchangeServer,
  listen,
  PASSWORD,
  pattern,
  patternHttpServer,
  sleep,
  socksConnect,
  until,
} from './proxy.test-support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function gateway(channelId: string) {
  const relay = new RelayServer({
    host: '127.0.0.1',
    authorize: (id, pw) => id === channelId && Buffer.from(pw).equals(Buffer.from(PASSWORD)),
    allowDestination: anyDestination,
  });
  await relay.start();
  await relay.grant({ channelId, addresses: [] }, 1e9);
  cleanups.push(() => relay.stop());
  const route: RelayRoute = { host: '127.0.0.1', port: relay.port(), channelId, password: PASSWORD };
  return { relay, route };
}

async function endpoint(currentRoute: () => RelayRoute | undefined) {
  const reports: [string, Usage][] = [];
  const refused: string[] = [];
  const ep = new ClientEndpoint({ currentRoute, onUsage: (id, d) => reports.push([id, d]), onRelayRefused: (id) => refused.push(id) });
  await ep.start();
  cleanups.push(() => ep.stop());
  return { ep, reports, refused };
}

async function httpGet(port: number, targetPort: number, n: number): Promise<Buffer> {
  const r = await socksConnect(port, targetPort);
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r)}`);
  const got = collect(r.sock, r.early);
  r.sock.write(`GET /${n} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
  return got.done;
}

describe('ClientEndpoint', () => {
  it('downloads from a local HTTP server through endpoint → relay, and both ends count the same bytes', async () => {
    const web = patternHttpServer();
    const webPort = await listen(web);
    cleanups.push(() => close(web));
    const { relay, route } = await gateway(CHANNEL_A);
    const { ep, reports } = await endpoint(() => route);

    const n = 2_000_000;
    const res = await httpGet(ep.port(), webPort, n);
    const split = res.indexOf('\r\n\r\n');
    expect(res.subarray(0, split).toString()).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(res.subarray(split + 4).equals(pattern(0, n))).toBe(true);

    await until(async () => (await relay.usage(CHANNEL_A))?.totalBytes === ep.usage(CHANNEL_A)?.totalBytes);
    const u = ep.usage(CHANNEL_A)!;
    expect(u.downBytes).toBe(res.length);
    expect(await relay.usage(CHANNEL_A)).toEqual(u);
    await until(() => reports.reduce((a, [, d]) => a + d.totalBytes, 0) === u.totalBytes);
    expect(reports.every(([id]) => id === CHANNEL_A)).toBe(true);
  });

  // The stall of issue 3: an application aborting a download used to reset the relay
  // connection, stranding bytes the gateway had billed and the payer never saw.
  it.each(['reset', 'close'] as const)('regression: an application that aborts a download (%s) leaves no billed byte uncounted', async (how) => {
    const endless = endlessServer();
    const endlessPort = await listen(endless);
    cleanups.push(() => close(endless));
    const a = await gateway(CHANNEL_A);
    const { ep } = await endpoint(() => a.route);
    for (let i = 0; i < 3; i++) {
      const r = await socksConnect(ep.port(), endlessPort);
      if (!r.ok) throw new Error('refused');
      const got = collect(r.sock, r.early);
      await until(() => got.bytes() > 300_000);
      if (how === 'reset') r.sock.resetAndDestroy();
      else r.sock.destroy();
    }
    await until(() => a.relay.connectionCount === 0 && ep.connectionCount === 0);
    await sleep(30); // let the last usage batches go out
    const billed = (await a.relay.usage(CHANNEL_A))!;
    const counted = ep.usage(CHANNEL_A)!;
    expect(billed.downBytes).toBeGreaterThan(900_000);
    expect(counted.downBytes).toBe(billed.downBytes);
    expect(counted.upBytes).toBe(billed.upBytes);
  });

  it('holds an application’s half-close until the download has ended, so the reply is whole', async () => {
    const target = exchangeServer();
    const targetPort = await listen(target);
    cleanups.push(() => close(target));
    const a = await gateway(CHANNEL_A);
    const { ep } = await endpoint(() => a.route);
    const r = await socksConnect(ep.port(), targetPort);
    if (!r.ok) throw new Error('refused');
    const got = collect(r.sock, r.early);
    r.sock.write(exchangeHeader(1000, 400_000));
    r.sock.end(pattern(0, 1000));
    expect((await got.done).equals(pattern(0, 400_000))).toBe(true);
    await until(() => a.relay.connectionCount === 0);
  });

  it('refuses with 0x03 when there is no route', async () => {
    const { ep } = await endpoint(() => undefined);
    expect(await socksConnect(ep.port(), 9)).toEqual({ ok: false, reply: Reply.networkUnreachable });
  });

  it('passes the relay’s refusals on: bad credentials 0x02, unreachable relay 0x03, refused target 0x05', async () => {
    const { route } = await gateway(CHANNEL_A);
    let current: RelayRoute = { ...route, password: new TextEncoder().encode('nope') };
    const { ep, refused } = await endpoint(() => current);
    expect(await socksConnect(ep.port(), 9)).toEqual({ ok: false, reply: Reply.notAllowed });

    const dead = net.createServer();
    const deadPort = await listen(dead);
    await close(dead);
    current = { ...route, port: deadPort };
    expect(await socksConnect(ep.port(), 9)).toEqual({ ok: false, reply: Reply.networkUnreachable });
    // Nothing listens where the relay should: said at once, for the channel's gateway to be left.
    expect(refused).toEqual([CHANNEL_A]);

    current = route;
    expect(await socksConnect(ep.port(), deadPort)).toEqual({ ok: false, reply: Reply.connectionRefused });
    expect(refused).toEqual([CHANNEL_A]); // a target refusing the relay is not the relay refusing us
  });

  it('sends new connections to the new gateway after a route change; old ones stay until closed', async () => {
    const target = exchangeServer();
    const targetPort = await listen(target);
    cleanups.push(() => close(target));
    const a = await gateway(CHANNEL_A);
    const b = await gateway(CHANNEL_B);
    let current = a.route;
    const { ep } = await endpoint(() => current);

    // A long download through A, held open by a slow reader.
    const first = await socksConnect(ep.port(), targetPort);
    if (!first.ok) throw new Error('first refused');
    const firstGot = collect(first.sock, first.early);
    first.sock.write(exchangeHeader(0, 300_000));

    current = b.route;
    const second = await socksConnect(ep.port(), targetPort);
    if (!second.ok) throw new Error('second refused');
    const secondGot = collect(second.sock, second.early);
    second.sock.end(exchangeHeader(0, 100_000));

    expect((await firstGot.done).equals(pattern(0, 300_000))).toBe(true);
    expect((await secondGot.done).equals(pattern(0, 100_000))).toBe(true);
    await until(async () => (await b.relay.usage(CHANNEL_B))?.totalBytes === 8 + 100_000);
    expect((await a.relay.usage(CHANNEL_A))?.downBytes).toBe(300_000);
    expect(ep.usage(CHANNEL_A)?.downBytes).toBe(300_000);
    expect(ep.usage(CHANNEL_B)?.downBytes).toBe(100_000);

    // closeChannel ends what is still open on the old gateway.
    const third = await socksConnect(ep.port(), targetPort);
    if (!third.ok) throw new Error('third refused');
    current = a.route;
    const fourth = await socksConnect(ep.port(), targetPort);
    if (!fourth.ok) throw new Error('fourth refused');
    const closed = collect(third.sock).done;
    ep.closeChannel(CHANNEL_B);
    await closed;
    expect(fourth.sock.destroyed).toBe(false);
    fourth.sock.destroy();
  });

  it('survives random bytes from local applications and keeps serving', async () => {
    const web = patternHttpServer();
    const webPort = await listen(web);
    cleanups.push(() => close(web));
    const { route } = await gateway(CHANNEL_A);
    const { ep } = await endpoint(() => route);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 4 }), async (chunks) => {
        const s = net.connect(ep.port(), '127.0.0.1');
        s.on('error', () => undefined);
        s.resume();
        await new Promise((r) => s.once('connect', r));
        for (const c of chunks) s.write(c);
        await new Promise((r) => setImmediate(r));
        s.destroy();
      }),
      { numRuns: 40 },
    );
    const res = await httpGet(ep.port(), webPort, 1000);
    expect(res.subarray(res.indexOf('\r\n\r\n') + 4).equals(pattern(0, 1000))).toBe(true);
  });

  it('refuses a local BIND request with 0x07 and a greeting without no-auth with 0xFF', async () => {
    const { route } = await gateway(CHANNEL_A);
    const { ep } = await endpoint(() => route);
    const s = net.connect(ep.port(), '127.0.0.1');
    const got = collect(s);
    s.write(Uint8Array.of(5, 1, 0, 5, 2, 0, 1, 127, 0, 0, 1, 0, 80));
    expect([...(await got.done)]).toEqual([5, 0, 5, 7, 0, 1, 0, 0, 0, 0, 0, 0]);
    const t = net.connect(ep.port(), '127.0.0.1');
    const got2 = collect(t);
    t.write(Uint8Array.of(5, 1, 2));
    expect([...(await got2.done)]).toEqual([5, 0xff]);
  });
});
