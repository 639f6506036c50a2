import { describe, it, expect, beforeEach, afterEach } from 'vitest';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config/load.js';
import { writeConfigOption } from './config-option.js';
import { MgmtError } from './errors.js';

let dir: string;
let file: string;
const ORIGINAL = `# my router
config agent 'main'
\toption role 'gateway'

config market 'market'
\toption price_msat_per_kib '100'
`;

beforeEach(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-cfgopt-'));
  file = path.join(dir, 'bitmesh');
  await writeFile(file, ORIGINAL, { mode: 0o640 });
});
afterEach(async () => rm(dir, { recursive: true, force: true }));

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (e) {
    expect(e).toBeInstanceOf(MgmtError);
    return (e as MgmtError).code;
  }
}

describe('writeConfigOption', () => {
  it('writes a whitelisted option in place, keeping comments and the file mode', async () => {
    const w = await writeConfigOption(file, 'market', 'price_msat_per_kib', '250');
    expect(w.value).toBe(250);
    expect(w.config.market.priceMsatPerKib).toBe(250);
    const text = await readFile(file, 'utf8');
    expect(text).toContain('# my router');
    expect(text).toContain("option price_msat_per_kib '250'");
    expect((await loadConfig(file)).market.priceMsatPerKib).toBe(250);
    expect((await stat(file)).mode & 0o777).toBe(0o640);
  });

  it('adds a section that is not there yet', async () => {
    await writeConfigOption(file, 'mesh', 'hello_interval_ms', '2000');
    expect((await loadConfig(file)).mesh.helloIntervalMs).toBe(2000);
    expect((await loadConfig(file)).agent.role).toBe('gateway');
  });

  it('refuses options off the whitelist and invalid values, and changes nothing', async () => {
    expect(await codeOf(writeConfigOption(file, 'mesh', 'port', '1'))).toBe('refused');
    expect(await codeOf(writeConfigOption(file, 'mgmt', 'operator', 'x'))).toBe('refused');
    expect(await codeOf(writeConfigOption(file, 'nope', 'x', '1'))).toBe('refused');
    expect(await codeOf(writeConfigOption(file, 'market', 'price_msat_per_kib', '-1'))).toBe('bad_args');
    expect(await codeOf(writeConfigOption(file, 'market', 'price_msat_per_kib', 'abc'))).toBe('bad_args');
    expect(await codeOf(writeConfigOption(file, 'agent', 'log_level', 'loud'))).toBe('bad_args');
    expect(await readFile(file, 'utf8')).toBe(ORIGINAL);
  });

  it('refuses to write when the file on disk does not load, and leaves it as it was', async () => {
    const broken = ORIGINAL + "\nconfig mesh 'mesh'\n\toption prot '1'\n";
    await writeFile(file, broken);
    expect(await codeOf(writeConfigOption(file, 'market', 'price_msat_per_kib', '5'))).toBe('bad_args');
    expect(await readFile(file, 'utf8')).toBe(broken);
  });

  it('creates the file when there is none', async () => {
    const fresh = path.join(dir, 'new');
    await writeConfigOption(fresh, 'agent', 'log_level', 'debug');
    expect((await loadConfig(fresh)).agent.logLevel).toBe('debug');
  });
});
