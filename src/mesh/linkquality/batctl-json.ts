// Parsers for batctl's JSON tables: `batctl meshif bat0 originators_json` (oj),
// `neighbors_json` (nj) and `gateways_json` (gwj). batctl prints one JSON array of
// flat objects, compact, keys in netlink attribute order; `| json_pp` reformats it.
//
// Units, as the kernel puts them (net/batman-adv/bat_v.c) and batctl prints them:
//   tq                         0..255 (BATMAN_IV)
//   throughput in oj and nj    kbit/s (BATMAN_V; the kernel multiplies its 100 kbit/s unit by 100)
//   throughput in gwj          100 kbit/s (BATMAN_V; raw, batctl's text mode divides by 10)
//   bandwidth_down/up in gwj   100 kbit/s (announced by the gateway)
//   last_seen_msecs            ms
// Unknown keys are ignored (newer kernels add attributes); known keys with the wrong
// type or range reject the whole output, since then nothing in it can be trusted.

import { LinkQualityParseError, type LinkQualityFormat } from './errors.js';
import { isIfname } from './ifname.js';
import { normaliseMac } from './mac.js';

/** Longest output we parse; batctl's table for a 1,000-node mesh is ~200 KB. */
export const MAX_BATCTL_OUTPUT_CHARS = 4 * 1024 * 1024;

const U32_MAX = 0xffff_ffff;

/** One (originator, next hop) route from the originator table. */
export interface BatmanOriginator {
  readonly origAddress: string;
  readonly neighAddress: string;
  /** This next hop is the one batman-adv routes through. */
  readonly best: boolean;
  readonly tq?: number;
  readonly throughputKbps?: number;
  readonly lastSeenMs: number;
  readonly hardIfname?: string;
  readonly hardIfindex?: number;
}

/** One direct (one-hop) neighbour. BATMAN_IV reports no metric here. */
export interface BatmanNeighbor {
  readonly neighAddress: string;
  readonly lastSeenMs: number;
  readonly throughputKbps?: number;
  readonly hardIfname?: string;
  readonly hardIfindex?: number;
}

/** One gateway announced on the mesh (`batctl gw_mode server`). */
export interface BatmanGateway {
  readonly origAddress: string;
  /** Next hop towards the gateway. */
  readonly router: string;
  /** The gateway batman-adv's own gateway selection currently uses. */
  readonly best: boolean;
  readonly tq?: number;
  readonly throughputKbps?: number;
  readonly bandwidthDownKbps?: number;
  readonly bandwidthUpKbps?: number;
  readonly hardIfname?: string;
  readonly hardIfindex?: number;
}

export function parseOriginatorsJson(text: string): BatmanOriginator[] {
  return parseEntries(text, 'batctl-originators', (e) => {
    const tq = e.optionalUint('tq', 255);
    const throughput = e.optionalUint('throughput', U32_MAX);
    if (tq === undefined && throughput === undefined) e.fail('has neither "tq" nor "throughput"');
    return {
      origAddress: e.mac('orig_address'),
      neighAddress: e.mac('neigh_address'),
      best: e.flag('best'),
      ...(tq !== undefined ? { tq } : {}),
      ...(throughput !== undefined ? { throughputKbps: throughput } : {}),
      lastSeenMs: e.uint('last_seen_msecs', U32_MAX),
      ...e.hardIf(),
    };
  });
}

export function parseNeighborsJson(text: string): BatmanNeighbor[] {
  return parseEntries(text, 'batctl-neighbors', (e) => {
    const throughput = e.optionalUint('throughput', U32_MAX);
    return {
      neighAddress: e.mac('neigh_address'),
      lastSeenMs: e.uint('last_seen_msecs', U32_MAX),
      ...(throughput !== undefined ? { throughputKbps: throughput } : {}),
      ...e.hardIf(),
    };
  });
}

export function parseGatewaysJson(text: string): BatmanGateway[] {
  return parseEntries(text, 'batctl-gateways', (e) => {
    const tq = e.optionalUint('tq', 255);
    const throughput = e.optionalUint('throughput', U32_MAX);
    if (tq === undefined && throughput === undefined) e.fail('has neither "tq" nor "throughput"');
    const down = e.optionalUint('bandwidth_down', U32_MAX);
    const up = e.optionalUint('bandwidth_up', U32_MAX);
    return {
      origAddress: e.mac('orig_address'),
      router: e.mac('router'),
      best: e.flag('best'),
      ...(tq !== undefined ? { tq } : {}),
      ...(throughput !== undefined ? { throughputKbps: throughput * 100 } : {}),
      ...(down !== undefined ? { bandwidthDownKbps: down * 100 } : {}),
      ...(up !== undefined ? { bandwidthUpKbps: up * 100 } : {}),
      ...e.hardIf(),
    };
  });
}

