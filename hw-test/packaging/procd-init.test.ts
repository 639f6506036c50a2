// The init script under a harness of the procd shell functions (procd-harness.sh):
// start_service and service_triggers run, and every procd call is recorded and checked.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const HERE = import.meta.dirname;
const INIT = path.resolve(HERE, '../../packages-openwrt/bitmesh/files/bitmesh.init');

function runInit(memTotalKb: number): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'bitmesh-procd-'));
  const meminfo = path.join(dir, 'meminfo');
  writeFileSync(meminfo, `MemTotal:       ${memTotalKb} kB\nMemFree:         1000 kB\n`);
  const log = path.join(dir, 'calls');
  writeFileSync(log, '');
  execFileSync('sh', [path.join(HERE, 'procd-harness.sh'), log, INIT, meminfo, path.join(dir, 'state')]);
  return readFileSync(log, 'utf8').trimEnd().split('\n');
}

describe('/etc/init.d/bitmesh under procd', () => {
  const calls = runInit(249_420); // a 256 MB router

  it('is a procd script started late and stopped early', () => {
    expect(calls[0]).toBe('globals [USE_PROCD=1] [START=95] [STOP=10]');
  });

  it('registers one instance running the bundle under node with a heap limit', () => {
    const i = calls.indexOf('open_instance [agent]');
    const j = calls.indexOf('close_instance');
    expect(i).toBeGreaterThan(0);
    expect(j).toBeGreaterThan(i);
    const params = calls.slice(i + 1, j);
    expect(params).toEqual([
      'set_param [command] [/usr/bin/node] [--max-semi-space-size=1] [--v8-pool-size=1] [--no-concurrent-recompilation] [--max-old-space-size=60] [/usr/lib/bitmesh/bitmesh.js] [agent] [--config] [/etc/config/bitmesh]',
      'set_param [env] [NODE_ENV=production] [LC_ALL=C]',
      'set_param [respawn] [3600] [5] [0]',
      'set_param [stdout] [1]',
      'set_param [stderr] [1]',
      'set_param [file] [/etc/config/bitmesh]',
      'set_param [netdev] [bat0]',
      'set_param [limits] [core=0] [nofile=4096 4096]',
      'set_param [term_timeout] [15]',
    ]);
  });

  it('reloads on a change of its config and on events of the interface on bat0', () => {
    expect(calls.slice(calls.indexOf('close_instance') + 1)).toEqual([
      'add_reload_trigger [bitmesh]',
      'add_reload_interface_trigger [bitmesh]',
    ]);
  });

  it.each([
    [65_536, 48], // 64 MB: the floor
    [524_288, 128], // 512 MB: a quarter
    [4_194_304, 192], // 4 GB: the cap
  ])('heap limit for MemTotal %i kB is %i MB', (kb, mb) => {
    expect(runInit(kb).find((l) => l.startsWith('set_param [command]'))).toContain(`[--max-old-space-size=${mb}]`);
  });
});
