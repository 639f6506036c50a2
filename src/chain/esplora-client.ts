// The project's only chain backend: an Esplora REST client (Blockstream esplora,
// mempool.space's /api, or the embedded devchain). One request per call; each attempt
// has its own timeout, bodies are capped, and network errors, 5xx and 429 are retried a
// bounded number of times with jittered exponential backoff. 4xx is never retried.
import {
  decodeAddressUtxos,
  decodeFeeEstimates,
  decodeHashText,
  decodeHeightText,
  decodeOutSpend,
  decodeTxHexText,
  decodeTxStatus,
  parseBroadcastRejection,
} from './esplora-decode.js';
import type { AddressUtxo, FeeEstimates, OutSpend, TxStatus } from './esplora-decode.js';
import { EsploraError } from './esplora-error.js';

/** What the client needs of fetch; Node's global fetch fits, and so does httpFetch. */
import { httpFetch, type RequestLike, type ResponseLike } from './http-fetch.js';
export type FetchFn = (url: string, init: RequestLike & { redirect?: 'error' }) => Promise<ResponseLike>;

export interface EsploraClientOptions {
  /** e.g. "http://127.0.0.1:4280" or "https://blockstream.info/testnet/api" (no trailing slash needed). */
  readonly baseUrl: string;
  readonly fetch?: FetchFn;
  /** Per attempt, headers and body included. */
  readonly timeoutMs?: number;
  /** Extra attempts after the first for retryable failures. */
  readonly retries?: number;
  /** First backoff; doubles per retry, with ±50 % jitter, capped at `maxBackoffMs`. */
  readonly backoffMs?: number;
  readonly maxBackoffMs?: number;
  readonly maxResponseBytes?: number;
  /** Injected for tests; defaults to setTimeout / Math.random. */
  readonly sleep?: (ms: number) => Promise<void>;
  readonly random?: () => number;
}

export const ESPLORA_DEFAULTS = {
  timeoutMs: 10_000,
  retries: 3,
  backoffMs: 250,
  maxBackoffMs: 4_000,
  // A busy address's UTXO list is the largest body we read; 4 MiB is thousands of UTXOs.
  maxResponseBytes: 4 * 1024 * 1024,
} as const;

interface Answer {
  readonly status: number;
  readonly text: string;
}

/**
 * What the rest of the project needs from a chain backend. EsploraClient speaks it over
 * HTTP; devchain/in-memory-esplora.ts is the in-process twin for tests and the simulator.
 */
export interface EsploraApi {
  tipHeight(): Promise<number>;
  tipHash(): Promise<string>;
  blockHashAtHeight(height: number): Promise<string | null>;
  txStatus(txid: string): Promise<TxStatus | null>;
  txHex(txid: string): Promise<string | null>;
  txOutspend(txid: string, vout: number): Promise<OutSpend | null>;
  addressUtxos(address: string): Promise<AddressUtxo[]>;
  feeEstimates(): Promise<FeeEstimates>;
  broadcast(txHex: string): Promise<string>;
}

const TXID = /^[0-9a-f]{64}$/;

function checkTxid(txid: string): void {
  if (!TXID.test(txid)) throw new TypeError(`"txid" expected 64 lowercase hex chars, got ${JSON.stringify(txid)}`);
}

export class EsploraClient implements EsploraApi {
  readonly baseUrl: string;
  readonly #fetch: FetchFn;
  readonly #timeoutMs: number;
  readonly #retries: number;
  readonly #backoffMs: number;
  readonly #maxBackoffMs: number;
  readonly #maxBytes: number;
  readonly #sleep: (ms: number) => Promise<void>;
  readonly #random: () => number;

