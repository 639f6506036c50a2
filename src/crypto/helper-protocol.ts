// The bitmesh-helper wire protocol (docs/helper.md), encoding and decoding only.
// Frames on the pipe:  u32 length (big endian) | u8 opcode-or-status | u32 id | payload,
// where length counts everything after itself. The numbers here must match
// packages-openwrt/bitmesh-helper/src/bitmesh-helper.c.
import { HelperProtocolError } from './helper-errors.js';

export const PROTOCOL_VERSION = 1;
/** Bytes of opcode/status + id that open every frame body. */
export const HEADER_BYTES = 5;
/** Largest request body the helper accepts (opcode + id + payload). */
export const MAX_REQUEST_BODY = 1 << 20;
/** Largest response body the helper ever sends. */
export const MAX_RESPONSE_BODY = 16 << 20;
/** Longest chain one CHAIN_GEN may ask for, and most checkpoints it may return. */
export const MAX_CHAIN_LENGTH = 1 << 26;
export const MAX_CHECKPOINTS = 32768;
/** CHAIN_VERIFY searches at most this many hashes back. */
export const MAX_CHAIN_DISTANCE = 64;

export const Op = {
  INFO: 0x00,
  SHA256: 0x01,
  CHAIN_GEN: 0x02,
  CHAIN_VERIFY: 0x03,
  SCHNORR_PUB: 0x04,
  SCHNORR_SIGN: 0x05,
  SCHNORR_VERIFY: 0x06,
  ECDSA_SIGN: 0x07,
  ECDSA_VERIFY: 0x08,
  BATCH: 0x09,
} as const;
export type Op = (typeof Op)[keyof typeof Op];

export const Status = {
  OK: 0x00,
  BAD_FRAME: 0x01,
  UNKNOWN_OP: 0x02,
  BAD_LENGTH: 0x03,
  BAD_PARAM: 0x04,
  BAD_KEY: 0x05,
  TOO_LARGE: 0x06,
  RESPONSE_FULL: 0x07,
  NESTED_BATCH: 0x08,
} as const;
export type Status = (typeof Status)[keyof typeof Status];

const STATUS_NAMES: Record<number, string> = {
  0x00: 'ok',
  0x01: 'bad-frame',
  0x02: 'unknown-op',
  0x03: 'bad-length',
  0x04: 'bad-param',
  0x05: 'bad-key',
  0x06: 'too-large',
  0x07: 'response-full',
  0x08: 'nested-batch',
};

export function statusName(status: number): string {
  return STATUS_NAMES[status] ?? `status-0x${status.toString(16)}`;
}

export interface Request {
  readonly op: Op;
  readonly payload: Uint8Array;
}

export interface ResponseFrame {
  readonly status: number;
  readonly id: number;
  readonly payload: Uint8Array;
}

export interface SubResponse {
  readonly status: number;
  readonly payload: Uint8Array;
}

export function writeU32(buf: Uint8Array, off: number, v: number): void {
  buf[off] = (v >>> 24) & 0xff;
  buf[off + 1] = (v >>> 16) & 0xff;
  buf[off + 2] = (v >>> 8) & 0xff;
  buf[off + 3] = v & 0xff;
}

export function readU32(buf: Uint8Array, off: number): number {
  return ((buf[off]! << 24) | (buf[off + 1]! << 16) | (buf[off + 2]! << 8) | buf[off + 3]!) >>> 0;
}

/** Body size of a single request frame (what the helper's length check sees). */
export function requestBodySize(req: Request): number {
  return HEADER_BYTES + req.payload.length;
}

/** Bytes one request adds inside a BATCH payload. */
export function batchItemSize(req: Request): number {
  return 4 + 1 + req.payload.length;
}

export function encodeFrame(op: Op, id: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + HEADER_BYTES + payload.length);
  writeU32(out, 0, HEADER_BYTES + payload.length);
  out[4] = op;
  writeU32(out, 5, id);
  out.set(payload, 9);
  return out;
}

export function encodeBatch(id: number, items: readonly Request[]): Uint8Array {
  let size = 0;
  for (const it of items) size += batchItemSize(it);
  const payload = new Uint8Array(size);
  let off = 0;
  for (const it of items) {
    writeU32(payload, off, 1 + it.payload.length);
    payload[off + 4] = it.op;
    payload.set(it.payload, off + 5);
    off += batchItemSize(it);
  }
  return encodeFrame(Op.BATCH, id, payload);
}

