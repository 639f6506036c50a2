// Talks to the native bitmesh-helper over its stdin/stdout pipe (docs/helper.md).
//
// Flow of one call:
//  1. a method checks its arguments and queues a request with the answer length it expects;
//  2. every request queued in the same turn of the event loop leaves in one BATCH frame
//     (a lone request goes as a plain frame), split only where the helper's frame caps say;
//  3. answers come back in order; each frame's id finds its calls, each call resolves;
//  4. if the helper exits, breaks the protocol or misses a deadline, the client kills it,
//     rejects every pending call with a HelperUnavailableError and emits 'dead' once.
//     A dead client stays dead: callers fall back to noble (see select-backend.ts).
import { spawn, type ChildProcess } from 'node:child_process';
import { killChild } from '../os/kill-child.js';
import { EventEmitter } from 'node:events';
import {
  type AsyncCryptoBackend,
  type HashChainResult,
  type SchnorrVerifyItem,
  checkBytes,
  checkChainParams,
  checkMaxDistance,
} from './helper-async-backend.js';
import {
  HelperArgumentError,
  HelperDeadError,
  HelperProtocolError,
  HelperRejectedError,
  HelperTimeoutError,
  type HelperUnavailableError,
} from './helper-errors.js';
import {
  FrameDecoder,
  HEADER_BYTES,
  INFO_BYTES,
  MAX_REQUEST_BODY,
  MAX_RESPONSE_BODY,
  Op,
  PROTOCOL_VERSION,
  Status,
  type HelperInfo,
  type Request,
  type ResponseFrame,
  type SubResponse,
  batchItemSize,
  chainGenPayload,
  checkpointCount,
  concatBytes,
  decodeBatch,
  decodeInfo,
  encodeBatch,
  encodeFrame,
  statusName,
} from './helper-protocol.js';

export interface HelperClientOptions {
  /** Deadline for one frame's answer, on top of the time its hash chains need. */
  readonly timeoutMs?: number;
  /** Allowance per chain hash when sizing deadlines (routers hash ~1 M/s). */
  readonly chainHashMs?: number;
  /** Environment for the helper process (spawn only); default: the agent's. */
  readonly env?: NodeJS.ProcessEnv;
}

export type HelperState = 'running' | 'dead';

export type HelperEvents = { dead: [reason: string] };

interface Call {
  readonly req: Request;
  /** Payload length a correct helper answers with; anything else is a protocol error. */
  readonly answerLength: number;
  /** Extra deadline for slow operations (hash chains). */
  readonly extraMs: number;
  resolve(payload: Uint8Array): void;
  reject(err: Error): void;
}

interface InFlight {
  readonly calls: readonly Call[];
  readonly batch: boolean;
  readonly timer: NodeJS.Timeout;
}

const DEFAULT_TIMEOUT_MS = 5000;
const DEFAULT_CHAIN_HASH_MS = 0.002;
const STDERR_TAIL = 512;

export class HelperClient extends EventEmitter<HelperEvents> implements AsyncCryptoBackend {
  readonly name = 'helper';
  readonly #child: ChildProcess;
  readonly #timeoutMs: number;
  readonly #chainHashMs: number;
  readonly #decoder = new FrameDecoder();
  readonly #inFlight = new Map<number, InFlight>();
  #queue: Call[] = [];
  #flushScheduled = false;
  #nextId = 1;
  #state: HelperState = 'running';
  #deathReason: string | undefined;
  #stderrTail = '';
  #framesSent = 0;
  #requestsSent = 0;
  #lastDeadline = 0;

  /** Starts the helper binary at `path` and returns a client for it. */
  static spawn(path: string, options: HelperClientOptions = {}): HelperClient {
    const child = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'], env: options.env ?? process.env });
    return new HelperClient(child, options);
  }

