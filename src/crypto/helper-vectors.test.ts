// The embedded self-test tables must say exactly what the published vector files say.
// Files beside this test: see README-vectors.md for their sources and licenses.
import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { hexToBytes } from '@noble/hashes/utils.js';
import { BIP340_VECTORS, SHA256_VECTORS } from './helper-vectors.js';
import { nobleAsyncBackend } from './helper-async-backend.js';
import { runHelperSelfTest } from './select-backend.js';

const here = (name: string): string => new URL(name, import.meta.url).pathname;

describe('embedded vectors', () => {
  it('match bip340-test-vectors.csv row for row', () => {
    const lines = readFileSync(here('bip340-test-vectors.csv'), 'utf8').trim().split(/\r?\n/).slice(1);
    const rows = lines.map((l) => l.split(','));
    expect(BIP340_VECTORS.length).toBe(rows.length);
    rows.forEach((r, i) => {
      const v = BIP340_VECTORS[i]!;
      expect([v.index, v.secretKey, v.publicKey, v.auxRand, v.message, v.signature, v.valid]).toEqual([
        Number(r[0]),
        r[1]!.toLowerCase(),
        r[2]!.toLowerCase(),
        r[3]!.toLowerCase(),
        r[4]!.toLowerCase(),
        r[5]!.toLowerCase(),
        r[6] === 'TRUE',
      ]);
    });
  });

  it('match the non-slow entries of sha256-nist-vectors.json', () => {
    const file = JSON.parse(readFileSync(here('sha256-nist-vectors.json'), 'utf8')) as {
      vectors: { name: string; message_ascii: string; repeat: number; sha256: string; slow?: boolean }[];
    };
    const expected = file.vectors
      .filter((v) => !v.slow)
      .map((v) => ({ name: v.name, messageAscii: v.message_ascii, repeat: v.repeat, sha256: v.sha256 }));
    expect(SHA256_VECTORS).toEqual(expected);
  });

  it('all pass on noble, so a helper failure is the helper’s', async () => {
    expect(await runHelperSelfTest(nobleAsyncBackend)).toBeNull();
  });

  it('the self-test notices one wrong answer and names the vector', async () => {
    const liar = { ...nobleAsyncBackend, sha256: async () => new Uint8Array(32) };
    expect(await runHelperSelfTest(liar)).toMatch(/^vector \d+ \(SHA-256 abc/);
    const badVerify = { ...nobleAsyncBackend, schnorrVerify: async () => true };
    expect(await runHelperSelfTest(badVerify)).toMatch(/BIP340 #5 verify/);
  });

  it('include both outcomes and variable-length messages', () => {
    expect(BIP340_VECTORS.some((v) => !v.valid)).toBe(true);
    expect(new Set(BIP340_VECTORS.map((v) => hexToBytes(v.message).length)).size).toBeGreaterThan(2);
  });
});