/** Splits a BATCH answer into its items; `expected` is how many requests it carried. */
export function decodeBatch(payload: Uint8Array, expected: number): SubResponse[] {
  const out: SubResponse[] = [];
  let off = 0;
  while (off < payload.length) {
    if (payload.length - off < 5) throw new HelperProtocolError(`batch item header cut at offset ${off}`);
    const len = readU32(payload, off);
    if (len < 1 || len > payload.length - off - 4) {
      throw new HelperProtocolError(`batch item at offset ${off} claims ${len} bytes`);
    }
    out.push({ status: payload[off + 4]!, payload: payload.subarray(off + 5, off + 4 + len) });
    off += 4 + len;
  }
  if (out.length !== expected) {
    throw new HelperProtocolError(`batch answered ${out.length} items, expected ${expected}`);
  }
  return out;
}

/**
 * Reassembles response frames from pipe chunks. Holds at most one frame plus one chunk;
 * a length prefix over MAX_RESPONSE_BODY or under HEADER_BYTES is a protocol error.
 */
export class FrameDecoder {
  #chunks: Uint8Array[] = [];
  #buffered = 0;

  get buffered(): number {
    return this.#buffered;
  }

  push(chunk: Uint8Array): ResponseFrame[] {
    if (chunk.length > 0) {
      this.#chunks.push(chunk);
      this.#buffered += chunk.length;
    }
    const frames: ResponseFrame[] = [];
    for (;;) {
      if (this.#buffered < 4) return frames;
      const head = this.#peek(4);
      const len = readU32(head, 0);
      if (len < HEADER_BYTES || len > MAX_RESPONSE_BODY) {
        throw new HelperProtocolError(`response frame length ${len} outside ${HEADER_BYTES}..${MAX_RESPONSE_BODY}`);
      }
      if (this.#buffered < 4 + len) return frames;
      const frame = this.#take(4 + len);
      frames.push({ status: frame[4]!, id: readU32(frame, 5), payload: frame.subarray(9) });
    }
  }

  #peek(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length >= n) return first.subarray(0, n);
    return this.#concat(n, false);
  }

  #take(n: number): Uint8Array {
    const first = this.#chunks[0]!;
    if (first.length === n) {
      this.#chunks.shift();
      this.#buffered -= n;
      return first;
    }
    if (first.length > n) {
      this.#chunks[0] = first.subarray(n);
      this.#buffered -= n;
      return first.subarray(0, n);
    }
    return this.#concat(n, true);
  }

  #concat(n: number, consume: boolean): Uint8Array {
    const out = new Uint8Array(n);
    let off = 0;
    let i = 0;
    while (off < n) {
      const c = this.#chunks[i]!;
      const take = Math.min(c.length, n - off);
      out.set(c.subarray(0, take), off);
      off += take;
      if (consume) {
        if (take === c.length) {
          this.#chunks.shift();
        } else {
          this.#chunks[0] = c.subarray(take);
        }
      } else {
        i++;
      }
    }
    if (consume) this.#buffered -= n;
    return out;
  }
}

// ---- payload builders and answer readers, one pair per operation ----

export function chainGenPayload(seed: Uint8Array, length: number, checkpointEvery: number): Uint8Array {
  const p = new Uint8Array(40);
  p.set(seed, 0);
  writeU32(p, 32, length);
  writeU32(p, 36, checkpointEvery);
  return p;
}

/** Number of checkpoints CHAIN_GEN returns for these parameters. */
export function checkpointCount(length: number, checkpointEvery: number): number {
  return checkpointEvery === 0 ? 0 : Math.floor(length / checkpointEvery);
}

export function concatBytes(...parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export interface HelperInfo {
  readonly protocolVersion: number;
  readonly maxRequestBody: number;
  readonly maxResponseBody: number;
  readonly maxChainLength: number;
  readonly maxChainDistance: number;
  /** The helper hashes with CPU SHA-256 instructions (x86 SHA extensions). */
  readonly hardwareSha256: boolean;
}

export const INFO_BYTES = 15;

export function decodeInfo(p: Uint8Array): HelperInfo {
  if (p.length !== INFO_BYTES) throw new HelperProtocolError(`INFO answer has ${p.length} bytes, expected ${INFO_BYTES}`);
  return {
    protocolVersion: p[0]!,
    maxRequestBody: readU32(p, 1),
    maxResponseBody: readU32(p, 5),
    maxChainLength: readU32(p, 9),
    maxChainDistance: p[13]!,
    hardwareSha256: (p[14]! & 1) === 1,
  };
}
