// The client against a real HTTP server on 127.0.0.1 serving the fixtures, and against
// hostile servers (bad bodies, 5xx, slow or huge answers).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EsploraClient } from './esplora-client.js';
import type { EsploraClientOptions } from './esplora-client.js';
import { EsploraError } from './esplora-error.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./esplora-fixtures/${name}`, import.meta.url), 'utf8');

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const TXID = 'ab'.repeat(32);
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
let server: Server;
let baseUrl: string;

function text(res: ServerResponse, status: number, body: string, type = 'text/plain'): void {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
}

beforeAll(async () => {
  server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const key = `${req.method} ${req.url}`;
      hits.set(key, (hits.get(key) ?? 0) + 1);
      const h = routes.get(key);
      if (h) h(req, res, Buffer.concat(chunks).toString('utf8'));
      else text(res, 404, 'Not Found');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function client(opts: Partial<EsploraClientOptions> = {}): EsploraClient {
  return new EsploraClient({ baseUrl, timeoutMs: 2_000, retries: 2, backoffMs: 1, sleep: async () => {}, ...opts });
}

async function rejection(p: Promise<unknown>): Promise<EsploraError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EsploraError);
    return e as EsploraError;
  }
  throw new Error('expected an EsploraError');
}

describe('EsploraClient over real sockets', () => {
  it('reads every endpoint in the documented format', async () => {
    routes.set('GET /blocks/tip/height', (_q, r) => text(r, 200, fixture('blocks-tip-height.txt')));
    routes.set('GET /blocks/tip/hash', (_q, r) => text(r, 200, 'cd'.repeat(32)));
    routes.set(`GET /tx/${TXID}/status`, (_q, r) => text(r, 200, fixture('tx-status-confirmed.json'), 'application/json'));
    routes.set(`GET /tx/${TXID}/hex`, (_q, r) => text(r, 200, '02' + '00'.repeat(80)));
    routes.set(`GET /tx/${TXID}/outspend/1`, (_q, r) => text(r, 200, '{"spent":false}', 'application/json'));
    routes.set('GET /address/bcrt1qexampleaddress00/utxo', (_q, r) => text(r, 200, fixture('address-utxo.json'), 'application/json'));
    routes.set('GET /fee-estimates', (_q, r) => text(r, 200, fixture('fee-estimates-rust-esplora-client.json'), 'application/json'));
    const c = client();
    expect(await c.tipHeight()).toBe(812345);
    expect(await c.tipHash()).toBe('cd'.repeat(32));
    expect(await c.txStatus(TXID)).toMatchObject({ confirmed: true, blockHeight: 812345 });
    expect(await c.txHex(TXID)).toBe('02' + '00'.repeat(80));
    expect(await c.txOutspend(TXID, 1)).toEqual({ spent: false });
    expect(await c.addressUtxos('bcrt1qexampleaddress00')).toHaveLength(2);
    expect((await c.feeEstimates()).get(25)).toBe(0.748);
    expect(await c.txStatus('ef'.repeat(32))).toBeNull(); // 404 → unknown
  });

  it('broadcast posts the hex as text and returns the txid', async () => {
    let got = '';
    routes.set('POST /tx', (_q, r, body) => {
      got = body;
      text(r, 200, TXID);
    });
    expect(await client().broadcast('0200AABB')).toBe(TXID);
    expect(got).toBe('0200aabb');
  });

  it('broadcast rejection carries the bitcoind code and reason, and is not retried', async () => {
    hits.clear();
    routes.set('POST /tx', (_q, r) => text(r, 400, 'sendrawtransaction RPC error -26: txn-mempool-conflict'));
    const e = await rejection(client().broadcast('00'));
    expect(e).toMatchObject({ code: 'broadcast_rejected', rpcCode: -26, reason: 'txn-mempool-conflict', status: 400 });
    expect(hits.get('POST /tx')).toBe(1);

    routes.set('POST /tx', (_q, r) => text(r, 400, 'sendrawtransaction RPC error: {"code":-26,"message":"non-final"}'));
    expect(await rejection(client().broadcast('00'))).toMatchObject({ rpcCode: -26, reason: 'non-final' });
  });

  it('500 then success: the retry works', async () => {
    let n = 0;
    routes.set('GET /blocks/tip/height', (_q, r) => (n++ === 0 ? text(r, 500, 'oops') : text(r, 200, '7')));
    expect(await client().tipHeight()).toBe(7);
    expect(n).toBe(2);
  });

  it('429 is retried; persistent 503 gives up after the bounded retries with backoff', async () => {
    let n = 0;
    routes.set('GET /blocks/tip/height', (_q, r) => (n++ < 2 ? text(r, 429, 'slow down') : text(r, 200, '8')));
    expect(await client().tipHeight()).toBe(8);

    hits.clear();
    routes.set('GET /blocks/tip/hash', (_q, r) => text(r, 503, 'down'));
    const slept: number[] = [];
    const c = client({ retries: 3, backoffMs: 100, random: () => 0.5, sleep: async (ms) => void slept.push(ms) });
    expect(await rejection(c.tipHash())).toMatchObject({ code: 'http_status', status: 503 });
    expect(hits.get('GET /blocks/tip/hash')).toBe(4);
    expect(slept).toEqual([100, 200, 400]);
  });

  it('4xx other than 404 is not retried', async () => {
    hits.clear();
    routes.set('GET /fee-estimates', (_q, r) => text(r, 403, 'forbidden'));
    expect(await rejection(client().feeEstimates())).toMatchObject({ code: 'http_status', status: 403 });
    expect(hits.get('GET /fee-estimates')).toBe(1);
  });

  it('bad JSON, wrong types and negative heights are bad_response', async () => {
    routes.set(`GET /tx/${TXID}/status`, (_q, r) => text(r, 200, '{"confirmed":tru'));
    expect((await rejection(client().txStatus(TXID))).code).toBe('bad_response');
    routes.set('GET /fee-estimates', (_q, r) => text(r, 200, '{"1":"fast"}'));
    expect((await rejection(client().feeEstimates())).code).toBe('bad_response');
    routes.set('GET /blocks/tip/height', (_q, r) => text(r, 200, '-3'));
    expect((await rejection(client().tipHeight())).code).toBe('bad_response');
  });

  it('a huge body is cut off at the cap, declared or streamed', async () => {
    routes.set('GET /address/bcrt1qhugehugehuge00/utxo', (_q, r) => text(r, 200, '['.padEnd(100_000, ' ')));
    const e = await rejection(client({ maxResponseBytes: 10_000 }).addressUtxos('bcrt1qhugehugehuge00'));
    expect(e.code).toBe('response_too_large');

    routes.set('GET /address/bcrt1qstreamstream00/utxo', (_q, r) => {
      r.writeHead(200, { 'content-type': 'application/json' }); // chunked: no content-length
      for (let i = 0; i < 50; i++) r.write(' '.repeat(1000));
      r.end('[]');
    });
    const e2 = await rejection(client({ maxResponseBytes: 10_000 }).addressUtxos('bcrt1qstreamstream00'));
    expect(e2.code).toBe('response_too_large');
  });

  it('a server that never answers times out', async () => {
    routes.set('GET /blocks/tip/hash', () => {
      /* never respond */
    });
    const t0 = Date.now();
    const e = await rejection(client({ timeoutMs: 150, retries: 1 }).tipHash());
    expect(e.code).toBe('timeout');
    expect(Date.now() - t0).toBeLessThan(2_000);
  });

  it('a refused connection is a network error after retries', async () => {
    const dead = createServer();
    await new Promise<void>((resolve) => dead.listen(0, '127.0.0.1', resolve));
    const port = (dead.address() as AddressInfo).port;
    await new Promise<void>((resolve) => dead.close(() => resolve()));
    const e = await rejection(client({ baseUrl: `http://127.0.0.1:${port}` }).tipHeight());
    expect(e.code).toBe('network');
  });

  it('rejects malformed arguments before any request', async () => {
    await expect(client().txStatus('nothex')).rejects.toThrow(TypeError);
    await expect(client().broadcast('')).rejects.toThrow(TypeError);
    expect(() => new EsploraClient({ baseUrl: 'ftp://x' })).toThrow(TypeError);
  });
});
