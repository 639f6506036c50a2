// Throughput measured by HTTP downloads, two kinds:
// - httpProbe (gateway): one probe of the uplink — download a configured URL (at most
//   `maxBytes`, within `timeoutMs`) and time it. The result is a capability
//   ProbeResult: latency to the first byte, and the bytes and duration for a
//   throughput observation.
// - httpPull (client): the market's capacity probe (effect `probe`) — pull from a URL
//   through the awarded gateway until a deadline, at most `kbps` on average since the
//   start (the response is paused while it is ahead), asking again while time
//   remains. Proxy mode goes through the client's own SOCKS5 endpoint (no
//   authentication), so the pull takes the awarded gateway's relay like any local
//   connection; nft mode goes direct, as the default route leads to the gateway. The
//   bytes are metered and paid like any others; the caller takes delivery from the
//   channel meter, not from the count returned here.
// Neither throws: failures are results.
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import { RemoteError } from '../core/errors.js';
import type { ProbeResult } from '../core/market/capability.js';
import {
  addressFromHost,
  decodeMethodSelection,
  decodeReply,
  encodeGreeting,
  encodeRequest,
  METHOD_NO_AUTH,
  Reply,
} from '../dataplane/proxy/socks5.js';

export interface HttpProbeOptions {
  readonly url: string;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly clock: () => number;
}

export function httpProbe(o: HttpProbeOptions): Promise<ProbeResult> {
  const started = o.clock();
  return new Promise((resolve) => {
    let firstByteAt: number | undefined;
    let bytes = 0;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req?.destroy();
      const now = o.clock();
      const latencyMs = Math.max(0, (firstByteAt ?? now) - started);
      resolve(ok && bytes > 0 ? { now, kind: 'http', target: o.url, ok, latencyMs, bytes, durationMs: Math.max(1, now - started) } : { now, kind: 'http', target: o.url, ok: false, latencyMs });
    };
    const timer = setTimeout(() => finish(bytes > 0), o.timeoutMs);
    let req: http.ClientRequest | undefined;
    try {
      // https.get for https URLs: http.get throws on them, and the config accepts both.
      req = (o.url.startsWith('https:') ? https.get : http.get)(o.url, (res) => {
        firstByteAt = o.clock();
        if ((res.statusCode ?? 0) >= 400) return finish(false);
        res.on('data', (d: Buffer) => {
          bytes += d.length;
          if (bytes >= o.maxBytes) finish(true);
        });
        res.on('end', () => finish(true));
        res.on('error', () => finish(bytes > 0));
      });
      req.on('error', () => finish(false));
    } catch {
      finish(false);
    }
  });
}

/** Where a pull goes through: a SOCKS5 endpoint without authentication (the client's own). */
export interface Socks5Via {
  readonly host: string;
  readonly port: number;
}

export interface HttpPullOptions {
  readonly url: string;
  /** At most this rate on average since the start, kbit/s. */
  readonly kbps: number;
  /** Stop at this time (on `clock`). */
  readonly until: number;
  readonly clock: () => number;
  /** Through this SOCKS5 endpoint; direct when undefined. */
  readonly socks?: Socks5Via;
  readonly signal?: AbortSignal;
}

export interface HttpPullResult {
  /** Something came. */
  readonly ok: boolean;
  /** Response body bytes pulled (the meter counts the wire; this is for the log). */
  readonly bytes: number;
  readonly requests: number;
  /** What stopped it early, if anything did. */
  readonly error?: string;
}

export class HttpPullError extends RemoteError {}

/** A URL whose body is tiny would otherwise be asked for again and again. */
const MAX_PULL_REQUESTS = 64;
/** The SOCKS5 method selection and reply are a few dozen bytes; more is junk. */
const MAX_SOCKS_REPLY_BYTES = 1024;

export async function httpPull(o: HttpPullOptions): Promise<HttpPullResult> {
  const started = o.clock();
  const total = { bytes: 0 };
  let requests = 0;
  let error: string | undefined;
  if (!(o.kbps > 0)) return { ok: false, bytes: 0, requests: 0, error: 'no rate to pull at' };
  while (!o.signal?.aborted && o.clock() < o.until && requests < MAX_PULL_REQUESTS) {
    requests++;
    const r = await pullOnce(o, started, total);
    if (r.error !== undefined) {
      error = r.error;
      break;
    }
    if (r.bytes === 0) {
      error = o.clock() < o.until ? 'empty response' : 'nothing came before the end';
      break;
    }
  }
  const out = { ok: total.bytes > 0, bytes: total.bytes, requests };
  return error === undefined ? out : { ...out, error };
}

