// The helper client against the real binary (built by make if needed) and against
// fake helpers made of `sh`: batching, typed refusals, broken input, death, timeouts.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { spawn, type ChildProcess } from 'node:child_process';
import { sha256 } from '@noble/hashes/sha2.js';
import { HelperClient } from './helper-client.js';
import {
  HelperArgumentError,
  HelperDeadError,
  HelperRejectedError,
  HelperTimeoutError,
  HelperUnavailableError,
} from './helper-errors.js';
import {
  FrameDecoder,
  MAX_REQUEST_BODY,
  Op,
  Status,
  chainGenPayload,
  encodeBatch,
  encodeFrame,
  writeU32,
  type ResponseFrame,
} from './helper-protocol.js';
import { hashChainSync } from './helper-async-backend.js';
import { runHelperSelfTest } from './select-backend.js';
import { ensureHelperBinary } from './helper-test-binary.js';

const helperPath = ensureHelperBinary();
const asanPath = helperPath ? ensureHelperBinary('bitmesh-helper-asan') : null;
const CURVE_N = Uint8Array.from(Buffer.from('fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141', 'hex'));

function fakeHelper(script: string, timeoutMs = 5000): HelperClient {
  return new HelperClient(spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] }), { timeoutMs });
}

describe.skipIf(!helperPath)('HelperClient with the real helper', () => {
  let client: HelperClient;
  beforeAll(() => {
    client = HelperClient.spawn(helperPath!);
  });
  afterAll(async () => {
    await client.close();
  });

  it('reports protocol 1 and its limits', async () => {
    expect(await client.info()).toMatchObject({
      protocolVersion: 1,
      maxRequestBody: 1 << 20,
      maxResponseBody: 16 << 20,
      maxChainLength: 1 << 26,
      maxChainDistance: 64,
    });
  });

  it('uses portable SHA-256 when BITMESH_HELPER_PORTABLE_SHA is set', async () => {
    const portable = HelperClient.spawn(helperPath!, { env: { ...process.env, BITMESH_HELPER_PORTABLE_SHA: '1' } });
    try {
      expect((await portable.info()).hardwareSha256).toBe(false);
      expect(await runHelperSelfTest(portable)).toBeNull();
    } finally {
      await portable.close();
    }
  });

  it('answers every BIP340 and NIST SHA-256 vector', async () => {
    expect(await runHelperSelfTest(client)).toBeNull();
  });

  it('sends calls made in the same tick as one BATCH frame', async () => {
    const before = client.stats;
    const inputs = Array.from({ length: 500 }, (_, i) => Uint8Array.of(i & 0xff, i >> 8));
    const got = await Promise.all(inputs.map((d) => client.sha256(d)));
    expect(got).toEqual(inputs.map((d) => sha256(d)));
    expect(client.stats.framesSent - before.framesSent).toBe(1);
    expect(client.stats.requestsSent - before.requestsSent).toBe(500);
  });

  it('splits a batch that would pass the frame cap and still answers in order', async () => {
    const before = client.stats.framesSent;
    const big = [0, 1, 2].map((i) => new Uint8Array(MAX_REQUEST_BODY / 2).fill(i));
    const got = await Promise.all(big.map((d) => client.sha256(d)));
    expect(got).toEqual(big.map((d) => sha256(d)));
    expect(client.stats.framesSent - before).toBeGreaterThanOrEqual(2);
  });

  it('splits answer-heavy batches so the helper never runs out of answer room', async () => {
    const seed = new Uint8Array(32).fill(5);
    const before = client.stats.framesSent;
    const got = await Promise.all(Array.from({ length: 17 }, () => client.hashChain(seed, 32768, 1)));
    expect(got.every((r) => r.checkpoints.length === 32768)).toBe(true);
    const ref = hashChainSync(seed, 32768, 1);
    expect(got[16]!.anchor).toEqual(ref.anchor);
    for (const i of [0, 1, 16383, 32767]) expect(got[16]!.checkpoints[i]).toEqual(ref.checkpoints[i]);
    expect(client.stats.framesSent - before).toBe(2);
  });

  it('hashes a 1 MiB - 10 byte buffer (the largest one frame carries)', async () => {
    const d = new Uint8Array(MAX_REQUEST_BODY - 10).fill(0x61);
    expect(await client.sha256(d)).toEqual(sha256(d));
    await expect(client.sha256(new Uint8Array(MAX_REQUEST_BODY))).rejects.toBeInstanceOf(HelperArgumentError);
  });

  it('builds hash chains with checkpoints exactly as the JS reference does', async () => {
    const seed = sha256(Uint8Array.of(1, 2, 3));
    for (const [n, k] of [[0, 0], [1, 1], [1000, 7], [4096, 1024], [100, 0], [5, 9]] as const) {
      expect(await client.hashChain(seed, n, k)).toEqual(hashChainSync(seed, n, k));
    }
  });

  it('verifies chain steps up to the distance asked, not past it', async () => {
    const w = sha256(Uint8Array.of(9));
    let anchor = w;
    for (let i = 0; i < 10; i++) anchor = sha256(anchor);
    expect(await client.verifyChainStep(anchor, w, 64)).toBe(10);
    expect(await client.verifyChainStep(anchor, w, 9)).toBeNull();
    expect(await client.verifyChainStep(anchor, anchor, 64)).toBeNull();
    await expect(client.verifyChainStep(anchor, w, 65)).rejects.toBeInstanceOf(HelperArgumentError);
  });

  it('refuses secret keys 0 and n with a typed error, and keeps serving', async () => {
    const zero = new Uint8Array(32);
    for (const sk of [zero, CURVE_N]) {
      await expect(client.schnorrPublicKey(sk)).rejects.toMatchObject({ code: 'helper-bad-key' });
      await expect(client.schnorrSign(zero, sk, zero)).rejects.toBeInstanceOf(HelperRejectedError);
      await expect(client.ecdsaSign(zero, sk)).rejects.toBeInstanceOf(HelperRejectedError);
    }
    expect(client.state).toBe('running');
    expect(await client.sha256(new Uint8Array(0))).toEqual(sha256(new Uint8Array(0)));
  });

  it('one bad key in a batch fails only its own call', async () => {
    const sk = new Uint8Array(32).fill(1);
    const [a, b, c] = await Promise.allSettled([
      client.schnorrPublicKey(sk),
      client.schnorrPublicKey(new Uint8Array(32)),
      client.ecdsaSign(new Uint8Array(32), sk),
    ]);
    expect(a.status).toBe('fulfilled');
    expect(b.status).toBe('rejected');
    expect(c.status).toBe('fulfilled');
  });

  it('checks argument sizes before sending, and treats malformed sigs as invalid', async () => {
    const before = client.stats.requestsSent;
    await expect(client.schnorrSign(new Uint8Array(32), new Uint8Array(31), new Uint8Array(32))).rejects.toThrow(
      /"secretKey" expected Uint8Array of length 32, got length=31/,
    );
    await expect(client.ecdsaSign(new Uint8Array(31), new Uint8Array(32))).rejects.toBeInstanceOf(HelperArgumentError);
    expect(await client.schnorrVerify(new Uint8Array(63), new Uint8Array(32), new Uint8Array(32))).toBe(false);
    expect(await client.ecdsaVerify(new Uint8Array(64), new Uint8Array(32), new Uint8Array(65))).toBe(false);
    expect(client.stats.requestsSent).toBe(before);
  });
});