  constructor(child: ChildProcess, options: HelperClientOptions = {}) {
    super();
    this.#child = child;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#chainHashMs = options.chainHashMs ?? DEFAULT_CHAIN_HASH_MS;
    if (!child.stdin || !child.stdout || !child.stderr) throw new HelperArgumentError('helper needs piped stdio');
    child.stdout.on('data', (chunk: Buffer) => this.#onData(chunk));
    child.stderr.on('data', (chunk: Buffer) => {
      this.#stderrTail = (this.#stderrTail + chunk.toString('utf8')).slice(-STDERR_TAIL);
    });
    child.stdin.on('error', (err) => this.#die(new HelperDeadError(`helper stdin: ${err.message}`)));
    child.on('error', (err) => this.#die(new HelperDeadError(`helper process: ${err.message}`)));
    child.on('exit', (code, signal) => {
      const tail = this.#stderrTail.trim();
      this.#die(new HelperDeadError(`helper exited (code ${code}, signal ${signal})${tail ? `: ${tail}` : ''}`));
    });
  }

  get state(): HelperState {
    return this.#state;
  }

  /** Why the helper died, once it has. */
  get deathReason(): string | undefined {
    return this.#deathReason;
  }

  /** Frames and requests written so far: requests / frames is the batching achieved. */
  get stats(): { readonly framesSent: number; readonly requestsSent: number } {
    return { framesSent: this.#framesSent, requestsSent: this.#requestsSent };
  }

  get pid(): number | undefined {
    return this.#child.pid;
  }

  /** Ends the helper (stdin closed, then killed); pending calls are rejected. */
  close(): Promise<void> {
    if (this.#state === 'dead') return Promise.resolve();
    // A child that failed to spawn emits 'error' and never 'exit'.
    const exited = new Promise<void>((resolve) => {
      this.#child.once('exit', () => resolve());
      this.#child.once('error', () => resolve());
    });
    this.#die(new HelperDeadError('helper closed'));
    return exited;
  }

  // ---- operations ----

  async info(): Promise<HelperInfo> {
    const p = await this.#call({ op: Op.INFO, payload: new Uint8Array(0) }, INFO_BYTES);
    const info = decodeInfo(p);
    if (info.protocolVersion !== PROTOCOL_VERSION) {
      this.#die(new HelperDeadError(`helper speaks protocol ${info.protocolVersion}, expected ${PROTOCOL_VERSION}`));
      throw new HelperDeadError(this.#deathReason ?? 'helper protocol mismatch');
    }
    return info;
  }

  sha256(data: Uint8Array): Promise<Uint8Array> {
    if (!(data instanceof Uint8Array)) return Promise.reject(new HelperArgumentError('"data" expected Uint8Array'));
    if (data.length > MAX_REQUEST_BODY - HEADER_BYTES - 5) {
      return Promise.reject(new HelperArgumentError(`"data" longer than the helper's frame (${data.length} bytes)`));
    }
    return this.#call({ op: Op.SHA256, payload: data }, 32);
  }

  schnorrPublicKey(secretKey: Uint8Array): Promise<Uint8Array> {
    return this.#guard(() => {
      checkBytes('secretKey', secretKey, 32);
      return this.#call({ op: Op.SCHNORR_PUB, payload: secretKey.slice() }, 32);
    });
  }

  schnorrSign(msg: Uint8Array, secretKey: Uint8Array, aux: Uint8Array): Promise<Uint8Array> {
    return this.#guard(() => {
      checkBytes('secretKey', secretKey, 32);
      checkBytes('aux', aux, 32);
      if (!(msg instanceof Uint8Array) || msg.length > MAX_REQUEST_BODY - 1024) {
        throw new HelperArgumentError('"msg" expected Uint8Array shorter than the helper frame');
      }
      return this.#call({ op: Op.SCHNORR_SIGN, payload: concatBytes(secretKey, aux, msg) }, 64);
    });
  }

  /** Malformed keys or signatures are just invalid (false), as with noble. */
  schnorrVerify(sig: Uint8Array, msg: Uint8Array, publicKeyX: Uint8Array): Promise<boolean> {
    if (!isBytes(sig, 64) || !isBytes(publicKeyX, 32) || !(msg instanceof Uint8Array)) return Promise.resolve(false);
    if (msg.length > MAX_REQUEST_BODY - 1024) {
      return Promise.reject(new HelperArgumentError('"msg" longer than the helper frame'));
    }
    return this.#call({ op: Op.SCHNORR_VERIFY, payload: concatBytes(publicKeyX, sig, msg) }, 1).then(isOne);
  }

  schnorrVerifyBatch(items: readonly SchnorrVerifyItem[]): Promise<boolean[]> {
    return Promise.all(items.map((it) => this.schnorrVerify(it.sig, it.msg, it.publicKeyX)));
  }

  ecdsaSign(digest: Uint8Array, secretKey: Uint8Array): Promise<Uint8Array> {
    return this.#guard(() => {
      checkBytes('digest', digest, 32);
      checkBytes('secretKey', secretKey, 32);
      return this.#call({ op: Op.ECDSA_SIGN, payload: concatBytes(secretKey, digest) }, 64);
    });
  }

