import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { COMMANDS, main } from './main.js';

async function runCli(...argv: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await main(argv, { out: (t) => out.push(t), err: (t) => err.push(t) });
  return { code, out: out.join('\n'), err: err.join('\n') };
}

describe('bitmesh CLI', () => {
  it('lists every command in its help', async () => {
    const r = await runCli('--help');
    expect(r.code).toBe(0);
    for (const c of COMMANDS) expect(r.out).toContain(c.name);
  });

  it.each(COMMANDS.map((c) => c.name))('%s --help prints usage, the common options and exits 0', async (name) => {
    const r = await runCli(name, '--help');
    expect(r.code).toBe(0);
    expect(r.out).toMatch(new RegExp(`^Usage: bitmesh ${name}`));
    expect(r.out).toContain('--state-dir');
    expect(r.out).toContain('--json');
  });

  it('refuses unknown commands and options with exit status 2', async () => {
    expect((await runCli('frobnicate')).code).toBe(2);
    const r = await runCli('status', '--frobnicate');
    expect(r.code).toBe(2);
    expect(r.err).toContain('Usage: bitmesh status');
  });

  it('checks option values: devchain --port out of range is a usage error', async () => {
    const r = await runCli('devchain', '--port', '70000', '--state-dir', tmpdir());
    expect(r.code).toBe(2);
    expect(r.err).toContain('--port expects an integer 0..65535');
  });

  it('id creates the key once and prints the same bm1 id after', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-cli-'));
    const conf = path.join(dir, 'none.conf'); // missing file: defaults
    const a = await runCli('id', '--config', conf, '--state-dir', dir);
    const b = await runCli('id', '--config', conf, '--state-dir', dir, '--json');
    expect(a.code).toBe(0);
    expect(a.out).toMatch(/^bm1[02-9ac-hj-np-z]{58}$/);
    expect(JSON.parse(b.out).id).toBe(a.out);
  });

  it('status without a running agent fails with a clear message', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-cli-'));
    const r = await runCli('status', '--config', path.join(dir, 'none.conf'), '--state-dir', dir);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(/cannot reach the agent.*is the agent running\?/);
  });

  it('a bad config file is refused with file, line, section and option', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-cli-'));
    const conf = path.join(dir, 'bitmesh');
    await writeFile(conf, "config agent 'main'\n\toption log_level 'loud'\n");
    const r = await runCli('id', '--config', conf, '--state-dir', dir);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${conf}:2: section 'main' option 'log_level'`);
  });
});