/** Talks to a helper with raw bytes and collects answer frames. */
class RawPeer {
  readonly child: ChildProcess;
  readonly frames: ResponseFrame[] = [];
  readonly exited: Promise<{ code: number | null; signal: string | null }>;
  readonly #decoder = new FrameDecoder();
  #waiters: (() => void)[] = [];

  constructor(path: string) {
    this.child = spawn(path, [], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (c: Buffer) => {
      this.frames.push(...this.#decoder.push(new Uint8Array(c)));
      for (const w of this.#waiters) w();
    });
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
  }

  write(bytes: Uint8Array): void {
    this.child.stdin!.write(bytes);
  }

  async waitFor(n: number): Promise<ResponseFrame[]> {
    while (this.frames.length < n) await new Promise<void>((r) => this.#waiters.push(r));
    return this.frames.slice(0, n);
  }
}

function lengthOnly(len: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(4 + body.length);
  writeU32(out, 0, len);
  out.set(body, 4);
  return out;
}

function batchItem(op: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(5 + payload.length);
  writeU32(out, 0, 1 + payload.length);
  out[4] = op;
  out.set(payload, 5);
  return out;
}

const binaries: [string, string | null][] = [
  ['release', helperPath],
  ['ASan+UBSan', asanPath],
];

describe.each(binaries)('the %s helper given broken input', (_name, path) => {
  it.skipIf(!path)('answers each bad frame with an error frame and stays in sync', async () => {
    const peer = new RawPeer(path!);
    const oversize = new Uint8Array(4 + MAX_REQUEST_BODY + 1);
    writeU32(oversize, 0, MAX_REQUEST_BODY + 1);
    oversize[4] = Op.SHA256;
    writeU32(oversize, 5, 10);
    const nestedBatch = encodeBatch(0, [{ op: Op.SHA256, payload: new Uint8Array(0) }]).subarray(4);
    peer.write(lengthOnly(2, Uint8Array.of(1, 2))); // shorter than a header
    peer.write(encodeFrame(0x55 as Op, 7, new Uint8Array(0))); // unknown opcode
    peer.write(encodeFrame(Op.SHA256, 8, Uint8Array.of(0x61, 0x62, 0x63)));
    peer.write(encodeFrame(Op.CHAIN_VERIFY, 9, new Uint8Array(10))); // payload too short
    peer.write(oversize);
    peer.write(encodeFrame(Op.BATCH, 11, Uint8Array.of(0, 0, 0, 9, 1))); // item runs past the end
    peer.write(
      encodeFrame(
        Op.BATCH,
        12,
        Uint8Array.from([
          ...batchItem(Op.BATCH, nestedBatch.subarray(5)),
          ...batchItem(0x77, new Uint8Array(3)),
          ...batchItem(Op.SCHNORR_PUB, new Uint8Array(32)),
          ...batchItem(Op.SHA256, new Uint8Array(0)),
        ]),
      ),
    );
    peer.write(encodeFrame(Op.CHAIN_GEN, 13, chainGenPayload(new Uint8Array(32), 2 ** 26 + 1, 0)));
    peer.write(encodeFrame(Op.CHAIN_GEN, 14, chainGenPayload(new Uint8Array(32), 2 ** 20, 1)));
    peer.write(encodeFrame(Op.ECDSA_VERIFY, 15, new Uint8Array(128)));
    peer.write(encodeFrame(Op.INFO, 16, new Uint8Array(0)));
    const f = await peer.waitFor(11);
    expect(f.map((x) => [x.id, x.status])).toEqual([
      [0, Status.BAD_FRAME],
      [7, Status.UNKNOWN_OP],
      [8, Status.OK],
      [9, Status.BAD_LENGTH],
      [10, Status.TOO_LARGE],
      [11, Status.BAD_LENGTH],
      [12, Status.OK],
      [13, Status.BAD_PARAM],
      [14, Status.BAD_PARAM],
      [15, Status.BAD_LENGTH],
      [16, Status.OK],
    ]);
    expect(f[2]!.payload).toEqual(sha256(Uint8Array.of(0x61, 0x62, 0x63)));
    for (const bad of [f[0]!, f[1]!, f[3]!, f[4]!]) expect(bad.payload.length).toBe(0);
    // BATCH items: nested batch, unknown op, bad key each fail alone; the hash still comes back.
    expect([...f[6]!.payload]).toEqual([
      ...[0, 0, 0, 1, Status.NESTED_BATCH],
      ...[0, 0, 0, 1, Status.UNKNOWN_OP],
      ...[0, 0, 0, 1, Status.BAD_KEY],
      ...[0, 0, 0, 33, Status.OK, ...sha256(new Uint8Array(0))],
    ]);
    expect(peer.child.exitCode).toBeNull();
    peer.child.stdin!.end();
    expect(await peer.exited).toEqual({ code: 0, signal: null });
  });

  it.skipIf(!path)('marks BATCH items past the 16 MiB answer cap RESPONSE_FULL, and the rest still run', async () => {
    const peer = new RawPeer(path!);
    const item = batchItem(Op.CHAIN_GEN, chainGenPayload(new Uint8Array(32), 32768, 1)); // 1 MiB answer each
    peer.write(encodeFrame(Op.BATCH, 1, Uint8Array.from({ length: 17 * item.length }, (_, i) => item[i % item.length]!)));
    const [f] = await peer.waitFor(1);
    expect(f!.status).toBe(Status.OK);
    expect(f!.payload.length + 5).toBeLessThanOrEqual(16 << 20);
    const statuses: number[] = [];
    for (let off = 0; off < f!.payload.length; ) {
      const len = (f!.payload[off]! << 24) | (f!.payload[off + 1]! << 16) | (f!.payload[off + 2]! << 8) | f!.payload[off + 3]!;
      statuses.push(f!.payload[off + 4]!);
      off += 4 + len;
    }
    expect(statuses).toEqual([...Array(15).fill(Status.OK), Status.RESPONSE_FULL, Status.RESPONSE_FULL]);
    peer.child.stdin!.end();
    expect(await peer.exited).toEqual({ code: 0, signal: null });
  });

  it.skipIf(!path)('exits cleanly (code 3, no signal) when input ends inside a frame', async () => {
    const peer = new RawPeer(path!);
    peer.write(encodeFrame(Op.SHA256, 1, new Uint8Array(100)).subarray(0, 50));
    peer.child.stdin!.end();
    expect(await peer.exited).toEqual({ code: 3, signal: null });
    expect(peer.frames).toEqual([]);
  });
});

describe.skipIf(!helperPath)('helper death', () => {
  it('rejects every pending call with HelperDeadError when killed mid-batch, then refuses new ones', async () => {
    const client = HelperClient.spawn(helperPath!);
    const deaths: string[] = [];
    client.on('dead', (r) => deaths.push(r));
    const seed = new Uint8Array(32).fill(3);
    // Enough work that the helper is still busy when the kill lands.
    const pending = Array.from({ length: 200 }, () => client.hashChain(seed, 1 << 16, 0));
    await new Promise((r) => setTimeout(r, 20));
    expect(client.stats.framesSent).toBe(1);
    process.kill(client.pid!, 'SIGKILL');
    const results = await Promise.allSettled(pending);
    expect(results.every((r) => r.status === 'rejected' && r.reason instanceof HelperDeadError)).toBe(true);
    expect(client.state).toBe('dead');
    expect(deaths).toHaveLength(1);
    expect(deaths[0]).toMatch(/signal SIGKILL/);
    await expect(client.sha256(new Uint8Array(1))).rejects.toBeInstanceOf(HelperDeadError);
  });
});

describe('fake helpers', () => {
  it('a helper that never answers times out: HelperTimeoutError, process killed', async () => {
    const client = fakeHelper('cat > /dev/null', 150);
    const exited = new Promise((r) => client.once('dead', r));
    const err = await client.sha256(new Uint8Array(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelperTimeoutError);
    expect(err).toBeInstanceOf(HelperUnavailableError);
    await exited;
    expect(client.state).toBe('dead');
  });

  it.skipIf(!helperPath)('a frame queued behind slow work gets its own budget after that work is due', async () => {
    // Real helper, portable SHA-256: a 2^21 chain (~1 s) in one frame, then a quick hash in
    // the next tick's frame, with a 300 ms base deadline. The hash waits behind the chain
    // yet must not time out.
    const env = { ...process.env, BITMESH_HELPER_PORTABLE_SHA: '1' };
    const client = HelperClient.spawn(helperPath!, { timeoutMs: 300, chainHashMs: 0.01, env });
    try {
      const chain = client.hashChain(new Uint8Array(32), 1 << 21, 0);
      await new Promise((r) => setImmediate(r));
      const hash = client.sha256(Uint8Array.of(1));
      expect(client.stats.framesSent).toBe(1);
      await expect(Promise.all([chain, hash])).resolves.toHaveLength(2);
      expect(client.stats.framesSent).toBe(2);
    } finally {
      await client.close();
    }
  });

  it('a helper that sends a bad frame is dropped as dead', async () => {
    const client = fakeHelper("printf '\\000\\000\\000\\001x'; cat > /dev/null");
    const err = await client.sha256(new Uint8Array(1)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HelperDeadError);
    expect(client.deathReason).toMatch(/broke the protocol: response frame length 1/);
  });

  it('a missing binary is a dead helper, not a crash', async () => {
    const client = HelperClient.spawn('/nonexistent/bitmesh-helper');
    await expect(client.sha256(new Uint8Array(1))).rejects.toBeInstanceOf(HelperDeadError);
    expect(client.deathReason).toMatch(/ENOENT/);
  });

  it('closing a helper that never started does not hang', async () => {
    const client = HelperClient.spawn('/nonexistent/bitmesh-helper');
    await client.close();
    expect(client.state).toBe('dead');
  });

  it('a helper answering the wrong size is dropped as dead', async () => {
    // Answers any request with a 5-byte OK frame for id 1: too short for a SHA-256.
    const client = fakeHelper("head -c 10 > /dev/null; printf '\\000\\000\\000\\005\\000\\000\\000\\000\\001'; cat > /dev/null");
    await expect(client.sha256(new Uint8Array(1))).rejects.toBeInstanceOf(HelperDeadError);
    expect(client.deathReason).toMatch(/answered 0 bytes, expected 32/);
  });
});
