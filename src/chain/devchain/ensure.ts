// "The agent starts a devchain itself when configured for it and none is running":
// probe the configured URL; if nothing answers there and it is a loopback address,
// serve a devchain on that port in this process.
import { EsploraClient } from '../esplora-client.js';
import { LocalError } from '../../core/errors.js';
// The server (chain state, tx verification, Taproot script checks) is loaded only when
// this process really serves a devchain: an agent that finds one running, or a router
// pointed at a real Esplora, never runs its module code.
import type { DevchainOptions } from './server.js';

export interface EnsuredDevchain {
  readonly url: string;
  /** True when this call started the devchain (and `close` stops it). */
  readonly started: boolean;
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

/** Does an Esplora server answer at `url`? */
export async function probeEsplora(url: string, timeoutMs = 1_000): Promise<boolean> {
  try {
    await new EsploraClient({ baseUrl: url, timeoutMs, retries: 0 }).tipHeight();
    return true;
  } catch {
    return false;
  }
}

export async function ensureDevchain(
  url: string,
  stateDir: string,
  opts: Pick<DevchainOptions, 'blockIntervalMs' | 'crypto'> = {},
): Promise<EnsuredDevchain> {
  const base = url.replace(/\/+$/, '');
  if (await probeEsplora(base)) return { url: base, started: false, close: async () => {} };
  const u = new URL(base);
  if (u.protocol !== 'http:' || !LOOPBACK.has(u.hostname) || u.port === '' || (u.pathname !== '/' && u.pathname !== '')) {
    throw new LocalError('devchain_not_local', `no chain server answers at ${base}, and it is not a loopback http://host:port to start a devchain on`);
  }
  const host = u.hostname === 'localhost' ? '127.0.0.1' : u.hostname.replace(/^\[|\]$/g, '');
  try {
    const { startDevchain } = await import('./server.js');
    const h = await startDevchain({ ...opts, host, port: Number(u.port), stateDir });
    return { url: base, started: true, close: h.close };
  } catch (e) {
    // Another process may have started one between our probe and our listen.
    if ((e as NodeJS.ErrnoException).code === 'EADDRINUSE' && (await probeEsplora(base))) {
      return { url: base, started: false, close: async () => {} };
    }
    throw e;
  }
}
