// Test harness: real agents as separate processes on loopback, each with its own
// config file and state dir, driven through the same control socket the CLI uses.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { controlRequest } from '../../src/agent/control-client.js';
import type { PeerReport, StatusReport } from '../../src/agent/agent.js';
import { killChild } from '../../src/os/kill-child.js';

export const BUNDLE = path.resolve('dist/bitmesh.js');

export { freePorts } from './free-ports.mjs';

export interface AgentSpec {
  readonly port: number;
  readonly peers: readonly number[];
  readonly role?: 'gateway' | 'client' | 'both';
  readonly extra?: string; // more UCI lines for the mesh section
}

export class AgentProcess {
  output = '';
  exitCode: number | null = null;
  readonly exited: Promise<number | null>;
  private constructor(
    readonly dir: string,
    readonly configPath: string,
    readonly socketPath: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => (this.output += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.output += d.toString()));
    this.exited = new Promise((resolve) => child.on('exit', (code) => resolve((this.exitCode = code))));
  }

  static async start(spec: AgentSpec): Promise<AgentProcess> {
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-agent-'));
    const configPath = path.join(dir, 'bitmesh.conf');
    await writeFile(configPath, agentConfig(dir, spec));
    const child = spawn(process.execPath, [BUNDLE, 'agent', '--config', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
    const a = new AgentProcess(dir, configPath, path.join(dir, 'bitmesh.sock'), child);
    await a.waitFor(async () => (await a.status()) !== undefined, 5000);
    return a;
  }

  async status(): Promise<StatusReport | undefined> {
    try {
      return (await controlRequest(this.socketPath, 'status', {}, 2000)) as StatusReport;
    } catch {
      return undefined;
    }
  }

  async peers(): Promise<PeerReport[]> {
    return (await controlRequest(this.socketPath, 'peers', {}, 2000)) as PeerReport[];
  }

  async waitFor(cond: () => Promise<boolean> | boolean, timeoutMs: number): Promise<number> {
    const t0 = Date.now();
    for (;;) {
      if (this.exitCode !== null) throw new Error(`agent exited with ${this.exitCode}:\n${this.output}`);
      if (await cond()) return Date.now() - t0;
      if (Date.now() - t0 > timeoutMs) throw new Error(`condition not met within ${timeoutMs} ms:\n${this.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<number | null> {
    if (this.exitCode === null) killChild(this.child, signal);
    return this.exited;
  }
}

export function agentConfig(dir: string, spec: AgentSpec): string {
  return `# written by scripts/testing/agent-process.ts
config agent 'main'
\toption role '${spec.role ?? 'both'}'
\toption state_dir '${dir}'
\toption log_level 'debug'

config mesh 'mesh'
\toption bind_address '127.0.0.1'
\toption port '${spec.port}'
\toption hello_interval_ms '500'
\toption neighbour_expiry_ms '2000'
${spec.peers.map((p) => `\tlist peer '127.0.0.1:${p}'`).join('\n')}
${spec.extra ?? ''}

config chain 'chain'
\toption backend 'none'
`;
}
