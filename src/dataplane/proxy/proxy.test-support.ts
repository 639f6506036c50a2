// Test helpers for the proxy backend: loopback servers with known content and a small
// SOCKS5 client that speaks to the relay (username/password) or the local endpoint.
import net from 'node:net';
import http from 'node:http';
import { decodeMethodSelection, decodeReply, decodeUserPassReply, encodeGreeting, encodeRequest, encodeUserPassRequest } from './socks5.js';
import type { Decoded, ReplyCode } from './socks5.js';

export const CHANNEL_A = 'aa'.repeat(32);
export const CHANNEL_B = 'bb'.repeat(32);
export const PASSWORD = new TextEncoder().encode('let-me-in');

/** Byte i of every test stream: deterministic, not periodic at any chunk size. */
export function pattern(offset: number, n: number): Buffer {
  const b = Buffer.allocUnsafe(n);
  for (let i = 0; i < n; i++) {
    const x = offset + i;
    b[i] = (x * 31 + (x >>> 8) * 7 + (x >>> 16)) & 0xff;
  }
  return b;
}

export async function listen(server: net.Server): Promise<number> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return (server.address() as net.AddressInfo).port;
}

export async function close(server: net.Server): Promise<void> {
  await new Promise<void>((resolve) => server.close(() => resolve()));
}

/**
 * A TCP server for exact counts: the client sends 8 bytes (uint32 up, uint32 down),
 * then `up` bytes; the server reads them, answers `down` pattern bytes and ends.
 */
export function exchangeServer(): net.Server {
  const server = net.createServer((s) => {
    let header: Buffer | undefined;
    let got = 0;
    let buf = Buffer.alloc(0);
    s.on('error', () => s.destroy());
    s.on('data', (c: Buffer) => {
      if (!header) {
        buf = Buffer.concat([buf, c]);
        if (buf.length < 8) return;
        header = buf.subarray(0, 8);
        c = buf.subarray(8);
      }
      got += c.length;
      const up = header.readUInt32BE(0);
      if (got === up) s.end(pattern(0, header.readUInt32BE(4)));
    });
  });
  return server;
}

/** Sends pattern bytes as fast as the reader takes them, until the connection goes. */
export function endlessServer(): net.Server {
  return net.createServer((s) => {
    s.on('error', () => s.destroy());
    let off = 0;
    const pump = (): void => {
      while (!s.destroyed && s.write(pattern(off, 65_536))) off += 65_536;
      off += 65_536;
    };
    s.on('drain', pump);
    s.on('data', () => undefined);
    pump();
  });
}

/** GET /<n> answers n pattern bytes. */
export function patternHttpServer(): http.Server {
  return http.createServer((req, res) => {
    const n = Number((req.url ?? '/').slice(1));
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(n) });
    res.end(pattern(0, n));
  });
}

/** Reads from `sock` until `want` answers a value (or the socket ends first). */
function readMessage<T>(sock: net.Socket, buf: { b: Buffer }, decode: (b: Uint8Array) => Decoded<T>): Promise<T> {
  return new Promise((resolve, reject) => {
    const tryNow = (): boolean => {
      const d = decode(buf.b);
      if (d.kind === 'more') return false;
      cleanup();
      if (d.kind === 'error') reject(d.error);
      else {
        buf.b = buf.b.subarray(d.length);
        resolve(d.value);
      }
      return true;
    };
    const onData = (c: Buffer): void => {
      buf.b = Buffer.concat([buf.b, c]);
      tryNow();
    };
    const onEnd = (): void => {
      cleanup();
      reject(new Error('closed during the handshake'));
    };
    const cleanup = (): void => {
      sock.off('data', onData);
      sock.off('close', onEnd);
      sock.pause();
    };
    sock.on('data', onData);
    sock.on('close', onEnd);
    if (!tryNow()) sock.resume();
  });
}

export type SocksResult = { readonly ok: true; readonly sock: net.Socket; readonly early: Buffer } | { readonly ok: false; readonly reply?: ReplyCode; readonly auth?: 'refused'; readonly method?: number };

/**
 * Connects through a SOCKS5 server to 127.0.0.1:targetPort. With `creds`, speaks
 * username/password (the relay); without, no-auth (the local endpoint).
 */
export async function socksConnect(proxyPort: number, targetPort: number, creds?: { user: string; password: Uint8Array }): Promise<SocksResult> {
  const sock = net.connect({ host: '127.0.0.1', port: proxyPort, allowHalfOpen: true });
  sock.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  const buf = { b: Buffer.alloc(0) };
  const request = encodeRequest({ command: 'connect', address: { kind: 'ipv4', bytes: Uint8Array.of(127, 0, 0, 1) }, port: targetPort });
  try {
    if (creds) {
      sock.write(encodeGreeting({ methods: [2] }));
      sock.write(encodeUserPassRequest({ username: new TextEncoder().encode(creds.user), password: creds.password }));
      sock.write(request);
      const m = await readMessage(sock, buf, decodeMethodSelection);
      if (m.method !== 2) return { ok: false, method: m.method };
      const a = await readMessage(sock, buf, decodeUserPassReply);
      if (a.status !== 0) return { ok: false, auth: 'refused' };
    } else {
      sock.write(encodeGreeting({ methods: [0] }));
      sock.write(request);
      const m = await readMessage(sock, buf, decodeMethodSelection);
      if (m.method !== 0) return { ok: false, method: m.method };
    }
    const r = await readMessage(sock, buf, decodeReply);
    if (r.reply !== 0) {
      sock.destroy();
      return { ok: false, reply: r.reply };
    }
    return { ok: true, sock, early: Buffer.from(buf.b) };
  } catch {
    sock.destroy();
    return { ok: false };
  }
}

/** Collects everything a socket sends; `done` resolves at its end. */
export function collect(sock: net.Socket, early: Buffer = Buffer.alloc(0)): { chunks: Buffer[]; bytes: () => number; done: Promise<Buffer> } {
  const chunks: Buffer[] = early.length ? [early] : [];
  let n = early.length;
  const done = new Promise<Buffer>((resolve) => {
    sock.on('data', (c: Buffer) => {
      chunks.push(c);
      n += c.length;
    });
    sock.on('end', () => resolve(Buffer.concat(chunks)));
    sock.on('close', () => resolve(Buffer.concat(chunks)));
    sock.resume();
  });
  return { chunks, bytes: () => n, done };
}

export function exchangeHeader(up: number, down: number): Buffer {
  const h = Buffer.alloc(8);
  h.writeUInt32BE(up, 0);
  h.writeUInt32BE(down, 4);
  return h;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export async function until(cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await sleep(5);
  }
}
