// The devchain's HTTP adapter: serves a ChainState over the Esplora REST endpoints the
// project's client uses, plus `POST /faucet` and `POST /mine`, on loopback. It owns the
// clock, the randomness, the optional block timer and the store; the state machine
// owns the rules. Errors are answered the way electrs answers them (status + text).
import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import { hex } from '@scure/base';
import { Crypto } from '../../crypto/facade.js';
import { ChainState } from './chain-state.js';
import {
  DEVCHAIN_DEFAULT_HOST,
  DEVCHAIN_DEFAULT_PORT,
  MAX_BLOCKS_PER_MINE,
  MAX_FAUCET_SAT,
  MAX_REQUEST_BYTES,
} from './constants.js';
import { addressToScript, feeEstimatesJson, outspendJson, statusJson, txJson, utxoJson } from './esplora-views.js';
import { DevchainStore } from './store.js';

export interface DevchainOptions {
  /** 0 picks a free port. Default 4280. */
  readonly port?: number;
  /** Default 127.0.0.1. */
  readonly host?: string;
  /** Where `devchain.json` lives; without it the chain is in memory only. */
  readonly stateDir?: string;
  /** Mine a block this often (ms); none when absent or 0. */
  readonly blockIntervalMs?: number;
  readonly crypto?: Crypto;
  readonly storeMinIntervalMs?: number;
}

export interface DevchainHandle {
  /** e.g. "http://127.0.0.1:4280": the Esplora base URL. */
  readonly url: string;
  readonly port: number;
  /** Stops the timer and the server and writes the state out. */
  close(): Promise<void>;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly body: string,
  ) {
    super(body);
  }
}

const nowSeconds = (): number => Math.floor(Date.now() / 1000);

