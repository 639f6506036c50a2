import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import net from 'node:net';
import { RelayServer } from './relay-server.js';
import type { RelayServerOptions } from './relay-server.js';
import { anyDestination } from './destination-policy.js';
import { encodeGreeting, encodeRequest, encodeUserPassRequest, Reply } from './socks5.js';
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
  sleep,
  socksConnect,
  until,
} from './proxy.test-support.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function setup(opts: Partial<RelayServerOptions> = {}) {
  const target = exchangeServer();
  const targetPort = await listen(target);
  const reports = new Map<string, number>();
  const relay = new RelayServer({
    host: '127.0.0.1',
    authorize: (id, pw) => (id === CHANNEL_A || id === CHANNEL_B) && Buffer.from(pw).equals(Buffer.from(PASSWORD)),
    onUsage: (id, d) => reports.set(id, (reports.get(id) ?? 0) + d),
    allowDestination: anyDestination,
    ...opts,
  });
  await relay.start();
  cleanups.push(() => close(target), () => relay.stop());
  const port = relay.port();
  const connect = (user = CHANNEL_A, password = PASSWORD, to = targetPort) => socksConnect(port, to, { user, password });
  return { relay, port, targetPort, reports, connect };
}

/** One exchange: send `up` payload bytes, expect `down` bytes back. */
async function exchange(connect: () => ReturnType<typeof socksConnect>, up: number, down: number) {
  const r = await connect();
  if (!r.ok) throw new Error(`refused: ${JSON.stringify(r)}`);
  const got = collect(r.sock, r.early);
  r.sock.write(exchangeHeader(up, down));
  // No FIN: to the relay a client's FIN means it is gone (see the test below).
  r.sock.write(pattern(0, up));
  return { sock: r.sock, got };
}

describe('RelayServer metering', () => {
  it('counts both directions exactly and reports the same total', async () => {
    const { relay, connect, reports } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 100_000_000);
    const { got } = await exchange(connect, 123_457, 654_321);
    const body = await got.done;
    expect(body.equals(pattern(0, 654_321))).toBe(true);
    await until(async () => (await relay.usage(CHANNEL_A))?.totalBytes === 8 + 123_457 + 654_321);
    expect(await relay.usage(CHANNEL_A)).toEqual({ upBytes: 8 + 123_457, downBytes: 654_321, totalBytes: 8 + 123_457 + 654_321 });
    await until(() => reports.get(CHANNEL_A) === 8 + 123_457 + 654_321);
  });

  it('on the client’s FIN stops reading the destination, flushes what it billed and ends: the client gets every billed byte', async () => {
    const { relay, connect } = await setup();
    const endless = endlessServer();
    const endlessPort = await listen(endless);
    cleanups.push(() => close(endless));
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1e12);
    const r = await connect(CHANNEL_A, PASSWORD, endlessPort);
    if (!r.ok) throw new Error('refused');
    const got = collect(r.sock, r.early);
    await until(() => got.bytes() > 500_000);
    r.sock.end();
    const body = await got.done;
    expect(body.equals(pattern(0, body.length))).toBe(true);
    await until(() => relay.connectionCount === 0);
    await until(async () => (await relay.usage(CHANNEL_A))?.downBytes === body.length);
  });

  it('pauses exactly at the allowance and resumes on a raised grant, byte-exact, same connection', async () => {
    const { relay, connect, reports } = await setup();
    const up = 1000;
    const down = 3_000_000;
    const first = 8 + up + 777_777; // the allowance ends mid-chunk
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, first);
    const { sock, got } = await exchange(connect, up, down);
    await until(async () => (await relay.usage(CHANNEL_A))?.totalBytes === first);
    await until(() => got.bytes() === 777_777);
    await sleep(100);
    expect(got.bytes()).toBe(777_777);
    expect((await relay.usage(CHANNEL_A))?.totalBytes).toBe(first);
    expect(reports.get(CHANNEL_A)).toBe(first);
    expect(sock.destroyed).toBe(false);

    // Raise it by a little: exactly that much more arrives.
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, first + 12_345);
    await until(() => got.bytes() === 777_777 + 12_345);
    await sleep(50);
    expect(got.bytes()).toBe(777_777 + 12_345);

    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 10_000_000);
    const body = await got.done;
    expect(body.length).toBe(down);
    expect(body.equals(pattern(0, down))).toBe(true);
    expect((await relay.usage(CHANNEL_A))?.totalBytes).toBe(8 + up + down);
  });

  it('holds the upload direction too, and all connections of the channel share one allowance', async () => {
    const { relay, connect } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 500_000);
    const a = await exchange(connect, 400_000, 10);
    const b = await exchange(connect, 400_000, 10);
    await until(async () => (await relay.usage(CHANNEL_A))?.totalBytes === 500_000);
    await sleep(50);
    const held = (await relay.usage(CHANNEL_A))!;
    expect(held.totalBytes).toBe(500_000);
    expect(held.upBytes).toBeGreaterThanOrEqual(500_000 - 10); // one exchange may have finished its upload and got its 10 bytes
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 2 * (8 + 400_000 + 10));
    expect((await a.got.done).equals(pattern(0, 10))).toBe(true);
    expect((await b.got.done).equals(pattern(0, 10))).toBe(true);
    expect(await relay.usage(CHANNEL_A)).toEqual({ upBytes: 2 * 400_008, downBytes: 20, totalBytes: 2 * 400_018 });
  });

  it('revoke holds connections and refuses new ones until the next grant; remove closes them', async () => {
    const { relay, connect } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 50_000_000);
    const { sock, got } = await exchange(connect, 10, 20_000_000);
    await until(() => got.bytes() > 0);
    await relay.revoke(CHANNEL_A);
    const at = got.bytes();
    const used = (await relay.usage(CHANNEL_A))!.totalBytes;
    await sleep(100);
    expect((await relay.usage(CHANNEL_A))!.totalBytes).toBe(used);
    expect(got.bytes()).toBeLessThanOrEqual(used - 18);
    expect(got.bytes() - at).toBeLessThan(20_000_000);
    expect(await connect()).toEqual({ ok: false, reply: Reply.notAllowed });
    expect(sock.destroyed).toBe(false);

    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, used + 1000);
    await until(async () => (await relay.usage(CHANNEL_A))!.totalBytes === used + 1000);
    await relay.remove(CHANNEL_A);
    await got.done;
    expect(await relay.usage(CHANNEL_A)).toBeUndefined();
    expect(await connect()).toEqual({ ok: false, reply: Reply.notAllowed });
  });
});

