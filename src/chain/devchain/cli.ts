// The body of `bitmesh devchain` (src/cli/commands/devchain.ts parses the flags):
// serve a devchain until SIGINT/SIGTERM (or `signal`), then save and exit.
import { startDevchain } from './server.js';

export interface DevchainCliArgs {
  readonly port: number;
  readonly host: string;
  readonly stateDir: string;
  readonly blockIntervalMs: number;
}

export interface DevchainCliIo {
  readonly log?: (line: string) => void;
  readonly error?: (line: string) => void;
  /** Stops the devchain when aborted (tests); SIGINT/SIGTERM always do. */
  readonly signal?: AbortSignal;
}

/** Runs the devchain in the foreground until stopped; resolves with the exit code. */
export async function serveDevchain(args: DevchainCliArgs, io: DevchainCliIo = {}): Promise<number> {
  const log = io.log ?? ((l: string) => console.log(l));
  const error = io.error ?? ((l: string) => console.error(l));
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
