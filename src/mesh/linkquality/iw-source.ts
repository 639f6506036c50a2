// Link quality from the 802.11s layer: every mesh peer of one radio interface
// (`iw dev <if> station dump`), whatever routing protocol runs above it.

import type { CommandRunner } from './command-runner.js';
import { checkIfname } from './ifname.js';
import { parseIwStations, type IwStation } from './iw-station.js';
import { normaliseMac } from './mac.js';
import { LinkQualityConfigError } from './errors.js';
import { signalToQuality, throughputToQuality } from './quality-curves.js';
import { rankSamples } from './rank-samples.js';
import type { LinkQualitySource, LinkSample } from './source.js';

export interface IwSourceOptions {
  readonly run: CommandRunner;
  /** The mesh (or managed) wireless interface, e.g. `mesh0`. */
  readonly iface: string;
  /** Path or name of iw; default `iw`. */
  readonly iw?: string;
  /** Per iw call; default 2000 ms. */
  readonly timeoutMs?: number;
  /** Keep at most this many samples, the best first; default 256. */
  readonly maxSamples?: number;
}

export class IwSource implements LinkQualitySource {
  readonly name = 'iw';
  private readonly iface: string;
  private readonly iw: string;
  private readonly timeoutMs: number;
  private readonly maxSamples: number;

  constructor(private readonly opts: IwSourceOptions) {
    this.iface = checkIfname(opts.iface, 'iw interface');
    this.iw = opts.iw ?? 'iw';
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxSamples = opts.maxSamples ?? 256;
  }

  async sample(): Promise<LinkSample[]> {
    return rankSamples((await this.stations()).map(stationSample), this.maxSamples);
  }

  async stations(): Promise<IwStation[]> {
    return parseIwStations(await this.opts.run(this.iw, ['dev', this.iface, 'station', 'dump'], this.timeoutMs));
  }

  /** One station (`station get`); iw fails (LinkQualityUnavailableError) if it is not associated. */
  async station(mac: string): Promise<IwStation | null> {
    const addr = normaliseMac(mac);
    if (addr === null) throw new LinkQualityConfigError(`iw station: ${JSON.stringify(mac.slice(0, 40))} is not a MAC address`);
    const out = await this.opts.run(this.iw, ['dev', this.iface, 'station', 'get', addr], this.timeoutMs);
    return parseIwStations(out).find((s) => s.mac === addr) ?? null;
  }
}

/**
 * One station as a LinkSample. A mesh peer whose peer link is not ESTAB carries no
 * traffic, so its quality is 0. Otherwise the rate-control estimate (expected
 * throughput) wins, because it already folds in signal, retries and airtime; without
 * it (some drivers) the averaged signal is used.
 */
export function stationSample(st: IwStation): LinkSample {
  const signalDbm = st.signalAvgDbm ?? st.signalDbm;
  let quality: number;
  if (st.meshPlink !== undefined && st.meshPlink !== 'ESTAB') quality = 0;
  else if (st.expectedThroughputKbps !== undefined) quality = throughputToQuality(st.expectedThroughputKbps);
  else if (signalDbm !== undefined) quality = signalToQuality(signalDbm);
  else quality = 0;
  return {
    mac: st.mac,
    quality,
    ...(st.expectedThroughputKbps !== undefined ? { throughputKbps: st.expectedThroughputKbps } : {}),
    ...(signalDbm !== undefined ? { signalDbm } : {}),
    ...(st.inactiveMs !== undefined ? { lastSeenMs: st.inactiveMs } : {}),
    iface: st.iface,
    source: 'iw',
  };
}
