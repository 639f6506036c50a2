// The site settings a community mesh shares (firmware/site.conf, installed on routers as
// /etc/bitmesh/site.conf): mesh id, SAE key, radio and channel, MTU, batman-adv routing
// algorithm, the gateway bandwidth batman-adv announces, and the IPv4 prefix nodes take
// their mesh address from. UCI format, one `config site 'site'` section; every option is
// checked here, because each one ends up on a `uci batch` line (mesh-config.ts).
import { RemoteError } from '../core/errors.js';
import { parseUci, type UciSection } from '../config/uci.js';

export interface Ipv4Prefix {
  /** Network address as a 32-bit unsigned integer. */
  readonly network: number;
  readonly length: number;
}

export interface MeshSite {
  /** 802.11s mesh id: 1-32 printable ASCII characters. */
  readonly meshId: string;
  /** SAE password shared by every node of the mesh: 8-63 printable ASCII characters. */
  readonly meshKey: string;
  /** UCI name of the radio (wifi-device) the mesh runs on. */
  readonly radio: string;
  readonly channel: number;
  /** ISO 3166 country code for the regulatory domain; empty leaves the radio's. */
  readonly country: string;
  /** e.g. HT20, VHT80, HE80; empty leaves the radio's. */
  readonly htmode: string;
  /** MTU of the 802.11s hard interface: 1500 plus batman-adv's header, so bat0 carries 1500. */
  readonly hardifMtu: number;
  readonly routingAlgo: 'BATMAN_IV' | 'BATMAN_V';
  /** What a gateway announces to batman-adv: `<down>/<up>` in kbit/s or with mbit/kbit units. */
  readonly gwBandwidth: string;
  readonly ipv4Prefix: Ipv4Prefix;
}

/** A site file that cannot be used: names the file, line and option. */
export class MeshSiteError extends RemoteError {
  constructor(message: string) {
    super('config_site', message);
  }
}

const PRINTABLE = /^[\x20-\x7e]+$/;

type Field<T> = { readonly uci: string; readonly def: T | undefined; readonly expected: string; readonly parse: (raw: string) => T | undefined };

function field<T>(uci: string, def: T | undefined, expected: string, parse: (raw: string) => T | undefined): Field<T> {
  return { uci, def, expected, parse };
}

function intIn(min: number, max: number) {
  return (raw: string): number | undefined => (/^[0-9]{1,6}$/.test(raw) && +raw >= min && +raw <= max ? +raw : undefined);
}

export function parseIpv4Prefix(raw: string): Ipv4Prefix | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/.exec(raw);
  if (!m) return undefined;
  const octets = m.slice(1, 5).map(Number);
  const length = Number(m[5]);
  if (octets.some((o) => o > 255) || length < 8 || length > 24) return undefined;
  const network = octets.reduce((a, o) => a * 256 + o, 0);
  const hostBits = 32 - length;
  if (network % 2 ** hostBits !== 0) return undefined; // host bits set: not a network address
  return { network, length };
}

const FIELDS = {
  meshId: field('mesh_id', undefined, '1-32 printable ASCII characters', (r) => (PRINTABLE.test(r) && r.length <= 32 ? r : undefined)),
  meshKey: field('mesh_key', undefined, '8-63 printable ASCII characters', (r) => (PRINTABLE.test(r) && r.length >= 8 && r.length <= 63 ? r : undefined)),
  radio: field('radio', 'radio0', 'a UCI section name (letters, digits, _)', (r) => (/^[A-Za-z0-9_]{1,32}$/.test(r) ? r : undefined)),
  channel: field('channel', undefined, 'a channel number 1-233', intIn(1, 233)),
  country: field('country', '', 'a two-letter country code', (r) => (/^[A-Z]{2}$/.test(r) ? r : undefined)),
  htmode: field('htmode', '', 'an htmode such as HT20, VHT80, HE80', (r) => (/^(NOHT|HT20|HT40[+-]?|VHT(20|40|80|160)|HE(20|40|80|160)|EHT(20|40|80|160|320))$/.test(r) ? r : undefined)),
  hardifMtu: field('hardif_mtu', 1536, 'an integer 1280-9000', intIn(1280, 9000)),
  routingAlgo: field('routing_algo', 'BATMAN_IV' as const, 'BATMAN_IV or BATMAN_V', (r) => (r === 'BATMAN_IV' || r === 'BATMAN_V' ? r : undefined)),
  gwBandwidth: field('gw_bandwidth', '10mbit/2mbit', '<down>/<up> such as 10mbit/2mbit or 10000/2000', (r) => (/^[0-9]{1,7}(kbit|mbit)?\/[0-9]{1,7}(kbit|mbit)?$/i.test(r) ? r : undefined)),
  ipv4Prefix: field('ipv4_prefix', parseIpv4Prefix('100.64.0.0/10'), 'an IPv4 network /8-/24 such as 100.64.0.0/10', parseIpv4Prefix),
} as const;

type Parsed = { -readonly [K in keyof typeof FIELDS]: NonNullable<ReturnType<(typeof FIELDS)[K]['parse']>> };

/** Reads a site file. Unknown sections and options are errors, as in /etc/config/bitmesh. */
export function parseMeshSite(text: string, file: string): MeshSite {
  const sections = parseUci(text, file);
  const site = sections.filter((s) => s.type === 'site');
  const other = sections.find((s) => s.type !== 'site');
  if (other) throw new MeshSiteError(`${file}:${other.line}: unknown section type '${other.type}' (expected 'site')`);
  if (site.length !== 1) throw new MeshSiteError(`${file}: expected one 'config site' section, found ${site.length}`);
  return decodeSite(site[0]!, file);
}

function decodeSite(section: UciSection, file: string): MeshSite {
  const known = new Set(Object.values(FIELDS).map((f) => f.uci));
  for (const [name, opt] of section.options) {
    if (!known.has(name)) throw new MeshSiteError(`${file}:${opt.line}: section 'site' has no option '${name}'`);
  }
  const out: Partial<Parsed> = {};
  for (const [key, f] of Object.entries(FIELDS) as [keyof Parsed, Field<unknown>][]) {
    const opt = section.options.get(f.uci);
    const raw = opt?.value;
    if (Array.isArray(raw)) throw new MeshSiteError(`${file}:${opt!.line}: section 'site' option '${f.uci}': expected one value, got a list`);
    if (raw === undefined || raw === '') {
      if (f.def === undefined) throw new MeshSiteError(`${file}: section 'site' option '${f.uci}' is required: ${f.expected}`);
      (out as Record<string, unknown>)[key] = f.def;
      continue;
    }
    const value = f.parse(raw);
    if (value === undefined) {
      throw new MeshSiteError(`${file}:${opt!.line}: section 'site' option '${f.uci}': expected ${f.expected}, got ${f.uci === 'mesh_key' ? `${raw.length} characters` : `'${printable(raw)}'`}`);
    }
    (out as Record<string, unknown>)[key] = value;
  }
  return Object.freeze(out as Parsed);
}

function printable(s: string): string {
  const clean = s.replace(/[^\x20-\x7e]/g, '?');
  return clean.length > 40 ? clean.slice(0, 40) + '…' : clean;
}
