import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { StateStore, WRITE_BURST } from './state-store.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-store-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('StateStore', () => {
  it('remove deletes the file and a write still waiting for its turn, so nothing comes back', async () => {
    const persisted: number[] = [];
    const s = new StateStore({ dir, minIntervalMs: 200, onPersisted: (_k, v) => persisted.push(v) });
    for (let v = 1; v <= WRITE_BURST; v++) s.write('payee-cd', v, { v });
    await s.flush();
    s.write('payee-cd', 99, { v: 99 }); // the burst is spent: this one waits ~200 ms
    await s.remove('payee-cd');
    await sleep(400);
    await s.flush();
    expect(await readdir(dir)).toEqual([]);
    expect(await s.read('payee-cd')).toBeUndefined();
    expect(persisted).not.toContain(99);
    await s.remove('never-written'); // no file: nothing to do, no error
  });

  it('writes atomically (no temp file left, mode 0600) and reads back', async () => {
    const persisted: [string, number][] = [];
    const s = new StateStore({ dir, minIntervalMs: 0, onPersisted: (k, v) => persisted.push([k, v]) });
    s.write('payee-ab', 1, { a: 1, big: '123456789012345678901' });
    await s.flush();
    expect(await s.read('payee-ab')).toEqual({ a: 1, big: '123456789012345678901' });
    expect(await readdir(dir)).toEqual(['payee-ab.json']);
    expect((await stat(path.join(dir, 'payee-ab.json'))).mode & 0o777).toBe(0o600);
    expect(persisted).toEqual([['payee-ab', 1]]);
    expect(await s.read('missing')).toBeUndefined();
  });

  it('bounds the write rate and coalesces: the newest snapshot wins', async () => {
    const persisted: number[] = [];
    const s = new StateStore({ dir, minIntervalMs: 100, onPersisted: (_k, v) => persisted.push(v) });
    const t0 = Date.now();
    let v = 0;
    while (Date.now() - t0 < 450) {
      s.write('ch', ++v, { v });
      await sleep(2);
    }
    await s.flush();
    const elapsed = Date.now() - t0;
    // ~225 snapshots offered, at most one write per 100 ms (+ the burst and the flush).
    expect(v).toBeGreaterThan(50);
    expect(s.writeCount).toBeLessThanOrEqual(Math.floor(elapsed / 100) + WRITE_BURST + 1);
    expect(s.writeCount).toBeGreaterThanOrEqual(3);
    expect(await s.read('ch')).toEqual({ v });
    expect(persisted[persisted.length - 1]).toBe(v);
    expect([...persisted].sort((a, b) => a - b)).toEqual(persisted);
  });

  it('a new key writes its first few snapshots at once, then one per interval', async () => {
    const persisted: number[] = [];
    let others = 0;
    const s = new StateStore({ dir, minIntervalMs: 60_000, onPersisted: (k, v) => (k === 'ch' ? persisted.push(v) : others++) });
    const t0 = Date.now();
    for (let v = 1; v <= WRITE_BURST; v++) {
      s.write('ch', v, { v });
      while (persisted.length < v) await sleep(2);
    }
    // The burst did not wait for the interval (a minute); the next write does.
    expect(Date.now() - t0).toBeLessThan(30_000);
    s.write('ch', WRITE_BURST + 1, { v: WRITE_BURST + 1 });
    await sleep(50);
    expect(persisted).toEqual(Array.from({ length: WRITE_BURST }, (_, i) => i + 1));
    expect(await s.read('ch')).toEqual({ v: WRITE_BURST });
    // Another key has its own burst.
    s.write('other', 1, { o: 1 });
    while (others < 1) await sleep(2);
    expect(Date.now() - t0).toBeLessThan(30_000);
    expect(await s.read('other')).toEqual({ o: 1 });
    await s.close();
    expect(await s.read('ch')).toEqual({ v: WRITE_BURST + 1 });
  });

  it('a key read back from flash (restored after a restart) has no burst: one write, then one per interval', async () => {
    const first = new StateStore({ dir, minIntervalMs: 0 });
    first.write('ch', 1, { v: 1 });
    await first.close();
    let done = 0;
    const s = new StateStore({ dir, minIntervalMs: 60_000, onPersisted: () => done++ });
    expect(await s.read('ch')).toEqual({ v: 1 });
    s.write('ch', 2, { v: 2 });
    while (done < 1) await sleep(2);
    s.write('ch', 3, { v: 3 });
    await sleep(50);
    expect(await s.read('ch')).toEqual({ v: 2 });
    await s.close();
    expect(await s.read('ch')).toEqual({ v: 3 });
  });

  it('flush on shutdown writes what is pending at once', async () => {
    let done = 0;
    const s = new StateStore({ dir, minIntervalMs: 60_000, onPersisted: () => done++ });
    for (let v = 1; v <= WRITE_BURST; v++) {
      s.write('k', v, { n: 1 });
      while (done < v) await sleep(2);
    }
    s.write('k', WRITE_BURST + 1, { n: 2 }); // held back by the interval
    await sleep(20);
    expect(await s.read('k')).toEqual({ n: 1 });
    await s.close();
    expect(await s.read('k')).toEqual({ n: 2 });
    expect(() => s.write('k', 3, {})).toThrow(/after close/);
  });

  it('a stale temp file from a power cut does not hide the last good snapshot', async () => {
    const s = new StateStore({ dir, minIntervalMs: 0 });
    s.write('k', 1, { good: true });
    await s.flush();
    await writeFile(path.join(dir, 'k.json.tmp'), '{"torn');
    expect(await s.read('k')).toEqual({ good: true });
    s.write('k', 2, { good: 2 });
    await s.flush();
    expect(JSON.parse(await readFile(path.join(dir, 'k.json'), 'utf8'))).toEqual({ good: 2 });
  });

  it('refuses unsafe keys and reports a corrupt file as a typed error', async () => {
    const s = new StateStore({ dir, minIntervalMs: 0 });
    expect(() => s.write('../etc/passwd', 1, {})).toThrow(/safe file name/);
    await writeFile(path.join(dir, 'bad.json'), 'not json');
    await expect(s.read('bad')).rejects.toMatchObject({ code: 'bad_state_file' });
  });
});