/**
 * The route batman-adv actually uses to each originator: the entry flagged `best`
 * (the highest-metric one if several outgoing interfaces flag one, or if none is
 * flagged), in first-seen order.
 */
export function bestRoutes(originators: readonly BatmanOriginator[]): BatmanOriginator[] {
  const chosen = new Map<string, BatmanOriginator>();
  for (const o of originators) {
    const cur = chosen.get(o.origAddress);
    if (cur === undefined || isBetterRoute(o, cur)) chosen.set(o.origAddress, o);
  }
  return [...chosen.values()];
}

function isBetterRoute(a: BatmanOriginator, b: BatmanOriginator): boolean {
  if (a.best !== b.best) return a.best;
  return routeMetric(a) > routeMetric(b);
}

function routeMetric(o: BatmanOriginator): number {
  return o.throughputKbps ?? o.tq ?? 0;
}

function parseEntries<T>(text: string, format: LinkQualityFormat, decode: (e: EntryReader) => T): T[] {
  if (text.length > MAX_BATCTL_OUTPUT_CHARS) {
    throw new LinkQualityParseError(format, `output is ${text.length} chars, more than ${MAX_BATCTL_OUTPUT_CHARS}`);
  }
  if (text.trim() === '') throw new LinkQualityParseError(format, 'empty output');
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new LinkQualityParseError(format, `not JSON (${err instanceof Error ? err.message : 'parse failed'})`);
  }
  if (!Array.isArray(doc)) throw new LinkQualityParseError(format, `expected a JSON array, got ${typeName(doc)}`);
  return doc.map((entry: unknown, index) => decode(new EntryReader(format, index, entry)));
}

/** Reads typed fields out of one entry, naming the entry and key in every error. */
class EntryReader {
  private readonly obj: Readonly<Record<string, unknown>>;

  constructor(
    private readonly format: LinkQualityFormat,
    private readonly index: number,
    entry: unknown,
  ) {
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      this.fail(`expected an object, got ${typeName(entry)}`);
    }
    this.obj = entry as Readonly<Record<string, unknown>>;
  }

  fail(what: string): never {
    throw new LinkQualityParseError(this.format, `entry ${this.index}: ${what}`);
  }

  private get(key: string): unknown {
    return Object.hasOwn(this.obj, key) ? this.obj[key] : undefined;
  }

  mac(key: string): string {
    const v = this.get(key);
    if (typeof v !== 'string') this.fail(`"${key}" expected a MAC address string, got ${typeName(v)}`);
    const mac = normaliseMac(v);
    if (mac === null) this.fail(`"${key}" is not a MAC address: ${JSON.stringify(v.slice(0, 40))}`);
    return mac;
  }

  uint(key: string, max: number): number {
    const v = this.optionalUint(key, max);
    if (v === undefined) this.fail(`"${key}" is missing`);
    return v;
  }

  optionalUint(key: string, max: number): number | undefined {
    const v = this.get(key);
    if (v === undefined) return undefined;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < 0 || v > max) {
      this.fail(`"${key}" expected an integer 0..${max}, got ${describe(v)}`);
    }
    return v;
  }

  /** batctl prints a netlink flag as `true` when set and leaves the key out otherwise. */
  flag(key: string): boolean {
    const v = this.get(key);
    if (v === undefined) return false;
    if (typeof v !== 'boolean') this.fail(`"${key}" expected a boolean, got ${describe(v)}`);
    return v;
  }

  hardIf(): { hardIfname?: string; hardIfindex?: number } {
    const name = this.get('hard_ifname');
    if (name !== undefined && (typeof name !== 'string' || !isIfname(name))) {
      this.fail(`"hard_ifname" expected an interface name, got ${describe(name)}`);
    }
    const index = this.optionalUint('hard_ifindex', U32_MAX);
    return {
      ...(name !== undefined ? { hardIfname: name } : {}),
      ...(index !== undefined ? { hardIfindex: index } : {}),
    };
  }
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function describe(v: unknown): string {
  if (typeof v === 'number' || typeof v === 'boolean') return `${typeName(v)} ${String(v)}`;
  if (typeof v === 'string') return `string ${JSON.stringify(v.slice(0, 40))}`;
  return typeName(v);
}
