// Link quality from a Wi-Fi scan through node-wifi (NetworkManager's nmcli on Linux):
// for hosts that are not mesh routers, e.g. a laptop choosing which BitMesh access
// point to join. The scan runs behind a WifiScanner so tests feed recorded results.

import { withTimeout } from './command-runner.js';
import { LinkQualityParseError, LinkQualityUnavailableError } from './errors.js';
import { rankSamples } from './rank-samples.js';
import type { LinkQualitySource, LinkSample } from './source.js';
import { wifiScanSamples } from './wifi-scan.js';

export interface WifiScanner {
  /** Raw scan result, in node-wifi's output shape; checked by wifi-scan.ts. */
  scan(): Promise<unknown>;
}

export interface WifiScanSourceOptions {
  /** Wireless interface to scan on; null or absent lets node-wifi pick one. */
  readonly iface?: string | null;
  /** Default: node-wifi, loaded on first use (see loadNodeWifiScanner). */
  readonly scanner?: WifiScanner;
  /** Per scan; default 15000 ms (a full active scan of 2.4 + 5 GHz takes several seconds). */
  readonly timeoutMs?: number;
  /** Keep at most this many samples, the best first; default 256. */
  readonly maxSamples?: number;
}

export class WifiScanSource implements LinkQualitySource {
  readonly name = 'wifi';
  private readonly iface: string | null;
  private readonly timeoutMs: number;
  private readonly maxSamples: number;
  private scanner: Promise<WifiScanner> | null;

  constructor(opts: WifiScanSourceOptions = {}) {
    this.iface = opts.iface ?? null;
    this.timeoutMs = opts.timeoutMs ?? 15_000;
    this.maxSamples = opts.maxSamples ?? 256;
    this.scanner = opts.scanner !== undefined ? Promise.resolve(opts.scanner) : null;
  }

  async sample(): Promise<LinkSample[]> {
    this.scanner ??= loadNodeWifiScanner(this.iface);
    let scanner: WifiScanner;
    try {
      scanner = await this.scanner;
    } catch (err) {
      this.scanner = null; // try loading again next time (e.g. NetworkManager started later)
      throw err;
    }
    let raw: unknown;
    try {
      raw = await withTimeout(
        Promise.resolve().then(() => scanner.scan()),
        this.timeoutMs,
        'Wi-Fi scan',
      );
    } catch (err) {
      throw scanFailure(err);
    }
    return rankSamples(wifiScanSamples(raw, this.iface ?? undefined), this.maxSamples);
  }
}

/**
 * node-wifi as a WifiScanner. It is imported only here, on first use, because importing
 * it sets LANG and LC_ALL in process.env for the whole process (its src/env.js), and
 * a router that never scans should not pay for that. node-wifi keeps its interface in
 * module state, so one process should scan through one interface.
 */
export async function loadNodeWifiScanner(iface: string | null): Promise<WifiScanner> {
  if (!['linux', 'darwin', 'win32'].includes(process.platform)) {
    throw new LinkQualityUnavailableError('unsupported', `node-wifi cannot scan on ${process.platform}`);
  }
  let api: unknown;
  try {
    api = (await import('node-wifi')).default;
  } catch (err) {
    throw new LinkQualityUnavailableError('missing', `node-wifi could not be loaded: ${messageOf(err)}`);
  }
  if (!isNodeWifi(api)) throw new LinkQualityUnavailableError('missing', 'node-wifi has an unexpected API');
  try {
    api.init({ iface });
  } catch (err) {
    throw new LinkQualityUnavailableError('unsupported', `node-wifi: ${messageOf(err)}`);
  }
  // Read api.scan at call time: init() replaced it on the module's exports object.
  return { scan: () => api.scan() };
}

interface NodeWifiApi {
  init(options: { iface: string | null }): void;
  scan(): Promise<unknown>;
}

function isNodeWifi(x: unknown): x is NodeWifiApi {
  if (typeof x !== 'object' || x === null) return false;
  const o = x as Record<string, unknown>;
  return typeof o['init'] === 'function' && typeof o['scan'] === 'function';
}

/** What went wrong in a scan, as one of our typed errors. */
function scanFailure(err: unknown): LinkQualityUnavailableError | LinkQualityParseError {
  if (err instanceof LinkQualityUnavailableError || err instanceof LinkQualityParseError) return err;
  const code = typeof err === 'object' && err !== null ? (err as { code?: unknown }).code : undefined;
  // On Linux node-wifi runs nmcli; ENOENT means NetworkManager is not installed.
  if (code === 'ENOENT') return new LinkQualityUnavailableError('missing', 'nmcli (NetworkManager) is not installed');
  return new LinkQualityUnavailableError('failed', `Wi-Fi scan failed: ${messageOf(err)}`);
}

function messageOf(err: unknown): string {
  const msg = err instanceof Error ? err.message : String(err);
  return msg.trim().slice(0, 200);
}
