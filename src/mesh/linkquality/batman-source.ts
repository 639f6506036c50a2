// Link quality from batman-adv: the route batman-adv uses to every originator
// (`batctl meshif <bat0> originators_json`), its TQ or throughput turned into a quality.

import type { CommandRunner } from './command-runner.js';
import {
  bestRoutes,
  parseGatewaysJson,
  parseNeighborsJson,
  parseOriginatorsJson,
  type BatmanGateway,
  type BatmanNeighbor,
  type BatmanOriginator,
} from './batctl-json.js';
import { checkIfname } from './ifname.js';
import { throughputToQuality, tqToQuality } from './quality-curves.js';
import { rankSamples } from './rank-samples.js';
import type { LinkQualitySource, LinkSample } from './source.js';

export interface BatmanSourceOptions {
  readonly run: CommandRunner;
  /** batman-adv mesh interface; default `bat0`. */
  readonly meshIface?: string;
  /** Path or name of batctl; default `batctl`. */
  readonly batctl?: string;
  /** Per batctl call; default 2000 ms (a router under load answers in tens of ms). */
  readonly timeoutMs?: number;
  /** Keep at most this many samples, the best first; default 256. */
  readonly maxSamples?: number;
}

export class BatmanSource implements LinkQualitySource {
  readonly name = 'batman';
  private readonly meshIface: string;
  private readonly batctl: string;
  private readonly timeoutMs: number;
  private readonly maxSamples: number;

  constructor(private readonly opts: BatmanSourceOptions) {
    this.meshIface = checkIfname(opts.meshIface ?? 'bat0', 'batman mesh interface');
    this.batctl = opts.batctl ?? 'batctl';
    this.timeoutMs = opts.timeoutMs ?? 2000;
    this.maxSamples = opts.maxSamples ?? 256;
  }

  async sample(): Promise<LinkSample[]> {
    return rankSamples(bestRoutes(await this.originators()).map(originatorSample), this.maxSamples);
  }

  /** Every route in the originator table, not only the best ones. */
  async originators(): Promise<BatmanOriginator[]> {
    return parseOriginatorsJson(await this.query('originators_json'));
  }

  async neighbors(): Promise<BatmanNeighbor[]> {
    return parseNeighborsJson(await this.query('neighbors_json'));
  }

  async gateways(): Promise<BatmanGateway[]> {
    return parseGatewaysJson(await this.query('gateways_json'));
  }

  private query(table: string): Promise<string> {
    return this.opts.run(this.batctl, ['meshif', this.meshIface, table], this.timeoutMs);
  }
}

/** One originator route as a LinkSample: BATMAN_V throughput if present, else BATMAN_IV TQ. */
export function originatorSample(o: BatmanOriginator): LinkSample {
  const quality = o.throughputKbps !== undefined ? throughputToQuality(o.throughputKbps) : tqToQuality(o.tq ?? 0);
  return {
    mac: o.origAddress,
    quality,
    ...(o.tq !== undefined ? { tq: o.tq } : {}),
    ...(o.throughputKbps !== undefined ? { throughputKbps: o.throughputKbps } : {}),
    lastSeenMs: o.lastSeenMs,
    ...(o.hardIfname !== undefined ? { iface: o.hardIfname } : {}),
    nextHop: o.neighAddress,
    source: 'batman',
  };
}
