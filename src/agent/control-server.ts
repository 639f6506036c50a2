// The local control socket: newline-delimited JSON over a unix socket, one request
// per line, `{"cmd":"status"}` → `{"ok":true,"result":…}` or `{"ok":false,"error":{code,message}}`.
// Requests are size-capped and connections counted, so a stuck or hostile local
// client cannot grow the agent's memory.
import net from 'node:net';
import { chmod, unlink } from 'node:fs/promises';
import { BitmeshError } from '../core/errors.js';

export const MAX_CONTROL_REQUEST_BYTES = 64 * 1024;
const MAX_CONNECTIONS = 16;

export type ControlHandler = (cmd: string, args: Record<string, unknown>) => Promise<unknown> | unknown;

export interface ControlResponse {
  readonly ok: boolean;
  readonly result?: unknown;
  readonly error?: { readonly code: string; readonly message: string };
}

export class ControlServer {
  #server: net.Server | undefined;
  readonly #conns = new Set<net.Socket>();

  constructor(
    private readonly socketPath: string,
    private readonly handle: ControlHandler,
  ) {}

  async start(): Promise<void> {
    await removeStaleSocket(this.socketPath);
    const server = net.createServer((c) => this.#accept(c));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.socketPath, () => resolve());
    });
    // Status includes earnings and channel state: owner and group only.
    await chmod(this.socketPath, 0o660);
  }

  #accept(c: net.Socket): void {
    if (this.#conns.size >= MAX_CONNECTIONS) {
      c.end(JSON.stringify(fail('busy', 'too many control connections')) + '\n');
      return;
    }
    this.#conns.add(c);
    c.on('close', () => this.#conns.delete(c));
    c.on('error', () => c.destroy());
    c.setTimeout(30_000, () => c.destroy());
    let buf = '';
    c.setEncoding('utf8');
    c.on('data', (chunk: string) => {
      buf += chunk;
      if (buf.length > MAX_CONTROL_REQUEST_BYTES) {
        c.end(JSON.stringify(fail('too_large', `request over ${MAX_CONTROL_REQUEST_BYTES} bytes`)) + '\n');
        return;
      }
      let nl: number;
      while ((nl = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        void this.#answer(line).then((resp) => {
          if (!c.destroyed) c.write(JSON.stringify(resp) + '\n');
        });
      }
    });
  }

  async #answer(line: string): Promise<ControlResponse> {
    let req: unknown;
    try {
      req = JSON.parse(line);
    } catch {
      return fail('bad_request', 'request is not JSON');
    }
    if (typeof req !== 'object' || req === null || typeof (req as { cmd?: unknown }).cmd !== 'string') {
      return fail('bad_request', 'expected {"cmd": "<command>", "args": {…}}');
    }
    const { cmd, args } = req as { cmd: string; args?: unknown };
    if (args !== undefined && (typeof args !== 'object' || args === null || Array.isArray(args))) {
      return fail('bad_request', 'args must be an object');
    }
    try {
      return { ok: true, result: await this.handle(cmd, (args ?? {}) as Record<string, unknown>) };
    } catch (e) {
      if (e instanceof BitmeshError) return fail(e.code, e.message);
      return fail('internal', e instanceof Error ? e.message : String(e));
    }
  }

  async close(): Promise<void> {
    for (const c of this.#conns) c.destroy();
    const server = this.#server;
    this.#server = undefined;
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
    await unlink(this.socketPath).catch(() => {});
  }
}

function fail(code: string, message: string): ControlResponse {
  return { ok: false, error: { code, message } };
}

/** A socket file left by a crashed agent is removed; a live agent's is not. */
async function removeStaleSocket(socketPath: string): Promise<void> {
  const alive = await new Promise<boolean>((resolve) => {
    const c = net.connect(socketPath);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
  if (alive) throw new ControlSocketInUse(socketPath);
  await unlink(socketPath).catch(() => {});
}

export class ControlSocketInUse extends BitmeshError {
  readonly blame = 'local' as const;
  constructor(socketPath: string) {
    super('already_running', `another agent is listening on ${socketPath}`);
  }
}
