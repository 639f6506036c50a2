// Client for the devchain's own endpoints (not part of Esplora): the faucet and mining.
// Demos and tests use it to fund wallets and move time on the chain.
import { EsploraError } from '../esplora-error.js';
import { decodeTxStatusValue } from '../esplora-decode.js';
import type { TxStatus } from '../esplora-decode.js';

export interface DevchainControlOptions {
  readonly fetch?: typeof fetch;
  readonly timeoutMs?: number;
}

async function post(baseUrl: string, path: string, body: unknown, opts: DevchainControlOptions): Promise<Record<string, unknown>> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), opts.timeoutMs ?? 10_000);
  let status: number;
  let text: string;
  try {
    const res = await (opts.fetch ?? fetch)(baseUrl.replace(/\/+$/, '') + path, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json' },
      signal: ac.signal,
    });
    status = res.status;
    text = (await res.text()).slice(0, 64 * 1024);
  } catch (e) {
    throw new EsploraError(ac.signal.aborted ? 'timeout' : 'network', `${path}: ${(e as Error).message}`, { path });
  } finally {
    clearTimeout(timer);
  }
  if (status !== 200) throw new EsploraError('http_status', `${path}: HTTP ${status}: ${text.slice(0, 200)}`, { status, path, reason: text.slice(0, 200) });
  try {
    const v: unknown = JSON.parse(text);
    if (typeof v === 'object' && v !== null && !Array.isArray(v)) return v as Record<string, unknown>;
  } catch {
    // answered below
  }
  throw new EsploraError('bad_response', `${path}: expected a JSON object`, { path });
}

/** Pays `amountSat` from the devchain faucet to `address`; mines `mine` blocks after, if given. */
export async function requestFaucet(
  baseUrl: string,
  address: string,
  amountSat: bigint,
  opts: DevchainControlOptions & { mine?: number } = {},
): Promise<{ txid: string; status: TxStatus }> {
  const r = await post(baseUrl, '/faucet', { address, amountSat: amountSat.toString(), ...(opts.mine ? { mine: opts.mine } : {}) }, opts);
  if (typeof r.txid !== 'string' || !/^[0-9a-f]{64}$/.test(r.txid)) throw new EsploraError('bad_response', '/faucet: txid', { path: '/faucet' });
  return { txid: r.txid, status: decodeTxStatusValue(r.status, '/faucet status') };
}

/** Mines `blocks` blocks; resolves to the new tip. */
export async function mineBlocks(baseUrl: string, blocks = 1, opts: DevchainControlOptions = {}): Promise<{ height: number; hash: string }> {
  const r = await post(baseUrl, '/mine', { blocks }, opts);
  if (typeof r.height !== 'number' || !Number.isSafeInteger(r.height) || r.height < 0 || typeof r.hash !== 'string' || !/^[0-9a-f]{64}$/.test(r.hash)) {
    throw new EsploraError('bad_response', '/mine: expected {height, hash}', { path: '/mine' });
  }
  return { height: r.height, hash: r.hash };
}
