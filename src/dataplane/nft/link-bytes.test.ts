import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { linkBytesReader } from './link-bytes.js';

describe('link byte counters', () => {
  it('sums rx and tx of the interfaces, and follows them', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'bitmesh-sysnet-'));
    const set = async (i: string, rx: number, tx: number) => {
      await mkdir(path.join(root, i, 'statistics'), { recursive: true });
      await writeFile(path.join(root, i, 'statistics', 'rx_bytes'), `${rx}\n`);
      await writeFile(path.join(root, i, 'statistics', 'tx_bytes'), `${tx}\n`);
    };
    await set('bat0', 1000, 200);
    await set('mesh1', 5, 7);
    const read = linkBytesReader(['bat0', 'mesh1'], root);
    expect(read()).toBe(1212);
    await set('bat0', 70_000, 300);
    expect(read()).toBe(70_312);
    // One unreadable (absent, or junk in the file): unknown, not a wrong number.
    expect(linkBytesReader(['bat0', 'gone0'], root)()).toBeUndefined();
    await writeFile(path.join(root, 'mesh1', 'statistics', 'rx_bytes'), 'x\n');
    expect(read()).toBeUndefined();
  });

  it('refuses names that would leave the directory, and an empty list', () => {
    expect(linkBytesReader(['../../etc'])()).toBeUndefined();
    expect(linkBytesReader(['..'])()).toBeUndefined();
    expect(linkBytesReader([])()).toBeUndefined();
  });
});
