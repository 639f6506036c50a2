// `bitmesh devchain [--port N] [--host H] [--state-dir D] [--block-interval-ms N]`:
// serve a devchain until SIGINT/SIGTERM (or `signal`), then save and exit.
import { homedir } from 'node:os';
import { join } from 'node:path';
import { DEVCHAIN_DEFAULT_HOST, DEVCHAIN_DEFAULT_PORT } from './constants.js';
import { startDevchain } from './server.js';

export const DEVCHAIN_USAGE = `usage: bitmesh devchain [--port N] [--host H] [--state-dir DIR] [--block-interval-ms N]
  --port N               TCP port on loopback (default ${DEVCHAIN_DEFAULT_PORT})
  --host H               listen address (default ${DEVCHAIN_DEFAULT_HOST})
  --state-dir DIR        where devchain.json is kept (default ~/.bitmesh/devchain)
  --block-interval-ms N  mine a block every N ms (default: only on POST /mine)`;

export interface DevchainCliArgs {
  readonly port: number;
  readonly host: string;
  readonly stateDir: string;
  readonly blockIntervalMs: number;
}

export function defaultDevchainStateDir(): string {
  return join(homedir(), '.bitmesh', 'devchain');
}

/** Parses argv (without the `devchain` word); throws a usage message on bad input. */
export function parseDevchainArgs(argv: readonly string[]): DevchainCliArgs | 'help' {
  const out = { port: DEVCHAIN_DEFAULT_PORT, host: DEVCHAIN_DEFAULT_HOST, stateDir: defaultDevchainStateDir(), blockIntervalMs: 0 };
  const int = (flag: string, v: string | undefined, max: number): number => {
    if (v === undefined || !/^[0-9]{1,10}$/.test(v) || Number(v) > max) throw new Error(`${flag} expects an integer 0..${max}\n${DEVCHAIN_USAGE}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.startsWith('--') && a.includes('=') ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)] : [a, undefined];
    const value = (): string | undefined => inline ?? argv[++i];
    switch (flag) {
      case '-h':
      case '--help':
        return 'help';
      case '--port':
        out.port = int(flag, value(), 65535);
        break;
      case '--host': {
        const v = value();
        if (!v) throw new Error(`--host expects an address\n${DEVCHAIN_USAGE}`);
        out.host = v;
        break;
      }
      case '--state-dir': {
        const v = value();
        if (!v) throw new Error(`--state-dir expects a directory\n${DEVCHAIN_USAGE}`);
        out.stateDir = v;
        break;
      }
      case '--block-interval-ms':
        out.blockIntervalMs = int(flag, value(), 86_400_000);
        break;
      default:
        throw new Error(`unknown argument ${JSON.stringify(a)}\n${DEVCHAIN_USAGE}`);
    }
  }
  return out;
}

export interface DevchainCliIo {
  readonly log?: (line: string) => void;
  readonly error?: (line: string) => void;
  /** Stops the devchain when aborted (tests); SIGINT/SIGTERM always do. */
  readonly signal?: AbortSignal;
}

/** Runs the devchain in the foreground; resolves with the process exit code. */
export async function runDevchainCli(argv: readonly string[], io: DevchainCliIo = {}): Promise<number> {
  const log = io.log ?? ((l: string) => console.log(l));
  const error = io.error ?? ((l: string) => console.error(l));
  let args: DevchainCliArgs | 'help';
  try {
    args = parseDevchainArgs(argv);
  } catch (e) {
    error((e as Error).message);
    return 2;
  }
  if (args === 'help') {
    log(DEVCHAIN_USAGE);
    return 0;
  }
  let handle;
  try {
    handle = await startDevchain({ port: args.port, host: args.host, stateDir: args.stateDir, blockIntervalMs: args.blockIntervalMs });
  } catch (e) {
    error(`devchain: ${(e as Error).message}`);
    return 1;
  }
  log(`devchain: Esplora API on ${handle.url} (state in ${args.stateDir})`);
  await new Promise<void>((resolve) => {
    const stop = (): void => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      io.signal?.removeEventListener('abort', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    if (io.signal?.aborted) stop();
    else io.signal?.addEventListener('abort', stop);
  });
  await handle.close();
  log('devchain: state saved, stopped');
  return 0;
}