  constructor(opts: EsploraClientOptions) {
    const url = new URL(opts.baseUrl); // throws on a malformed URL: a config error, caught at startup
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new TypeError(`"baseUrl" expected http(s), got ${url.protocol}`);
    }
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.#fetch = opts.fetch ?? httpFetch;
    this.#timeoutMs = opts.timeoutMs ?? ESPLORA_DEFAULTS.timeoutMs;
    this.#retries = opts.retries ?? ESPLORA_DEFAULTS.retries;
    this.#backoffMs = opts.backoffMs ?? ESPLORA_DEFAULTS.backoffMs;
    this.#maxBackoffMs = opts.maxBackoffMs ?? ESPLORA_DEFAULTS.maxBackoffMs;
    this.#maxBytes = opts.maxResponseBytes ?? ESPLORA_DEFAULTS.maxResponseBytes;
    this.#sleep = opts.sleep ?? ((ms) => new Promise((resolve) => setTimeout(resolve, ms)));
    this.#random = opts.random ?? Math.random;
  }

  async tipHeight(): Promise<number> {
    return decodeHeightText(await this.#get200('/blocks/tip/height'));
  }

  async tipHash(): Promise<string> {
    return decodeHashText(await this.#get200('/blocks/tip/hash'));
  }

  async blockHashAtHeight(height: number): Promise<string | null> {
    if (!Number.isSafeInteger(height) || height < 0) throw new TypeError(`"height" expected a non-negative integer, got ${height}`);
    const a = await this.#request('GET', `/block-height/${height}`);
    if (a.status === 404) return null;
    return decodeHashText(this.#expect200(a, '/block-height'));
  }

  /** Null when the server does not know the transaction (electrs answers `{confirmed:false}` instead). */
  async txStatus(txid: string): Promise<TxStatus | null> {
    checkTxid(txid);
    const a = await this.#request('GET', `/tx/${txid}/status`);
    if (a.status === 404) return null;
    return decodeTxStatus(this.#expect200(a, '/tx/:txid/status'));
  }

  async txHex(txid: string): Promise<string | null> {
    checkTxid(txid);
    const a = await this.#request('GET', `/tx/${txid}/hex`);
    if (a.status === 404) return null;
    return decodeTxHexText(this.#expect200(a, '/tx/:txid/hex'));
  }

  /** Null when the server does not know the transaction or output. */
  async txOutspend(txid: string, vout: number): Promise<OutSpend | null> {
    checkTxid(txid);
    if (!Number.isSafeInteger(vout) || vout < 0 || vout > 0xffffffff) throw new TypeError(`"vout" expected a u32, got ${vout}`);
    const a = await this.#request('GET', `/tx/${txid}/outspend/${vout}`);
    if (a.status === 404) return null;
    return decodeOutSpend(this.#expect200(a, '/tx/:txid/outspend'));
  }

  /** Confirmed and mempool UTXOs of an address (mempool spends already removed by the server). */
  async addressUtxos(address: string): Promise<AddressUtxo[]> {
    if (!/^[0-9A-Za-z]{14,90}$/.test(address)) throw new TypeError(`"address" expected a Bitcoin address, got ${JSON.stringify(address)}`);
    return decodeAddressUtxos(await this.#get200(`/address/${address}/utxo`));
  }

  async feeEstimates(): Promise<FeeEstimates> {
    return decodeFeeEstimates(await this.#get200('/fee-estimates'));
  }

  /**
   * Broadcast a raw transaction; resolves to the txid the server reports. A refusal
   * throws EsploraError('broadcast_rejected') with `rpcCode` and `reason` parsed from the body.
   */
  async broadcast(txHex: string): Promise<string> {
    if (txHex.length === 0 || !/^(?:[0-9a-fA-F]{2})+$/.test(txHex)) throw new TypeError('"txHex" expected non-empty hex');
    const a = await this.#request('POST', '/tx', txHex.toLowerCase());
    if (a.status === 400) {
      const r = parseBroadcastRejection(a.text);
      throw new EsploraError('broadcast_rejected', `broadcast rejected: ${r.reason}`, {
        status: 400,
        path: '/tx',
        reason: r.reason,
        ...(r.rpcCode === undefined ? {} : { rpcCode: r.rpcCode }),
      });
    }
    return decodeHashText(this.#expect200(a, '/tx'));
  }

  async #get200(path: string): Promise<string> {
    return this.#expect200(await this.#request('GET', path), path);
  }

  #expect200(a: Answer, path: string): string {
    if (a.status === 200) return a.text;
    throw new EsploraError('http_status', `${path}: HTTP ${a.status}`, { status: a.status, path, reason: a.text.slice(0, 200) });
  }

  /** Resolves with any non-retryable answer; retries the rest, then throws the last failure. */
  async #request(method: 'GET' | 'POST', path: string, body?: string): Promise<Answer> {
    let last: EsploraError | undefined;
    for (let attempt = 0; attempt <= this.#retries; attempt++) {
      if (attempt > 0) await this.#sleep(this.#backoff(attempt));
      try {
        const a = await this.#attempt(method, path, body);
        if (a.status >= 500 || a.status === 429) {
          last = new EsploraError('http_status', `${path}: HTTP ${a.status}`, { status: a.status, path, reason: a.text.slice(0, 200) });
          continue;
        }
        return a;
      } catch (e) {
        if (!(e instanceof EsploraError)) throw e;
        // An oversized body will be oversized again; do not hammer the server for it.
        if (e.code === 'response_too_large') throw e;
        last = e;
      }
    }
    throw last ?? new EsploraError('network', `${path}: no attempt made`, { path });
  }

  #backoff(attempt: number): number {
    const base = Math.min(this.#maxBackoffMs, this.#backoffMs * 2 ** (attempt - 1));
    return Math.round(base * (0.5 + this.#random()));
  }

  async #attempt(method: 'GET' | 'POST', path: string, body?: string): Promise<Answer> {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), this.#timeoutMs);
    try {
      const init: { method: string; signal: AbortSignal; redirect: 'error'; body?: string; headers?: Record<string, string> } = {
        method,
        signal: ac.signal,
        redirect: 'error',
      };
      if (body !== undefined) {
        init.body = body;
        init.headers = { 'content-type': 'text/plain' };
      }
      const res = await this.#fetch(this.baseUrl + path, init);
      const text = await this.#readCapped(res, path);
      return { status: res.status, text };
    } catch (e) {
      if (e instanceof EsploraError) throw e;
      if (ac.signal.aborted) {
        throw new EsploraError('timeout', `${path}: no answer within ${this.#timeoutMs} ms`, { path });
      }
      const msg = e instanceof Error ? e.message : String(e);
      throw new EsploraError('network', `${path}: ${msg}`, { path });
    } finally {
      clearTimeout(timer);
    }
  }

  async #readCapped(res: ResponseLike, path: string): Promise<string> {
    const tooLarge = (): EsploraError =>
      new EsploraError('response_too_large', `${path}: body over ${this.#maxBytes} bytes`, { status: res.status, path });
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > this.#maxBytes) {
      await res.body?.cancel().catch(() => undefined);
      throw tooLarge();
    }
    if (!res.body) return '';
    const reader = res.body.getReader();
    const chunks: Uint8Array[] = [];
    let total = 0;
    for (;;) {
      const { done, value } = await reader.read();
      if (done || !value) break;
      total += value.byteLength;
      if (total > this.#maxBytes) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge();
      }
      chunks.push(value);
    }
    const buf = new Uint8Array(total);
    let off = 0;
    for (const c of chunks) {
      buf.set(c, off);
      off += c.byteLength;
    }
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(buf);
    } catch {
      throw new EsploraError('bad_response', `${path}: body is not UTF-8`, { status: res.status, path });
    }
  }
}
