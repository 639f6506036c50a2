// The rpcd plugin behind the LuCI page, run as rpcd runs it, with a stub `bitmesh`.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const PLUGIN = path.resolve(import.meta.dirname, '../../packages-openwrt/luci-app-bitmesh/root/usr/libexec/rpcd/luci.bitmesh');

function stub(body: string): string {
  const file = path.join(mkdtempSync(path.join(tmpdir(), 'bitmesh-rpcd-')), 'bitmesh');
  writeFileSync(file, `#!/bin/sh\n${body}\n`, { mode: 0o755 });
  return file;
}

const run = (bitmesh: string, ...args: string[]) => execFileSync('sh', [PLUGIN, ...args], { encoding: 'utf8', env: { PATH: '/usr/bin:/bin', BITMESH: bitmesh } });

describe('rpcd plugin luci.bitmesh', () => {
  it('lists its one method', () => {
    expect(JSON.parse(run('/nonexistent', 'list'))).toEqual({ overview: {} });
  });

  it('overview: status, peers and channels from the bitmesh command, as one object', () => {
    const bm = stub(`case "$1" in status) echo '{"node":{"id":"bm1x"}}';; peers) echo '[{"id":"bm1p"}]';; channels) echo '[]';; esac`);
    expect(JSON.parse(run(bm, 'call', 'overview'))).toEqual({ status: { node: { id: 'bm1x' } }, peers: [{ id: 'bm1p' }], channels: [] });
  });

  it('overview when the agent does not answer: status null and why', () => {
    const bm = stub('echo "bitmesh status: cannot reach the agent" >&2; exit 1');
    expect(JSON.parse(run(bm, 'call', 'overview'))).toEqual({ status: null, peers: [], channels: [], error: 'the BitMesh agent is not running' });
  });
});
