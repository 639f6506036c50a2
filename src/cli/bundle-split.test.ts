// The two built files (scripts/build.mjs; vitest's global setup builds them): a router
// runs dist/bitmesh.js alone, a laptop has dist/bitmesh-dev.js beside it, and the agent
// finds that file next to the bundle, wherever it is installed and whatever the cwd.
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import { copyFile, mkdtemp, stat, writeFile } from 'node:fs/promises';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { killChild } from '../os/kill-child.js';

const DIST = path.resolve('dist');

/** A directory holding copies of the given dist files, as an install would. */
async function install(files: readonly string[]): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-install-'));
  for (const f of [...files, 'package.json']) await copyFile(path.join(DIST, f), path.join(dir, f));
  return dir;
}

function freeTcpPort(): Promise<number> {
  return new Promise((resolve) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

const children: ChildProcess[] = [];
afterEach(() => {
  for (const c of children.splice(0)) killChild(c, 'SIGKILL');
});

/** Runs `node <bundle> args…` from an unrelated cwd; resolves with exit code and output. */
function run(bundle: string, args: readonly string[]): Promise<{ code: number | null; out: string }> {
  return new Promise((resolve) => {
    const c = spawn(process.execPath, [bundle, ...args], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(c);
    let out = '';
    c.stdout.on('data', (d: Buffer) => (out += d.toString()));
    c.stderr.on('data', (d: Buffer) => (out += d.toString()));
    c.on('exit', (code) => resolve({ code, out }));
  });
}

/** Starts `bitmesh agent` with a config beaconing to a UDP listener; resolves on its first HELLO. */
async function startAgent(bundle: string, chainLines: string): Promise<{ child: ChildProcess; output: () => string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-split-'));
  const listener = dgram.createSocket('udp4');
  await new Promise<void>((r) => listener.bind(0, '127.0.0.1', r));
  const port = await new Promise<number>((resolve) => {
    const s = dgram.createSocket('udp4');
    s.bind(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
  const conf = path.join(dir, 'bitmesh.conf');
  await writeFile(
    conf,
    `config agent 'main'\n\toption state_dir '${dir}'\n\toption log_level 'info'\n` +
      `config mesh 'mesh'\n\toption bind_address '127.0.0.1'\n\toption port '${port}'\n\tlist peer '127.0.0.1:${listener.address().port}'\n` +
      `config dataplane 'dataplane'\n\toption backend 'none'\n` +
      chainLines,
  );
  const child = spawn(process.execPath, [bundle, 'agent', '--config', conf], { cwd: tmpdir(), stdio: ['ignore', 'pipe', 'pipe'] });
  children.push(child);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr?.on('data', (d: Buffer) => (out += d.toString()));
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no HELLO within 15 s:\n${out}`)), 15_000);
      listener.once('message', () => {
        clearTimeout(timer);
        resolve();
      });
      child.once('exit', (code) => reject(new Error(`agent exited with ${code}:\n${out}`)));
    });
  } finally {
    listener.close();
  }
  return { child, output: () => out };
}

async function tipHeight(url: string): Promise<number | undefined> {
  try {
    const res = await fetch(`${url}/blocks/tip/height`, { signal: AbortSignal.timeout(1000) });
    return res.ok ? Number(await res.text()) : undefined;
  } catch {
    return undefined;
  }
}

describe('dist/bitmesh.js alone, as the OpenWrt package installs it', () => {
  it('runs the agent against an Esplora server without the development file', async () => {
    const dir = await install(['bitmesh.js']);
    const port = await freeTcpPort(); // nothing answers: the agent carries on without a chain
    const { child, output } = await startAgent(path.join(dir, 'bitmesh.js'), `config chain 'chain'\n\toption backend 'esplora'\n\toption esplora_url 'http://127.0.0.1:${port}'\n`);
    expect(child.exitCode).toBeNull();
    expect(output()).not.toContain('bitmesh-dev.js');
  });

  it('names the missing file for a development command, with exit status 1', async () => {
    const dir = await install(['bitmesh.js']);
    const r = await run(path.join(dir, 'bitmesh.js'), ['sim', '--nodes', '10', '--minutes', '1']);
    expect(r.code).toBe(1);
    expect(r.out).toContain('bitmesh sim: this needs bitmesh-dev.js');
  });

  it('lists the development commands, and names the missing file for their help and their use', async () => {
    const dir = await install(['bitmesh.js']);
    const list = await run(path.join(dir, 'bitmesh.js'), ['--help']);
    expect(list.code).toBe(0);
    for (const name of ['devchain', 'mgmt', 'fleet', 'sim']) expect(list.out).toMatch(new RegExp(`^  ${name} +\\S`, 'm'));
    const help = await run(path.join(dir, 'bitmesh.js'), ['fleet', '--help']);
    expect(help.code).toBe(1);
    expect(help.out).toContain('bitmesh fleet: this needs bitmesh-dev.js');
    const r = await run(path.join(dir, 'bitmesh.js'), ['mgmt', 'keygen', '--out', path.join(dir, 'operator.key')]);
    expect(r.code).toBe(1);
    expect(r.out).toContain('bitmesh mgmt: this needs bitmesh-dev.js');
  });

  it('stays within issue 2\'s 400 KB: the one file a router stores and parses', async () => {
    expect((await stat(path.join(DIST, 'bitmesh.js'))).size).toBeLessThanOrEqual(400_000);
  });
});

describe('dist/bitmesh.js with dist/bitmesh-dev.js beside it, as on a laptop', () => {
  it('an agent configured for the devchain starts one itself when none answers', async () => {
    const dir = await install(['bitmesh.js', 'bitmesh-dev.js']);
    const url = `http://127.0.0.1:${await freeTcpPort()}`;
    expect(await tipHeight(url)).toBeUndefined();
    const { child, output } = await startAgent(path.join(dir, 'bitmesh.js'), `config chain 'chain'\n\toption backend 'devchain'\n\toption esplora_url '${url}'\n`);
    // The chain service starts the devchain before the agent's first beacon.
    expect(await tipHeight(url)).toBeGreaterThanOrEqual(0);
    expect(output()).toContain('started an in-process devchain');
    const exited = new Promise((r) => child.once('exit', r));
    killChild(child, 'SIGTERM');
    await exited;
    expect(await tipHeight(url)).toBeUndefined();
  });

  it('runs the development commands from the second file', async () => {
    const dir = await install(['bitmesh.js', 'bitmesh-dev.js']);
    const help = await run(path.join(dir, 'bitmesh.js'), ['fleet', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('bitmesh fleet [--broker URL]');
    const r = await run(path.join(dir, 'bitmesh.js'), ['sim', '--nodes', '20', '--minutes', '1', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toHaveProperty('nodes', 20);
    const key = await run(path.join(dir, 'bitmesh.js'), ['mgmt', 'keygen', '--out', path.join(dir, 'operator.key'), '--json']);
    expect(key.code).toBe(0);
    expect(key.out).toMatch(/bm1/);
  });
});
