// A real mosquitto (Debian package `mosquitto`, with `mosquitto-clients` for
// mosquitto_passwd) on a free loopback port, with a password file and an ACL that
// mirrors docs/mgmt.md: a node (user name = its node id) may write only its own
// topics and read only its own cmd; the operator may write cmd and read everything.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createConnection, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { isRunningChild, killChild } from '../../src/os/kill-child.js';

const exec = promisify(execFile);

export const OPERATOR_USER = 'operator';

/** Why the broker tests cannot run here, or undefined when they can. */
export async function mosquittoUnavailable(): Promise<string | undefined> {
  for (const bin of ['mosquitto', 'mosquitto_passwd']) {
    try {
      await exec('sh', ['-c', `command -v ${bin}`]);
    } catch {
      return 'mosquitto not installed';
    }
  }
  return undefined;
}

export async function freeTcpPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

export function aclFor(prefix = 'bitmesh'): string {
  return `# operator: send commands, watch everything
user ${OPERATOR_USER}
topic write ${prefix}/+/cmd
topic read ${prefix}/#

# every other user is a node whose user name is its node id
pattern write ${prefix}/%u/status
pattern write ${prefix}/%u/metrics
pattern write ${prefix}/%u/events
pattern write ${prefix}/%u/cmd/result
pattern read ${prefix}/%u/cmd
`;
}

export class Mosquitto {
  #child: ChildProcess | undefined;
  log = '';

  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  /** users: name → password. `debugLog`: the broker logs every packet (in `log`). */
  static async start(users: ReadonlyMap<string, string>, acl = aclFor(), opts: { debugLog?: boolean } = {}): Promise<Mosquitto> {
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-mosquitto-'));
    const passwd = path.join(dir, 'passwd');
    // One mosquitto_passwd run hashes the whole plain file in place (-U).
    await writeFile(passwd, [...users].map(([u, p]) => `${u}:${p}`).join('\n') + '\n', { mode: 0o600 });
    await exec('mosquitto_passwd', ['-U', passwd]);
    await writeFile(path.join(dir, 'acl'), acl);
    const port = await freeTcpPort();
    await writeFile(
      path.join(dir, 'mosquitto.conf'),
      [
        `listener ${port} 127.0.0.1`,
        'allow_anonymous false',
        `password_file ${passwd}`,
        `acl_file ${path.join(dir, 'acl')}`,
        'persistence false',
        // Run as root in CI: stay root, so the broker can read the 0700 temp dir.
        'user root',
        'max_keepalive 60',
        ...(opts.debugLog ? ['log_type all'] : []),
      ].join('\n') + '\n',
    );
    const m = new Mosquitto(dir, port);
    await m.resume();
    return m;
  }

  get running(): boolean {
    return this.#child !== undefined;
  }

  /** Start (again) on the same port. Retained messages are gone: persistence is off. */
  async resume(): Promise<void> {
    if (this.#child) return;
    const child = spawn('mosquitto', ['-c', path.join(this.dir, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout?.on('data', (d: Buffer) => (this.log += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (this.log += d.toString()));
    this.#child = child;
    const deadline = Date.now() + 5000;
    while (!(await canConnect(this.port))) {
      if (child.exitCode !== null || Date.now() > deadline) throw new Error(`mosquitto did not start:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Stop the broker (SIGTERM) and wait for it to exit. */
  async pause(): Promise<void> {
    const child = this.#child;
    this.#child = undefined;
    if (!child || !isRunningChild(child)) return;
    const exited = new Promise((r) => child.once('exit', r));
    killChild(child, 'SIGTERM');
    await exited;
  }

  async stop(): Promise<void> {
    await this.pause();
    await rm(this.dir, { recursive: true, force: true });
  }
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection({ host: '127.0.0.1', port }, () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}
