// NftProcess against a stand-in for `nft -j -i` (a small Node script that answers the
// way nft 1.0.6 does: errors with the echoed line on stderr, JSON lines on stdout), so
// the framing, errors, timeouts and restarts are tested without root.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { NftCommandError, NftInputError, NftProcessError } from './errors.js';
import { NftProcess } from './nft-process.js';

const FAKE = `
const rl = require('node:readline').createInterface({ input: process.stdin });
const meta = '{"metainfo": {"version": "1.0.6", "release_name": "x", "json_schema_version": 1}}';
const err = (line, msg) => process.stderr.write('Error: ' + msg + '\\n' + line + '\\n' + '^'.repeat(line.length) + '\\n');
rl.on('line', (line) => {
  if (/^bm_sync_\\d+$/.test(line)) return err(line, 'syntax error, unexpected newline, expecting string');
  if (line.startsWith('list counter ')) {
    const name = line.split(' ').at(-1);
    // Answer late on stdout, after the sentinel on stderr, as pipes may deliver it.
    return setTimeout(() => process.stdout.write('{"nftables": [' + meta + ', {"counter": {"family": "inet", "table": "bitmesh", "name": "' + name + '", "packets": 1, "bytes": 42}}]}\\n'), 20);
  }
  if (line.startsWith('list bad')) return process.stdout.write('{"nftables": []}\\n');
  if (line.startsWith('list missing')) return err(line, 'No such file or directory');
  if (line === 'hang') Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0); // blocks for good
  if (line === 'die') process.exit(3);
  if (line.startsWith('bad')) return err(line, 'Could not process rule: Invalid argument');
});
`;

function fake(): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'fake-nft-'));
  const file = path.join(dir, 'nft.cjs');
  writeFileSync(file, FAKE);
  return [process.execPath, file];
}

describe('NftProcess framing', () => {
  it('runs commands in order, reads JSON, reports nft errors with their text', async () => {
    const p = new NftProcess({ command: fake() });
    const results = await Promise.allSettled([p.exec('add quota x'), p.read('list counter inet bitmesh c1'), p.exec('bad rule'), p.read('list missing'), p.read('list counter inet bitmesh c2')]);
    expect(results[0].status).toBe('fulfilled');
    expect(results[1]).toMatchObject({ status: 'fulfilled', value: [{ kind: 'metainfo' }, { kind: 'counter', name: 'c1', bytes: 42 }] });
    expect(results[2]).toMatchObject({ status: 'rejected', reason: { code: NftCommandError.CODE } });
    expect(((results[2] as PromiseRejectedResult).reason as NftCommandError).stderr).toContain('Invalid argument');
    expect(((results[2] as PromiseRejectedResult).reason as NftCommandError).stderr).not.toContain('bm_sync');
    expect(results[3]).toMatchObject({ status: 'rejected', reason: { code: NftCommandError.CODE } });
    expect(results[4]).toMatchObject({ status: 'fulfilled', value: [{ kind: 'metainfo' }, { kind: 'counter', name: 'c2' }] });
    expect(p.spawned).toBe(1);
    await p.close();
  });

  it('rejects JSON of the wrong shape as a decode error', async () => {
    const p = new NftProcess({ command: fake() });
    await expect(p.read('list bad')).rejects.toMatchObject({ code: 'NFT_BAD_JSON' });
    await p.close();
  });

  it('kills a child that hangs and carries on with a new one', async () => {
    const lost: NftProcessError[] = [];
    const p = new NftProcess({ command: fake(), timeoutMs: 1500, onChildLost: (e) => lost.push(e) });
    await expect(p.exec('hang')).rejects.toMatchObject({ code: NftProcessError.CODE, reason: 'timeout' });
    await p.exec('add ok');
    expect(p.spawned).toBe(2);
    expect(lost.map((e) => e.reason)).toEqual(['timeout']);
    await p.close();
  });

  it('restarts after the child dies', async () => {
    const p = new NftProcess({ command: fake() });
    await expect(p.exec('die')).rejects.toMatchObject({ reason: 'exited' });
    await expect(p.read('list counter inet bitmesh c3')).resolves.toHaveLength(2);
    expect(p.spawned).toBe(2);
    await p.close();
    await expect(p.exec('add x')).rejects.toMatchObject({ reason: 'closed' });
  });

  it('fails a missing program with a spawn error', async () => {
    const p = new NftProcess({ command: ['/nonexistent/nft'] });
    await expect(p.exec('add x')).rejects.toMatchObject({ code: NftProcessError.CODE });
    await p.close();
  });

  it('refuses a command that is not exactly one line', async () => {
    const p = new NftProcess({ command: fake() });
    await expect(p.exec('add x\nflush ruleset')).rejects.toBeInstanceOf(NftInputError);
    await expect(p.exec('')).rejects.toBeInstanceOf(NftInputError);
    await p.close();
  });
});
