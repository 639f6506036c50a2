// Client side of the nft data plane: the awarded gateway's mesh address becomes the
// default route. A pure builder of `ip` arguments and a small executor around it.

import { execFile } from 'node:child_process';
import { LocalError, RemoteError } from '../../core/errors.js';
import { addressOf, ifNameOf } from './nft-values.js';

/** `ip route` refused the change (no such device, gateway not on link, not root). */
export class ClientRouteError extends RemoteError {
  static readonly CODE = 'CLIENT_ROUTE_FAILED';
  constructor(
    readonly args: readonly string[],
    readonly stderr: string,
  ) {
    super(ClientRouteError.CODE, `ip ${args.join(' ')}: ${stderr.trim()}`);
  }
}

/** A gateway address or device that cannot be a route. */
export class ClientRouteInputError extends LocalError {
  static readonly CODE = 'CLIENT_ROUTE_BAD_INPUT';
  constructor(detail: string) {
    super(ClientRouteInputError.CODE, detail);
  }
}

function checked(gateway: string, dev: string): { family: 4 | 6; gw: string; dev: string } {
  try {
    const a = addressOf(gateway);
    return { family: a.family, gw: a.text, dev: ifNameOf(dev) };
  } catch (e) {
    throw new ClientRouteInputError((e as Error).message);
  }
}

/** `ip` arguments that make `gateway` on `dev` the default route of its family. */
export function defaultRouteArgs(gateway: string, dev: string): string[] {
  const r = checked(gateway, dev);
  return [`-${r.family}`, 'route', 'replace', 'default', 'via', r.gw, 'dev', r.dev];
}

/** `ip` arguments that remove the default route through `gateway` (switching away, shutdown). */
export function clearDefaultRouteArgs(gateway: string, dev: string): string[] {
  const r = checked(gateway, dev);
  return [`-${r.family}`, 'route', 'del', 'default', 'via', r.gw, 'dev', r.dev];
}

export type IpRunner = (args: readonly string[]) => Promise<void>;

/** Runs `ip` (or `prefix…` then the arguments, e.g. `ip netns exec ns ip`). */
export function ipRunner(prefix: readonly string[] = ['ip'], timeoutMs = 5_000): IpRunner {
  const [prog, ...pre] = prefix as [string, ...string[]];
  return (args) =>
    new Promise((resolve, reject) => {
      execFile(prog, [...pre, ...args], { timeout: timeoutMs }, (err, _stdout, stderr) => {
        if (err) reject(new ClientRouteError(args, stderr || err.message));
        else resolve();
      });
    });
}

/** Points the default route of the gateway's family at it. */
export async function useGateway(gateway: string, dev: string, run: IpRunner = ipRunner()): Promise<void> {
  await run(defaultRouteArgs(gateway, dev));
}

/** Removes the default route through the gateway; a route already gone is not an error. */
export async function leaveGateway(gateway: string, dev: string, run: IpRunner = ipRunner()): Promise<void> {
  try {
    await run(clearDefaultRouteArgs(gateway, dev));
  } catch (e) {
    if (!(e instanceof ClientRouteError && /No such process|not found/i.test(e.stderr))) throw e;
  }
}
