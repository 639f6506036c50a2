// Strict decoders for the Esplora REST bodies we use (Blockstream/esplora API.md; the
// same shapes mempool.space serves under /api). Each turns untrusted text into a typed
// value or throws EsploraError('bad_response'). Fields we do not use are ignored, so a
// server that adds fields keeps working; fields we use are checked for type and range.
import { EsploraError } from './esplora-error.js';

/** 21e6 BTC in satoshi: no amount on any Bitcoin network can exceed it. */
export const MAX_MONEY_SAT = 2_100_000_000_000_000n;
/** Heights stay far below this; a larger one is a broken or hostile server. */
const MAX_HEIGHT = 0x7fffffff;

export type TxStatus =
  | { readonly confirmed: false }
  | {
      readonly confirmed: true;
      readonly blockHeight: number;
      readonly blockHash: string;
      /** Block timestamp, unix seconds. */
      readonly blockTime: number;
    };

export interface AddressUtxo {
  readonly txid: string;
  readonly vout: number;
  readonly valueSat: bigint;
  readonly status: TxStatus;
}

export type OutSpend =
  | { readonly spent: false }
  | { readonly spent: true; readonly txid: string; readonly vin: number; readonly status: TxStatus };

/** Confirmation target in blocks → fee rate in sat/vB. */
export type FeeEstimates = ReadonlyMap<number, number>;

/** A parsed `POST /tx` failure body. `rpcCode` is absent when the server did not say. */
export interface BroadcastRejection {
  readonly rpcCode?: number;
  readonly reason: string;
}

const HEX64 = /^[0-9a-f]{64}$/;
const HEX = /^(?:[0-9a-f]{2})*$/;

function bad(what: string, got: unknown): never {
  const shown = typeof got === 'string' ? JSON.stringify(got.slice(0, 80)) : typeof got;
  throw new EsploraError('bad_response', `${what}, got ${shown}`);
}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return bad(`${what}: body is not JSON`, text);
  }
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function field(obj: Record<string, unknown>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(obj, key) ? obj[key] : undefined;
}

function hash32(v: unknown, what: string): string {
  if (typeof v !== 'string' || !HEX64.test(v)) bad(`${what}: expected 64 lowercase hex chars`, v);
  return v;
}

function uint(v: unknown, what: string, max: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0 || v > max) {
    bad(`${what}: expected an integer in 0..${max}`, v);
  }
  return v;
}

function amountSat(v: unknown, what: string): bigint {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) bad(`${what}: expected satoshi`, v);
  const sat = BigInt(v);
  if (sat > MAX_MONEY_SAT) bad(`${what}: more than 21e6 BTC`, v);
  return sat;
}

/** A whole-number text body (`/blocks/tip/height`). One trailing newline is tolerated. */
export function decodeHeightText(text: string): number {
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  if (!/^(?:0|[1-9][0-9]{0,9})$/.test(t)) bad('height: expected a non-negative integer', text);
  return uint(Number(t), 'height', MAX_HEIGHT);
}

/** A hash text body (`/blocks/tip/hash`, `/block-height/:h`, `POST /tx` success). */
export function decodeHashText(text: string): string {
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  return hash32(t, 'hash');
}

/** Raw transaction hex (`/tx/:txid/hex`). */
export function decodeTxHexText(text: string): string {
  const t = text.endsWith('\n') ? text.slice(0, -1) : text;
  // The smallest possible transaction is 60 bytes; anything shorter is not one.
  if (t.length < 120 || !HEX.test(t)) bad('tx hex: expected lowercase hex of a transaction', text);
  return t;
}

export function decodeTxStatusValue(v: unknown, what = 'tx status'): TxStatus {
  if (!isObject(v)) return bad(`${what}: expected an object`, v);
  const confirmed = field(v, 'confirmed');
  if (confirmed === false) return { confirmed: false };
  if (confirmed !== true) return bad(`${what}.confirmed: expected a boolean`, confirmed);
  return {
    confirmed: true,
    blockHeight: uint(field(v, 'block_height'), `${what}.block_height`, MAX_HEIGHT),
    blockHash: hash32(field(v, 'block_hash'), `${what}.block_hash`),
    blockTime: uint(field(v, 'block_time'), `${what}.block_time`, 0xffffffff),
  };
}

