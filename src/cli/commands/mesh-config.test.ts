import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { defaultConfig } from '../../config/load.js';
import type { CommandContext } from '../command.js';
import { meshConfigCommand } from './mesh-config.js';

const SITE = path.resolve(import.meta.dirname, '../../../firmware/site.conf');

async function run(values: CommandContext['values']) {
  const out: string[] = [];
  const stateDir = await mkdtemp(path.join(tmpdir(), 'bitmesh-meshcfg-'));
  const ctx: CommandContext = {
    configPath: '/nonexistent',
    loadConfig: async () => defaultConfig({ agent: { stateDir } }),
    stateDir: (c) => c.agent.stateDir,
    json: false,
    values,
    positionals: [],
    out: (t) => out.push(t),
    err: () => {},
  };
  const code = await meshConfigCommand.run(ctx);
  return { code, out: out.join('\n') };
}

describe('bitmesh mesh-config', () => {
  it('prints the batch for the site file with the given address', async () => {
    const r = await run({ role: 'gateway', site: SITE, address: '100.64.7.9' });
    expect(r.code).toBe(0);
    expect(r.out).toContain("set network.bitmesh.ipaddr='100.64.7.9'");
    expect(r.out).toContain("set network.bat0.gw_mode='server'");
    expect(r.out).toContain("set firewall.bitmesh_control.dest_port='4270'");
    expect(r.out.endsWith('commit bitmesh')).toBe(true);
  });

  it('derives the address from the node key, the same on every run', async () => {
    const a = await run({ role: 'client', site: SITE });
    expect(a.out).toMatch(/set network\.bitmesh\.ipaddr='100\.(6[4-9]|[7-9]\d|1[01]\d|12[0-7])\.\d+\.\d+'/);
  });

  it('refuses a bad role, a missing site file and an address outside the prefix', async () => {
    await expect(run({ role: 'router', site: SITE })).rejects.toThrow(/--role expects gateway or client/);
    await expect(run({ role: 'client', site: '/nonexistent/site.conf' })).rejects.toThrow(/cannot read the site settings/);
    await expect(run({ role: 'client', site: SITE, address: '10.0.0.1' })).rejects.toThrow(/not a host address/);
  });
});