/** One GET, paced against the pull's whole budget; resolves at its end, the deadline or an abort. */
function pullOnce(o: HttpPullOptions, started: number, total: { bytes: number }): Promise<{ bytes: number; error?: string }> {
  return new Promise((resolve) => {
    let got = 0;
    let done = false;
    let paced: NodeJS.Timeout | undefined;
    let req: http.ClientRequest | undefined;
    const finish = (error?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(deadline);
      clearTimeout(paced);
      o.signal?.removeEventListener('abort', onAbort);
      req?.destroy();
      resolve(error === undefined ? { bytes: got } : { bytes: got, error });
    };
    const onAbort = (): void => finish();
    const deadline = setTimeout(() => finish(), Math.max(0, o.until - o.clock()));
    o.signal?.addEventListener('abort', onAbort);
    let url: URL;
    try {
      url = new URL(o.url);
      if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new HttpPullError('pull_bad_url', `not http(s): ${o.url}`);
    } catch (e) {
      return finish((e as Error).message);
    }
    const get = url.protocol === 'https:' ? https.get : http.get;
    const connector = o.socks ? socks5Connector(o.socks, url, o.until - o.clock()) : undefined;
    if (connector instanceof HttpPullError) return finish(connector.message);
    try {
      req = get(url, { ...(connector ? { createConnection: connector } : {}), headers: { 'cache-control': 'no-cache' } }, (res) => {
        if ((res.statusCode ?? 0) >= 400) return finish(`HTTP ${res.statusCode}`);
        res.on('data', (d: Buffer) => {
          got += d.length;
          total.bytes += d.length;
          // Ahead of the rate: stop reading (TCP backpressure slows the sender) until due.
          const aheadMs = (total.bytes * 8) / o.kbps - (o.clock() - started);
          if (aheadMs >= 1 && paced === undefined) {
            res.pause();
            paced = setTimeout(() => {
              paced = undefined;
              res.resume();
            }, aheadMs);
          }
        });
        res.on('end', () => finish());
        res.on('error', (e) => finish(e.message));
        res.on('close', () => finish(res.complete ? undefined : 'response cut short'));
      });
      req.on('error', (e) => finish(e.message));
    } catch (e) {
      finish((e as Error).message);
    }
  });
}

type Connector = (opts: http.ClientRequestArgs, created: (err: Error | null, socket: Duplex) => void) => undefined;

/**
 * An http(s) request's connection made through a SOCKS5 endpoint: greeting (no
 * authentication) and CONNECT in one write, then the socket handed to the request
 * (wrapped in TLS for https).
 */
function socks5Connector(via: Socks5Via, target: URL, timeoutMs: number): Connector | HttpPullError {
  const host = target.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = Number(target.port) || (target.protocol === 'https:' ? 443 : 80);
  const address = addressFromHost(host);
  if (!address) return new HttpPullError('pull_bad_host', `cannot name ${host} to SOCKS5`);
  return (_opts, created) => {
    const s = net.connect(via.port, unspecifiedToLoopback(via.host));
    let buf = Buffer.alloc(0);
    let phase: 'method' | 'reply' = 'method';
    const fail = (e: Error): void => {
      s.destroy();
      created(e, s);
    };
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      if (buf.length > MAX_SOCKS_REPLY_BYTES) return fail(new HttpPullError('pull_socks_junk', 'SOCKS5 endpoint sent too much'));
      if (phase === 'method') {
        const m = decodeMethodSelection(buf);
        if (m.kind === 'more') return;
        if (m.kind === 'error') return fail(m.error);
        if (m.value.method !== METHOD_NO_AUTH) return fail(new HttpPullError('pull_socks_method', `SOCKS5 endpoint chose method ${m.value.method}`));
        buf = buf.subarray(m.length);
        phase = 'reply';
      }
      const r = decodeReply(buf);
      if (r.kind === 'more') return;
      if (r.kind === 'error') return fail(r.error);
      if (r.value.reply !== Reply.succeeded) return fail(new HttpPullError('pull_socks_refused', `SOCKS5 endpoint replied ${r.value.reply}`));
      s.off('data', onData);
      s.off('error', fail);
      s.on('error', () => {}); // the request's own handler attaches on a later tick, and sees errors too
      s.off('timeout', onTimeout);
      s.setTimeout(0);
      // Held until the request has attached its reader (it does so on a later tick; an
      // explicitly paused stream stays paused when a reader attaches, hence the resume).
      s.pause();
      const rest = buf.subarray(r.length);
      if (rest.length > 0) s.unshift(rest);
      created(null, target.protocol === 'https:' ? tls.connect({ socket: s, ...(net.isIP(host) === 0 ? { servername: host } : {}) }) : s);
      setImmediate(() => s.resume());
    };
    const onTimeout = (): void => fail(new HttpPullError('pull_socks_timeout', 'SOCKS5 endpoint did not answer'));
    s.on('data', onData);
    s.on('error', fail);
    s.setTimeout(Math.max(1, timeoutMs), onTimeout);
    s.once('connect', () => s.write(Buffer.concat([encodeGreeting({ methods: [METHOD_NO_AUTH] }), encodeRequest({ command: 'connect', address, port })])));
    return undefined;
  };
}

/** A SOCKS endpoint bound to any address is reached on loopback. */
function unspecifiedToLoopback(host: string): string {
  return host === '0.0.0.0' || host === '' ? '127.0.0.1' : host === '::' ? '::1' : host;
}
