import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { sha256 } from '@noble/hashes/sha2.js';
import { hexToBytes } from '@noble/hashes/utils.js';
import { AsyncCrypto, findHelper, selectCryptoBackend } from './select-backend.js';
import { HelperRejectedError } from './helper-errors.js';
import { BIP340_VECTORS } from './helper-vectors.js';
import { ensureHelperBinary } from './helper-test-binary.js';

const helperPath = ensureHelperBinary();

// A helper that speaks the protocol but answers every request with zeros of the right size.
const ZERO_HELPER = `#!/usr/bin/env node
const sizes = { 0: 15, 1: 32, 2: 32, 3: 1, 4: 32, 5: 64, 6: 1, 7: 64, 8: 1 };
let buf = Buffer.alloc(0);
const u32 = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const answer = (op) => op === 0 ? Buffer.from([1, 0, 16, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 64, 0]) : Buffer.alloc(sizes[op] ?? 0);
process.stdin.on('data', (c) => {
  buf = Buffer.concat([buf, c]);
  while (buf.length >= 4 && buf.length >= 4 + buf.readUInt32BE(0)) {
    const len = buf.readUInt32BE(0), op = buf[4], id = buf.readUInt32BE(5), p = buf.subarray(9, 4 + len);
    buf = buf.subarray(4 + len);
    let out;
    if (op === 9) {
      const items = [];
      for (let o = 0; o < p.length; o += 4 + p.readUInt32BE(o)) { const a = answer(p[o + 4]); items.push(u32(1 + a.length), Buffer.from([0]), a); }
      out = Buffer.concat(items);
    } else out = answer(op);
    process.stdout.write(Buffer.concat([u32(5 + out.length), Buffer.from([0]), u32(id), out]));
  }
});
`;

describe('findHelper', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bm-find-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('names the configured path it could not find', async () => {
    expect(findHelper({ helperPath: join(dir, 'nope') })).toEqual({ missing: `helper not found at ${join(dir, 'nope')}` });
    const sel = await selectCryptoBackend({ helperPath: join(dir, 'nope') });
    expect(sel).toEqual({ backend: 'noble', reason: `helper not found at ${join(dir, 'nope')}` });
  });

  it('searches PATH-style lists and skips files that are not executable', () => {
    const plain = join(dir, 'bitmesh-helper');
    writeFileSync(plain, 'not a program');
    chmodSync(plain, 0o644);
    expect(findHelper({ searchPath: `${dir}:/nonexistent` })).toMatchObject({ missing: expect.stringContaining('not found') });
    chmodSync(plain, 0o755);
    expect(findHelper({ searchPath: `/nonexistent:${dir}` })).toBe(plain);
  });
});

describe('selectCryptoBackend', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'bm-select-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('stays on noble when the helper answers a vector wrongly, and says which', async () => {
    const fake = join(dir, 'zero-helper');
    writeFileSync(fake, ZERO_HELPER);
    chmodSync(fake, 0o755);
    const sel = await selectCryptoBackend({ helperPath: fake });
    expect(sel.backend).toBe('noble');
    expect(sel.reason).toBe(`helper ${fake} failed vector 0 (BIP340 #0 pubkey)`);
    expect(sel.helper).toBeUndefined();
  });

  it('stays on noble when the "helper" is not one at all', async () => {
    const sel = await selectCryptoBackend({ helperPath: '/bin/true' });
    expect(sel.backend).toBe('noble');
    expect(sel.reason).toMatch(/^helper \/bin\/true unusable: helper (exited|stdin)/);
  });

  it.skipIf(!helperPath)('picks the real helper found on the search path when it is right and faster', async () => {
    const sel = await selectCryptoBackend({ searchPath: dirname(helperPath!) });
    try {
      expect(sel.backend).toBe('helper');
      expect(sel.reason).toMatch(/passed 24 vectors; 16 schnorr verifies: helper [\d.]+ ms vs noble [\d.]+ ms/);
      expect(sel.helper?.state).toBe('running');
    } finally {
      await sel.helper?.close();
    }
  });

  it.skipIf(!helperPath)('stays on noble when the helper is slower, with both figures', async () => {
    // A clock that makes the helper's batch take 100 ms and noble's loop 1 ms.
    const ticks = [0, 100, 100, 101];
    const sel = await selectCryptoBackend({ helperPath: helperPath!, now: () => ticks.shift() ?? 101 });
    expect(sel).toEqual({ backend: 'noble', reason: 'helper slower: 16 schnorr verifies: helper 100.00 ms vs noble 1.00 ms' });
  });
});

describe.skipIf(!helperPath)('AsyncCrypto', () => {
  const valid = BIP340_VECTORS.filter((v) => v.valid && v.message.length === 64);
  const items = Array.from({ length: 40 }, (_, i) => {
    const v = valid[i % valid.length]!;
    return { sig: hexToBytes(v.signature), msg: hexToBytes(v.message), publicKeyX: hexToBytes(v.publicKey) };
  });

  it('falls back to noble when the helper is killed mid-batch, and the calls still succeed', async () => {
    const sel = await selectCryptoBackend({ helperPath: helperPath! });
    expect(sel.backend).toBe('helper');
    const fallbacks: string[] = [];
    const ac = new AsyncCrypto(sel, { onFallback: (r) => fallbacks.push(r) });
    expect(ac.choice.name).toBe('helper');
    const chains = Array.from({ length: 4 }, () => ac.hashChain(new Uint8Array(32).fill(9), 1 << 15, 0));
    const verifies = ac.schnorrVerifyBatch(items);
    // The client flushes in a setImmediate queued before this one: the batch is on the pipe,
    // and 131k hashes later than any answer could be.
    await new Promise((r) => setImmediate(r));
    expect(sel.helper!.stats.framesSent).toBeGreaterThan(1); // INFO, vectors, timing, and ours
    process.kill(sel.helper!.pid!, 'SIGKILL');
    expect(await verifies).toEqual(items.map(() => true));
    const [first] = await Promise.all(chains);
    let expected = new Uint8Array(32).fill(9);
    for (let i = 0; i < 1 << 15; i++) expected = sha256(expected);
    expect(first!.anchor).toEqual(expected);
    expect(ac.choice.name).toBe('noble');
    expect(ac.choice.reason).toMatch(/^helper died: helper exited \(code null, signal SIGKILL\)/);
    expect(fallbacks).toHaveLength(1);
  });

  it('passes a refused call through without giving up on the helper', async () => {
    const sel = await selectCryptoBackend({ helperPath: helperPath! });
    const ac = new AsyncCrypto(sel);
    try {
      await expect(ac.schnorrPublicKey(new Uint8Array(32))).rejects.toBeInstanceOf(HelperRejectedError);
      expect(ac.choice.name).toBe('helper');
      expect(await ac.sha256(Uint8Array.of(1))).toEqual(sha256(Uint8Array.of(1)));
    } finally {
      await sel.helper?.close();
    }
  });

  it('serves from noble when noble was selected', async () => {
    const ac = new AsyncCrypto({ backend: 'noble', reason: 'helper not found at /x' });
    expect(ac.choice).toEqual({ name: 'noble', reason: 'helper not found at /x' });
    expect(await ac.verifyChainStep(sha256(new Uint8Array(32)), new Uint8Array(32), 1)).toBe(1);
  });
});