describe('RelayServer access', () => {
  it('refuses bad credentials, a malformed channel id, and a channel without a grant', async () => {
    const { relay, connect } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1000);
    expect(await connect(CHANNEL_A, new TextEncoder().encode('wrong'))).toEqual({ ok: false, auth: 'refused' });
    expect(await connect('AA'.repeat(32))).toEqual({ ok: false, auth: 'refused' });
    expect(await connect('zz')).toEqual({ ok: false, auth: 'refused' });
    expect(await connect(CHANNEL_B)).toEqual({ ok: false, reply: Reply.notAllowed });
    expect((await connect(CHANNEL_A)).ok).toBe(true);
  });

  it('accepts an async authorizer and treats a throwing one as no', async () => {
    const slow = await setup({ authorize: async (id) => (await sleep(20), id === CHANNEL_A) });
    await slow.relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1000);
    expect((await slow.connect()).ok).toBe(true);
    const throwing = await setup({
      authorize: () => {
        throw new Error('boom');
      },
    });
    await throwing.relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1000);
    expect(await throwing.connect()).toEqual({ ok: false, auth: 'refused' });
  });

  it('by default refuses to connect to loopback (the gateway itself)', async () => {
    const { relay, connect } = await setup({ allowDestination: undefined });
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1000);
    expect(await connect()).toEqual({ ok: false, reply: Reply.notAllowed });
  });

  it('answers a refused destination with 0x05', async () => {
    const { relay, connect } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1000);
    const closed = net.createServer();
    const port = await listen(closed);
    await close(closed);
    expect(await connect(CHANNEL_A, PASSWORD, port)).toEqual({ ok: false, reply: Reply.connectionRefused });
  });

  it('limits connections per channel and in total, and times out a silent handshake', async () => {
    const { relay, connect, port } = await setup({ limits: { maxConnectionsPerChannel: 2, maxConnections: 3, handshakeTimeoutMs: 100 } });
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1_000_000);
    await relay.grant({ channelId: CHANNEL_B, addresses: [] }, 1_000_000);
    const a1 = await connect();
    const a2 = await connect();
    expect(a1.ok && a2.ok).toBe(true);
    expect(await connect()).toEqual({ ok: false, reply: Reply.notAllowed });
    const b1 = await connect(CHANNEL_B);
    expect(b1.ok).toBe(true);
    // The fourth socket overall is closed at once.
    const extra = net.connect(port, '127.0.0.1');
    extra.on('error', () => undefined);
    await new Promise((r) => extra.once('close', r));
    for (const r of [a1, a2, b1]) if (r.ok) r.sock.destroy();
    await until(() => relay.connectionCount === 0);
    const silent = net.connect(port, '127.0.0.1');
    silent.on('error', () => undefined);
    const t0 = Date.now();
    await new Promise((r) => silent.once('close', r));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(80);
  });

  it('closes idle connections, held ones included', async () => {
    const { relay, connect } = await setup({ limits: { idleTimeoutMs: 150 } });
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 100);
    const { got } = await exchange(connect, 10, 1000); // held after 100 bytes
    await got.done;
    await until(() => relay.connectionCount === 0);
  });
});

