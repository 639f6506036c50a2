// Picks the link-quality source the configuration asks for. The agent calls this
// once at start; `none` is for hosts with no mesh view (a laptop demo on loopback).

import { BatmanSource } from './batman-source.js';
import { execFileRunner, type CommandRunner } from './command-runner.js';
import { LinkQualityConfigError, LinkQualityUnavailableError } from './errors.js';
import { IwSource } from './iw-source.js';
import type { LinkQualitySource, LinkSample } from './source.js';
import type { WifiScanner, WifiScanSourceOptions } from './wifi-source.js';

export const LINK_QUALITY_KINDS = ['none', 'batman', 'iw', 'wifi'] as const;
export type LinkQualityKind = (typeof LINK_QUALITY_KINDS)[number];

export interface LinkQualityOptions {
  /** Runs batctl/iw; default execFile without a shell. */
  readonly run?: CommandRunner;
  /** batman: mesh interface, default `bat0`. */
  readonly meshIface?: string;
  /** iw: wireless interface (required, e.g. `mesh0`); wifi: interface to scan on (optional). */
  readonly iface?: string;
  /** Per tool call. Defaults: 2000 ms for batctl and iw, 15000 ms for a Wi-Fi scan. */
  readonly timeoutMs?: number;
  readonly maxSamples?: number;
  /** wifi: a scanner to use instead of node-wifi. */
  readonly wifiScanner?: WifiScanner;
}

export function isLinkQualityKind(x: string): x is LinkQualityKind {
  return (LINK_QUALITY_KINDS as readonly string[]).includes(x);
}

/** Throws LinkQualityConfigError for an unknown kind or a bad interface name. */
export function createLinkQualitySource(kind: LinkQualityKind, opts: LinkQualityOptions = {}): LinkQualitySource {
  const common = {
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.maxSamples !== undefined ? { maxSamples: opts.maxSamples } : {}),
  };
  switch (kind) {
    case 'none':
      return new NoLinkQuality();
    case 'batman':
      return new BatmanSource({
        run: opts.run ?? execFileRunner(),
        ...(opts.meshIface !== undefined ? { meshIface: opts.meshIface } : {}),
        ...common,
      });
    case 'iw':
      if (opts.iface === undefined) throw new LinkQualityConfigError('iw link quality needs an interface (e.g. mesh0)');
      return new IwSource({ run: opts.run ?? execFileRunner(), iface: opts.iface, ...common });
    case 'wifi':
      return new LazyWifiSource({
        ...(opts.iface !== undefined ? { iface: opts.iface } : {}),
        ...(opts.wifiScanner !== undefined ? { scanner: opts.wifiScanner } : {}),
        ...common,
      });
    default:
      throw new LinkQualityConfigError(`unknown link quality source ${JSON.stringify(String(kind as unknown))}`);
  }
}

/** Sees nothing: gateways are then ranked on their offers and measured delivery alone. */
export class NoLinkQuality implements LinkQualitySource {
  readonly name = 'none';
  sample(): Promise<LinkSample[]> {
    return Promise.resolve([]);
  }
}

/**
 * The Wi-Fi scan source, loaded on its first sample: it lives in dist/bitmesh-dev.js with
 * node-wifi (scripts/build.mjs DEV_MODULES), which a router, using batman or iw, never loads.
 */
export class LazyWifiSource implements LinkQualitySource {
  readonly name = 'wifi';
  #source: Promise<LinkQualitySource> | undefined;

  constructor(private readonly opts: WifiScanSourceOptions) {}

  sample(): Promise<LinkSample[]> {
    this.#source ??= import('./wifi-source.js').then(
      (m) => new m.WifiScanSource(this.opts),
      // Without the development file (a router): unavailable, as a source may only say.
      (err: unknown) => Promise.reject(new LinkQualityUnavailableError('missing', `the Wi-Fi scan source could not be loaded: ${err instanceof Error ? err.message : String(err)}`)),
    );
    return this.#source.then((s) => s.sample());
  }
}
