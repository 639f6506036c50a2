// The CLI's side of the control socket: one request, one response.
import net from 'node:net';
import { RemoteError } from '../core/errors.js';
import type { ControlResponse } from './control-server.js';

export class ControlError extends RemoteError {}

export async function controlRequest(
  socketPath: string,
  cmd: string,
  args: Record<string, unknown> = {},
  timeoutMs = 5000,
): Promise<unknown> {
  const line = await new Promise<string>((resolve, reject) => {
    const c = net.connect(socketPath);
    let buf = '';
    const timer = setTimeout(() => {
      c.destroy();
      reject(new ControlError('timeout', `no answer from the agent on ${socketPath} within ${timeoutMs} ms`));
    }, timeoutMs);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(JSON.stringify({ cmd, args }) + '\n'));
    c.on('data', (d: string) => {
      buf += d;
      const nl = buf.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        c.end();
        resolve(buf.slice(0, nl));
      }
    });
    c.on('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const why = e.code === 'ENOENT' || e.code === 'ECONNREFUSED' ? 'is the agent running?' : e.message;
      reject(new ControlError('not_running', `cannot reach the agent at ${socketPath}: ${why}`));
    });
  });
  let resp: ControlResponse;
  try {
    resp = JSON.parse(line) as ControlResponse;
  } catch {
    throw new ControlError('bad_response', 'the agent answered with something that is not JSON');
  }
  if (!resp.ok) throw new ControlError(resp.error?.code ?? 'error', resp.error?.message ?? 'request failed');
  return resp.result;
}