describe('RelayServer under hostile input', () => {
  it('survives random bytes and keeps serving', async () => {
    const { relay, port, connect } = await setup({ limits: { handshakeTimeoutMs: 200 } });
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1_000_000);
    await fc.assert(
      fc.asyncProperty(fc.array(fc.uint8Array({ minLength: 1, maxLength: 64 }), { minLength: 1, maxLength: 5 }), async (chunks) => {
        const s = net.connect(port, '127.0.0.1');
        s.on('error', () => undefined);
        s.resume();
        await new Promise((r) => s.once('connect', r));
        for (const c of chunks) s.write(c);
        await sleep(1);
        s.destroy();
      }),
      { numRuns: 60 },
    );
    // Still serving.
    const { sock, got } = await exchange(connect, 5, 5);
    expect((await got.done).equals(pattern(0, 5))).toBe(true);
    sock.end();
    await until(() => relay.connectionCount === 0);
  });

  it('accepts a pipelined handshake with early data in any split, byte by byte included', async () => {
    const { relay, port, targetPort } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1e9);
    const hello = Buffer.concat([
      Buffer.from(encodeGreeting({ methods: [0, 2] })),
      Buffer.from(encodeUserPassRequest({ username: Buffer.from(CHANNEL_A), password: PASSWORD })),
      Buffer.from(encodeRequest({ command: 'connect', address: { kind: 'ipv4', bytes: Uint8Array.of(127, 0, 0, 1) }, port: targetPort })),
      exchangeHeader(3, 1000),
      pattern(0, 3),
    ]);
    const answer = 2 + 2 + 10;
    const viaSplits = async (cuts: number[]): Promise<Buffer> => {
      const s = net.connect(port, '127.0.0.1');
      const got = collect(s);
      let prev = 0;
      for (const c of [...cuts, hello.length]) {
        s.write(hello.subarray(prev, c));
        prev = c;
        await new Promise((r) => setImmediate(r));
      }
      return got.done;
    };
    const check = (b: Buffer): void => {
      expect([...b.subarray(0, 5)]).toEqual([5, 2, 1, 0, 5]);
      expect(b[5]).toBe(0);
      expect(b.subarray(answer).equals(pattern(0, 1000))).toBe(true);
    };
    check(await viaSplits(Array.from({ length: hello.length - 1 }, (_, i) => i + 1)));
    await fc.assert(
      fc.asyncProperty(fc.uniqueArray(fc.integer({ min: 1, max: hello.length - 1 }), { maxLength: 6 }), async (cuts) => {
        check(await viaSplits(cuts.sort((a, b) => a - b)));
      }),
      { numRuns: 20 },
    );
  });
});

describe('RelayServer concurrency', () => {
  it('carries 40 concurrent connections byte-exact and bills their sum', async () => {
    const { relay, connect } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1e9);
    const n = 40;
    const sizes = Array.from({ length: n }, (_, i) => 50_000 + i * 997);
    const runs = await Promise.all(sizes.map((s) => exchange(connect, 100, s)));
    const bodies = await Promise.all(runs.map((r) => r.got.done));
    bodies.forEach((b, i) => expect(b.equals(pattern(0, sizes[i]!))).toBe(true));
    const total = sizes.reduce((a, b) => a + b, 0) + n * 108;
    await until(async () => (await relay.usage(CHANNEL_A))?.totalBytes === total);
  });

  it('shares a small allowance across concurrent connections without passing it', async () => {
    const { relay, connect } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1_000_000);
    const runs = await Promise.all(Array.from({ length: 10 }, () => exchange(connect, 10, 500_000)));
    await until(async () => (await relay.usage(CHANNEL_A))?.totalBytes === 1_000_000);
    await sleep(50);
    const received = runs.reduce((a, r) => a + r.got.bytes(), 0);
    expect(received).toBe((await relay.usage(CHANNEL_A))?.downBytes);
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 10 * 500_018);
    for (const r of runs) expect((await r.got.done).equals(pattern(0, 500_000))).toBe(true);
  });

  it('stop closes every connection (fail closed)', async () => {
    const { relay, connect } = await setup();
    await relay.grant({ channelId: CHANNEL_A, addresses: [] }, 1e9);
    const { got } = await exchange(connect, 1, 50_000_000);
    await until(() => got.bytes() > 0);
    await relay.stop();
    const body = await got.done;
    expect(body.length).toBeLessThan(50_000_000);
  });
});