function send(res: ServerResponse, status: number, body: string, type: 'text/plain' | 'application/json' = 'text/plain'): void {
  const headers: Record<string, string | number> = { 'content-type': type, 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' };
  // After refusing an oversized body the rest of it is still in flight: drop the connection.
  if (status === 413) headers.connection = 'close';
  res.writeHead(status, headers);
  res.end(body);
}

const sendJson = (res: ServerResponse, value: unknown): void => send(res, 200, JSON.stringify(value), 'application/json');

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    total += chunk.length;
    if (total > MAX_REQUEST_BYTES) throw new HttpError(413, 'Request body too large');
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function jsonObject(text: string): Record<string, unknown> {
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new HttpError(400, 'expected a JSON object');
}

function positiveInt(v: unknown, what: string, max: bigint): bigint {
  const ok = (typeof v === 'number' && Number.isSafeInteger(v)) || (typeof v === 'string' && /^[0-9]{1,16}$/.test(v));
  const n = ok ? BigInt(v as number | string) : -1n;
  if (n < 1n || n > max) throw new HttpError(400, `${what}: expected an integer in 1..${max}`);
  return n;
}

/** Wires a chain to HTTP; `changed()` is called after every state change. */
function handler(chain: ChainState, changed: () => void) {
  const routes: [string, RegExp, (m: RegExpExecArray, body: string, res: ServerResponse) => void][] = [
    ['GET', /^\/blocks\/tip\/height$/, (_m, _b, res) => send(res, 200, String(chain.tipHeight))],
    ['GET', /^\/blocks\/tip\/hash$/, (_m, _b, res) => send(res, 200, chain.tipHash)],
    [
      'GET',
      /^\/block-height\/([0-9]{1,10})$/,
      (m, _b, res) => {
        const b = chain.blockAt(Number(m[1]));
        if (!b) throw new HttpError(404, 'Block not found');
        send(res, 200, b.hash);
      },
    ],
    [
      'GET',
      /^\/tx\/([0-9a-f]{64})$/,
      (m, _b, res) => {
        const j = txJson(chain, m[1]!);
        if (j === undefined) throw new HttpError(404, 'Transaction not found');
        sendJson(res, j);
      },
    ],
    [
      'GET',
      /^\/tx\/([0-9a-f]{64})\/status$/,
      (m, _b, res) => {
        const s = chain.status(m[1]!);
        if (!s) throw new HttpError(404, 'Transaction not found');
        sendJson(res, statusJson(s));
      },
    ],
    [
      'GET',
      /^\/tx\/([0-9a-f]{64})\/hex$/,
      (m, _b, res) => {
        const r = chain.tx(m[1]!);
        if (!r) throw new HttpError(404, 'Transaction not found');
        send(res, 200, hex.encode(r.raw));
      },
    ],
    [
      'GET',
      /^\/tx\/([0-9a-f]{64})\/outspend\/([0-9]{1,10})$/,
      (m, _b, res) => {
        const o = chain.outspend(m[1]!, Number(m[2]));
        if (!o) throw new HttpError(404, 'Transaction not found');
        sendJson(res, outspendJson(o));
      },
    ],
    [
      'GET',
      /^\/address\/([0-9A-Za-z]{1,100})\/utxo$/,
      (m, _b, res) => {
        const script = addressToScript(m[1]!);
        if (!script) throw new HttpError(400, 'Invalid Bitcoin address');
        sendJson(res, chain.utxosFor(script).map((c) => utxoJson(chain, c)));
      },
    ],
    ['GET', /^\/fee-estimates$/, (_m, _b, res) => sendJson(res, feeEstimatesJson())],
    [
      'POST',
      /^\/tx$/,
      (_m, body, res) => {
        const text = body.trim();
        if (!/^(?:[0-9a-fA-F]{2})+$/.test(text)) {
          throw new HttpError(400, 'sendrawtransaction RPC error -22: TX decode failed. Make sure the tx has at least one input.');
        }
        const r = chain.acceptTx(hex.decode(text.toLowerCase()));
        if (!r.ok) throw new HttpError(400, `sendrawtransaction RPC error ${r.rpcCode}: ${r.reason}`);
        changed();
        send(res, 200, r.txid);
      },
    ],
    [
      'POST',
      /^\/faucet$/,
      (_m, body, res) => {
        const req = jsonObject(body);
        const script = typeof req.address === 'string' ? addressToScript(req.address) : undefined;
        if (!script) throw new HttpError(400, 'Invalid Bitcoin address');
        const amount = positiveInt(req.amountSat, 'amountSat', MAX_FAUCET_SAT);
        const mineBlocks = req.mine === true ? 1n : req.mine === undefined || req.mine === false ? 0n : positiveInt(req.mine, 'mine', BigInt(MAX_BLOCKS_PER_MINE));
        const r = chain.faucet(script, amount, randomBytes(32));
        if (!r.ok) throw new HttpError(400, `faucet: ${r.reason}`);
        if (mineBlocks > 0n) chain.mine(Number(mineBlocks), nowSeconds());
        changed();
        sendJson(res, { txid: r.txid, status: statusJson(chain.status(r.txid)!) });
      },
    ],
    [
      'POST',
      /^\/mine$/,
      (_m, body, res) => {
        const req = body.trim() === '' ? {} : jsonObject(body);
        const n = req.blocks === undefined ? 1n : positiveInt(req.blocks, 'blocks', BigInt(MAX_BLOCKS_PER_MINE));
        chain.mine(Number(n), nowSeconds());
        changed();
        sendJson(res, { height: chain.tipHeight, hash: chain.tipHash });
      },
    ],
  ];

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    try {
      const path = (req.url ?? '/').split('?')[0]!;
      const method = req.method ?? 'GET';
      const body = method === 'POST' ? await readBody(req) : '';
      for (const [verb, re, fn] of routes) {
        const m = re.exec(path);
        if (m && verb === method) return fn(m, body, res);
      }
      throw new HttpError(404, 'Not Found');
    } catch (e) {
      if (res.headersSent) return void res.destroy();
      if (e instanceof HttpError) return send(res, e.status, e.body);
      send(res, 500, 'internal error');
    }
  };
}

/** Loads (or creates) the chain in `stateDir` and serves it on loopback. */
export async function startDevchain(opts: DevchainOptions = {}): Promise<DevchainHandle> {
  const crypto = opts.crypto ?? new Crypto();
  const saved = opts.stateDir ? DevchainStore.load(opts.stateDir) : undefined;
  const chain = saved ? ChainState.fromSnapshot(crypto, saved) : ChainState.create(crypto, randomBytes(32), nowSeconds());
  const store = opts.stateDir
    ? new DevchainStore(opts.stateDir, () => chain.toSnapshot(), {
        ...(opts.storeMinIntervalMs === undefined ? {} : { minIntervalMs: opts.storeMinIntervalMs }),
      })
    : undefined;
  const changed = (): void => store?.changed();

  const server: Server = createServer(handler(chain, changed));
  server.headersTimeout = 10_000;
  server.requestTimeout = 30_000;
  const host = opts.host ?? DEVCHAIN_DEFAULT_HOST;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? DEVCHAIN_DEFAULT_PORT, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  if (!saved) changed(); // a new chain's faucet key must reach the disk (only once we own the port)

  const timer =
    opts.blockIntervalMs && opts.blockIntervalMs > 0
      ? setInterval(() => {
          chain.mine(1, nowSeconds());
          changed();
        }, opts.blockIntervalMs)
      : undefined;

  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    close: () =>
      (closing ??= (async () => {
        if (timer) clearInterval(timer);
        server.closeIdleConnections();
        await new Promise<void>((resolve) => server.close(() => resolve()));
        await store?.flush();
      })()),
  };
}