  ecdsaVerify(sig: Uint8Array, digest: Uint8Array, publicKey: Uint8Array): Promise<boolean> {
    if (!isBytes(sig, 64) || !isBytes(digest, 32) || !isBytes(publicKey, 33)) return Promise.resolve(false);
    return this.#call({ op: Op.ECDSA_VERIFY, payload: concatBytes(publicKey, sig, digest) }, 1).then(isOne);
  }

  hashChain(seed: Uint8Array, length: number, checkpointEvery: number): Promise<HashChainResult> {
    return this.#guard(async () => {
      checkBytes('seed', seed, 32);
      checkChainParams(length, checkpointEvery);
      const count = checkpointCount(length, checkpointEvery);
      const p = await this.#call(
        { op: Op.CHAIN_GEN, payload: chainGenPayload(seed, length, checkpointEvery) },
        32 + 32 * count,
        length * this.#chainHashMs,
      );
      // The helper streams checkpoints as it walks down from the seed: highest index first.
      const checkpoints = new Array<{ index: number; value: Uint8Array }>(count);
      for (let j = 0; j < count; j++) {
        checkpoints[count - 1 - j] = { index: (count - j) * checkpointEvery, value: p.slice(32 * j, 32 * j + 32) };
      }
      return { anchor: p.slice(32 * count), checkpoints };
    });
  }

  verifyChainStep(anchor: Uint8Array, element: Uint8Array, maxDistance: number): Promise<number | null> {
    return this.#guard(async () => {
      checkBytes('anchor', anchor, 32);
      checkBytes('element', element, 32);
      checkMaxDistance(maxDistance);
      const p = await this.#call(
        { op: Op.CHAIN_VERIFY, payload: concatBytes(anchor, element, Uint8Array.of(maxDistance)) },
        1,
      );
      return p[0] === 0 ? null : p[0]!;
    });
  }

  /** Sends raw request bytes: only for tests of the helper's handling of broken input. */
  writeRaw(bytes: Uint8Array): void {
    this.#child.stdin?.write(bytes);
  }

  // ---- machinery ----

  #guard<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return fn();
    } catch (err) {
      return Promise.reject(err);
    }
  }

  #call(req: Request, answerLength: number, extraMs = 0): Promise<Uint8Array> {
    if (this.#state === 'dead') return Promise.reject(new HelperDeadError(this.#deathReason ?? 'helper dead'));
    return new Promise<Uint8Array>((resolve, reject) => {
      this.#queue.push({ req, answerLength, extraMs, resolve, reject });
      if (!this.#flushScheduled) {
        this.#flushScheduled = true;
        setImmediate(() => this.#flush());
      }
    });
  }

  #flush(): void {
    this.#flushScheduled = false;
    const queue = this.#queue;
    this.#queue = [];
    if (this.#state === 'dead') return; // #die already rejected them
    let chunk: Call[] = [];
    let reqBytes = HEADER_BYTES;
    let ansBytes = HEADER_BYTES;
    for (const call of queue) {
      const rq = batchItemSize(call.req);
      const an = 5 + call.answerLength;
      // The helper keeps answer room for every later item (at most their request bytes),
      // so answers plus requests must fit its answer cap for it never to say RESPONSE_FULL.
      if (chunk.length > 0 && (reqBytes + rq > MAX_REQUEST_BODY || ansBytes + an + reqBytes + rq > MAX_RESPONSE_BODY)) {
        this.#send(chunk);
        chunk = [];
        reqBytes = HEADER_BYTES;
        ansBytes = HEADER_BYTES;
      }
      chunk.push(call);
      reqBytes += rq;
      ansBytes += an;
    }
    if (chunk.length > 0) this.#send(chunk);
  }

  #send(calls: Call[]): void {
    const id = this.#nextId;
    this.#nextId = this.#nextId === 0xffffffff ? 1 : this.#nextId + 1;
    const batch = calls.length > 1;
    const first = calls[0]!.req;
    const frame = batch ? encodeBatch(id, calls.map((c) => c.req)) : encodeFrame(first.op, id, first.payload);
    let extra = 0;
    for (const c of calls) extra += c.extraMs;
    // The helper works frame after frame, so this frame's budget starts when the frames
    // ahead of it are due, not now.
    const now = performance.now();
    const deadline = Math.max(now, this.#lastDeadline) + this.#timeoutMs + extra;
    this.#lastDeadline = deadline;
    const waitMs = Math.ceil(deadline - now);
    const timer = setTimeout(
      () => this.#die(new HelperTimeoutError(`helper gave no answer to frame ${id} within ${waitMs} ms`)),
      waitMs,
    );
    this.#inFlight.set(id, { calls, batch, timer });
    this.#framesSent++;
    this.#requestsSent += calls.length;
    // Requests carry secret keys: wipe our copy once the pipe has taken it.
    this.#child.stdin!.write(frame, () => frame.fill(0));
  }

  #onData(chunk: Buffer): void {
    if (this.#state === 'dead') return;
    let frames: ResponseFrame[];
    try {
      frames = this.#decoder.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    } catch (err) {
      this.#die(new HelperDeadError(`helper broke the protocol: ${(err as Error).message}`));
      return;
    }
    for (const f of frames) {
      try {
        this.#dispatch(f);
      } catch (err) {
        this.#die(new HelperDeadError(`helper broke the protocol: ${(err as Error).message}`));
        return;
      }
    }
  }

  #dispatch(f: ResponseFrame): void {
    const entry = this.#inFlight.get(f.id);
    if (!entry) throw new HelperProtocolError(`answer for unknown frame id ${f.id}`);
    let answers: readonly SubResponse[];
    if (entry.batch) {
      if (f.status !== Status.OK) throw new HelperProtocolError(`BATCH frame ${f.id} refused: ${statusName(f.status)}`);
      answers = decodeBatch(f.payload, entry.calls.length);
    } else {
      answers = [f];
    }
    // Check every answer before settling any; on a throw the entry stays and #die rejects it.
    answers.forEach((a, i) => {
      const call = entry.calls[i]!;
      if (a.status === Status.OK && a.payload.length !== call.answerLength) {
        const op = `op 0x${call.req.op.toString(16)} in frame ${f.id}`;
        throw new HelperProtocolError(`${op} answered ${a.payload.length} bytes, expected ${call.answerLength}`);
      }
    });
    this.#inFlight.delete(f.id);
    clearTimeout(entry.timer);
    answers.forEach((a, i) => settle(entry.calls[i]!, a.status, a.payload));
  }

  #die(err: HelperUnavailableError): void {
    if (this.#state === 'dead') return;
    this.#state = 'dead';
    this.#deathReason = err.message;
    for (const entry of this.#inFlight.values()) {
      clearTimeout(entry.timer);
      for (const c of entry.calls) c.reject(err);
    }
    this.#inFlight.clear();
    for (const c of this.#queue) c.reject(err);
    this.#queue = [];
    this.#child.stdin?.end();
    killChild(this.#child, 'SIGKILL');
    this.emit('dead', err.message);
  }
}

function settle(call: Call, status: number, payload: Uint8Array): void {
  if (status === Status.OK) {
    call.resolve(payload.slice());
  } else {
    const name = statusName(status);
    call.reject(new HelperRejectedError(name, `helper refused op 0x${call.req.op.toString(16)}: ${name}`));
  }
}

function isBytes(v: unknown, length: number): v is Uint8Array {
  return v instanceof Uint8Array && v.length === length;
}

function isOne(p: Uint8Array): boolean {
  return p[0] === 1;
}