export function decodeTxStatus(text: string): TxStatus {
  return decodeTxStatusValue(parseJson(text, 'tx status'));
}

export function decodeAddressUtxos(text: string): AddressUtxo[] {
  const v = parseJson(text, 'address utxo');
  if (!Array.isArray(v)) return bad('address utxo: expected an array', v);
  return v.map((u: unknown, i): AddressUtxo => {
    const what = `address utxo[${i}]`;
    if (!isObject(u)) return bad(`${what}: expected an object`, u);
    return {
      txid: hash32(field(u, 'txid'), `${what}.txid`),
      vout: uint(field(u, 'vout'), `${what}.vout`, 0xffffffff),
      valueSat: amountSat(field(u, 'value'), `${what}.value`),
      status: decodeTxStatusValue(field(u, 'status'), `${what}.status`),
    };
  });
}

export function decodeOutSpend(text: string): OutSpend {
  const v = parseJson(text, 'outspend');
  if (!isObject(v)) return bad('outspend: expected an object', v);
  const spent = field(v, 'spent');
  if (spent === false) return { spent: false };
  if (spent !== true) return bad('outspend.spent: expected a boolean', spent);
  return {
    spent: true,
    txid: hash32(field(v, 'txid'), 'outspend.txid'),
    vin: uint(field(v, 'vin'), 'outspend.vin', 0xffffffff),
    status: decodeTxStatusValue(field(v, 'status'), 'outspend.status'),
  };
}

/** `/fee-estimates`: {"<target blocks>": <sat/vB>, ...}; keys need not be contiguous. */
export function decodeFeeEstimates(text: string): FeeEstimates {
  const v = parseJson(text, 'fee estimates');
  if (!isObject(v)) return bad('fee estimates: expected an object', v);
  const out = new Map<number, number>();
  for (const [k, rate] of Object.entries(v)) {
    if (!/^[1-9][0-9]{0,4}$/.test(k)) bad('fee estimates: key must be a block count', k);
    if (typeof rate !== 'number' || !Number.isFinite(rate) || rate < 0 || rate > 1e6) {
      bad(`fee estimates["${k}"]: expected a sat/vB rate`, rate);
    }
    out.set(Number(k), rate);
  }
  return new Map([...out].sort((a, b) => a[0] - b[0]));
}

/**
 * The rate for confirming within `targetBlocks`: the estimate of the largest target not
 * above it (a faster target is always good enough). Undefined when the server gave no
 * target that fast.
 */
export function feeRateForTarget(estimates: FeeEstimates, targetBlocks: number): number | undefined {
  let best: number | undefined;
  for (const [target, rate] of estimates) if (target <= targetBlocks) best = rate;
  return best;
}

/**
 * Parse a `POST /tx` 400 body. Known formats (vectors: esplora-post-tx-errors.json):
 *   `sendrawtransaction RPC error -26: <reason>`               (Blockstream electrs since PR #133)
 *   `sendrawtransaction RPC error: {"code":-26,"message":"<reason>"}` (mempool electrs, older)
 *   `sendrawtransaction RPC error: {"code":-26}`                (mempool backend, code only)
 *   anything else (`RPC error`, `Failed to send raw transaction`) → the text as the reason.
 */
export function parseBroadcastRejection(body: string): BroadcastRejection {
  const text = body.trim();
  const plain = /^sendrawtransaction RPC error (-?\d{1,6}): ([\s\S]*)$/.exec(text);
  if (plain) return { rpcCode: Number(plain[1]), reason: plain[2] ?? '' };
  const json = /^sendrawtransaction RPC error: (\{[\s\S]*\})$/.exec(text);
  if (json?.[1] !== undefined) {
    try {
      const v: unknown = JSON.parse(json[1]);
      if (isObject(v)) {
        const code = field(v, 'code');
        const message = field(v, 'message');
        const rpcCode = typeof code === 'number' && Number.isSafeInteger(code) ? code : undefined;
        const reason = typeof message === 'string' ? message : text;
        return rpcCode === undefined ? { reason } : { rpcCode, reason };
      }
    } catch {
      // fall through: keep the whole text as the reason
    }
  }
  return { reason: text };
}
