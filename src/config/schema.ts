// The config schema: every section of /etc/config/bitmesh and every option in it, as a
// table. Adding an option is adding one row; its TypeScript type, default and
// validation follow from that row. What it means is written once, in docs/config.md,
// whose tables src/config/docs.test.ts checks against this one (the router bundle
// carries no prose it never prints).
// Keys of SCHEMA are UCI section types; keys of `options` are the camelCase names the
// code uses; the first argument of each row is the snake_case UCI option name.
import { isIP } from 'node:net';
import { bytesToHex } from '@noble/hashes/utils.js';
import { DEFAULT_PROBE_DELAY_MAX_MS, DEFAULT_PROBE_MS, DEFAULT_RESERVE_MS } from '../core/market/constants.js';
import { parseNodeId } from '../core/wire/node-id.js';

export interface HostPort {
  readonly host: string;
  readonly port: number;
}

/** What validating one raw UCI value gave: the typed value, or what was wrong. */
export type Decoded<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly got: string; readonly list?: boolean; readonly index?: number };

export interface OptionSpec<T> {
  /** snake_case name in the UCI file. */
  readonly uci: string;
  /** The accepted values as a phrase, for errors and docs: "an integer 1-65535". */
  readonly expected: string;
  /** Written as `list` lines (one `option` line is accepted as a one-item list). */
  readonly list: boolean;
  readonly default: T;
  readonly decode: (raw: string | readonly string[]) => Decoded<T>;
}

export interface SectionSpec<O extends Record<string, OptionSpec<unknown>>> {
  /** The section's name: `config <type> '<name>'`. An anonymous section is accepted too. */
  readonly name: string;
  readonly options: O;
}

// ---- value kinds ----

type Parse<T> = (raw: string) => T | undefined;

function scalar<T>(uci: string, expected: string, parse: Parse<T>, def: T): OptionSpec<T> {
  const decode = (raw: string | readonly string[]): Decoded<T> => {
    if (typeof raw !== 'string') return { ok: false, got: raw.join(' '), list: true };
    const value = parse(raw);
    return value === undefined ? { ok: false, got: raw } : { ok: true, value };
  };
  return { uci, expected, list: false, default: def, decode };
}

function listOf<T>(uci: string, expected: string, parse: Parse<T>, def: readonly T[]): OptionSpec<readonly T[]> {
  const decode = (raw: string | readonly string[]): Decoded<readonly T[]> => {
    const items = typeof raw === 'string' ? [raw] : raw;
    const out: T[] = [];
    for (const [index, item] of items.entries()) {
      const value = parse(item);
      if (value === undefined) return { ok: false, got: item, index };
      out.push(value);
    }
    return { ok: true, value: out };
  };
  return { uci, expected: `a list of ${expected}`, list: true, default: def, decode };
}

const intParser = (min: number, max: number): Parse<number> => (raw) => {
  if (!/^-?[0-9]{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
};

export function int(uci: string, def: number, min: number, max: number): OptionSpec<number> {
  return scalar(uci, `an integer ${min}-${max}`, intParser(min, max), def);
}

export function durationMs(uci: string, def: number, min: number, max: number): OptionSpec<number> {
  return scalar(uci, `a duration in milliseconds ${min}-${max}`, intParser(min, max), def);
}

// The words OpenWrt's config_get_bool accepts (/lib/functions.sh).
const TRUE = new Set(['1', 'on', 'true', 'yes', 'enabled']);
const FALSE = new Set(['0', 'off', 'false', 'no', 'disabled']);

export function bool(uci: string, def: boolean): OptionSpec<boolean> {
  const parse: Parse<boolean> = (raw) => (TRUE.has(raw) ? true : FALSE.has(raw) ? false : undefined);
  return scalar(uci, 'a boolean (1/0, yes/no, on/off, true/false)', parse, def);
}

export function oneOf<const V extends readonly string[]>(
  uci: string,
  values: V,
  def: V[number],
): OptionSpec<V[number]> {
  const parse: Parse<V[number]> = (raw) => values.find((v) => v === raw);
  return scalar(uci, `one of ${values.join(', ')}`, parse, def);
}

export function str(uci: string, def: string): OptionSpec<string> {
  return scalar(uci, 'a string', (raw) => raw, def);
}

export function strList(uci: string, def: readonly string[]): OptionSpec<readonly string[]> {
  return listOf(uci, 'strings', (raw) => (raw === '' ? undefined : raw), def);
}

/** Linux interface names: 1-15 bytes, no whitespace, '/' or ':', and no leading '-'. */
export function ifnameList(uci: string, def: readonly string[]): OptionSpec<readonly string[]> {
  const parse: Parse<string> = (raw) =>
    /^[^\s/:\x00-\x1f\x7f-][^\s/:\x00-\x1f\x7f]*$/.test(raw) && Buffer.byteLength(raw) <= 15 ? raw : undefined;
  return listOf(uci, 'interface names', parse, def);
}

export function absPath(uci: string, def: string): OptionSpec<string> {
  return scalar(uci, 'an absolute path', (raw) => (raw.startsWith('/') ? raw : undefined), def);
}

export function ipAddress(uci: string, def: string): OptionSpec<string> {
  return scalar(uci, 'an IPv4 or IPv6 address', (raw) => (isIP(raw) !== 0 ? raw : undefined), def);
}

/** An http(s) URL, or empty for "not configured". */
export function optionalHttpUrl(uci: string): OptionSpec<string> {
  const parse: Parse<string> = (raw) => {
    if (raw === '') return raw;
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    return url && (url.protocol === 'http:' || url.protocol === 'https:') ? raw : undefined;
  };
  return scalar(uci, 'an http:// or https:// URL, or empty', parse, '');
}

export function httpUrl(uci: string, def: string): OptionSpec<string> {
  const parse: Parse<string> = (raw) => {
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    return url && (url.protocol === 'http:' || url.protocol === 'https:') ? raw : undefined;
  };
  return scalar(uci, 'an http:// or https:// URL', parse, def);
}

/** `host:port`, `1.2.3.4:port` or `[ipv6%zone]:port`. */
export function parseHostPort(raw: string): HostPort | undefined {
  const m = /^(?:\[([^\]]+)\]|([A-Za-z0-9.-]+)):([0-9]{1,5})$/.exec(raw);
  const host = m?.[1] ?? m?.[2];
  const port = Number(m?.[3]);
  if (host === undefined || !(port >= 1 && port <= 65535)) return undefined;
  if (m?.[1] !== undefined && isIP(host) !== 6) return undefined;
  return { host, port };
}

export function hostPortList(uci: string, def: readonly HostPort[]): OptionSpec<readonly HostPort[]> {
  return listOf(uci, 'host:port ([v6]:port for IPv6)', parseHostPort, def);
}

export function mqttUrl(uci: string, def: string): OptionSpec<string> {
  const parse: Parse<string> = (raw) => {
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    return url && (url.protocol === 'mqtt:' || url.protocol === 'mqtts:') && url.hostname !== '' ? raw : undefined;
  };
  return scalar(uci, 'an mqtt:// or mqtts:// URL', parse, def);
}

/** x-only public keys as bm1… or 64 hex; the value is lowercase hex. */
export function pubkeyList(uci: string, def: readonly string[]): OptionSpec<readonly string[]> {
  const parse: Parse<string> = (raw) => {
    try {
      return bytesToHex(parseNodeId(raw));
    } catch {
      return undefined;
    }
  };
  return listOf(uci, 'public keys (bm1… or 64 hex)', parse, def);
}

/** MQTT topic levels without wildcards: `bitmesh`, `site/bitmesh`. */
export function topicPrefix(uci: string, def: string): OptionSpec<string> {
  const parse: Parse<string> = (raw) => (/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(raw) ? raw : undefined);
  return scalar(uci, 'MQTT topic levels (letters, digits, _ . -, separated by /)', parse, def);
}

function section<const O extends Record<string, OptionSpec<unknown>>>(name: string, options: O): SectionSpec<O> {
  return { name, options };
}

// ---- the table ----

const MAX_MSAT = 1_000_000_000_000;
const HOUR_MS = 3_600_000;

export const SCHEMA = {
  agent: section('main', {
    role: oneOf('role', ['gateway', 'client', 'both'], 'client'),
    stateDir: absPath('state_dir', '/etc/bitmesh'),
    controlSocket: absPath('control_socket', ''),
    logLevel: oneOf('log_level', ['debug', 'info', 'warn', 'error'], 'info'),
    logTarget: oneOf('log_target', ['stderr', 'syslog'], 'stderr'),
    helperPath: absPath('helper_path', ''),
  }),
  mesh: section('mesh', {
    interface: ifnameList('interface', ['bat0']),
    port: int('port', 4270, 1, 65535),
    multicastGroup: ipAddress('multicast_group', 'ff02::4270'),
    ipv4Broadcast: bool('ipv4_broadcast', true),
    bindAddress: ipAddress('bind_address', ''),
    peer: hostPortList('peer', []),
    helloIntervalMs: durationMs('hello_interval_ms', 1000, 10, HOUR_MS),
    neighbourExpiryMs: durationMs('neighbour_expiry_ms', 5000, 10, HOUR_MS),
    maxNeighbours: int('max_neighbours', 256, 1, 65535),
    linkQuality: oneOf('link_quality', ['none', 'batman', 'iw', 'wifi'], 'none'),
    linkQualityIface: str('link_quality_iface', ''),
    linkQualityIntervalMs: durationMs('link_quality_interval_ms', 5000, 500, HOUR_MS),
    peerRatePerS: int('peer_rate_per_s', 200, 1, 1_000_000),
    peerBurst: int('peer_burst', 400, 1, 1_000_000),
    garbageBanThreshold: int('garbage_ban_threshold', 20, 1, 1_000_000),
    banMs: durationMs('ban_ms', 60_000, 0, 24 * HOUR_MS),
    clockSkewMs: durationMs('clock_skew_ms', 30_000, 0, HOUR_MS),
    replayCacheSize: int('replay_cache_size', 4096, 16, 1_048_576),
  }),
  market: section('market', {
    priceMsatPerKib: int('price_msat_per_kib', 1, 0, MAX_MSAT),
    wanInterface: str('wan_interface', ''),
    maxPriceMsatPerKib: int('max_price_msat_per_kib', 10, 0, MAX_MSAT),
    probeUrl: optionalHttpUrl('probe_url'),
    probeIntervalMs: durationMs('probe_interval_ms', 300_000, 1000, 24 * HOUR_MS),
    wantedKbps: int('wanted_kbps', 1_000_000, 1, 100_000_000),
    reserveMs: durationMs('reserve_ms', DEFAULT_RESERVE_MS, 0, 60_000),
    clientProbeUrl: optionalHttpUrl('client_probe_url'),
    clientProbeMs: durationMs('client_probe_ms', DEFAULT_PROBE_MS, 0, 60_000),
    clientProbeDelayMaxMs: durationMs('client_probe_delay_max_ms', DEFAULT_PROBE_DELAY_MAX_MS, 0, HOUR_MS),
  }),
  channel: section('channel', {
    tickKib: int('tick_kib', 16, 1, 65536),
    initialCreditKib: int('initial_credit_kib', 64, 0, 1_048_576),
    maxCreditMsat: int('max_credit_msat', 1000, 0, MAX_MSAT),
    lossTolerancePct: int('loss_tolerance_pct', 2, 0, 100),
    persistIntervalMs: durationMs('persist_interval_ms', 2000, 0, HOUR_MS),
    zeroConfCapSat: int('zero_conf_cap_sat', 100_000, 0, 2_100_000_000_000_000),
  }),
  chain: section('chain', {
    backend: oneOf('backend', ['devchain', 'esplora', 'none'], 'devchain'),
    esploraUrl: httpUrl('esplora_url', 'http://127.0.0.1:4280'),
    network: oneOf('network', ['mainnet', 'testnet4', 'signet', 'regtest'], 'regtest'),
  }),
  dataplane: section('dataplane', {
    backend: oneOf('backend', ['proxy', 'nft', 'none'], 'proxy'),
    socksBind: ipAddress('socks_bind', '127.0.0.1'),
    socksPort: int('socks_port', 1080, 0, 65535),
    allowPrivateDestinations: bool('allow_private_destinations', false),
    upstreamInterface: ifnameList('upstream_interface', ['wan']),
  }),
  mgmt: section('mgmt', {
    brokerUrl: mqttUrl('broker_url', ''),
    tlsCa: absPath('tls_ca', ''),
    tlsCert: absPath('tls_cert', ''),
    tlsKey: absPath('tls_key', ''),
    username: str('username', ''),
    password: str('password', ''),
    operator: pubkeyList('operator', []),
    metricsIntervalMs: durationMs('metrics_interval_ms', 30_000, 1000, HOUR_MS),
    metricsPort: int('metrics_port', 0, 0, 65535),
    topicPrefix: topicPrefix('topic_prefix', 'bitmesh'),
  }),
} as const;

export type Schema = typeof SCHEMA;
export type SectionType = keyof Schema;

type ValueOf<S> = S extends OptionSpec<infer T> ? T : never;

/** The validated configuration, camelCase, frozen. Derived from SCHEMA. */
export type BitmeshConfig = {
  readonly [S in SectionType]: { readonly [K in keyof Schema[S]['options']]: ValueOf<Schema[S]['options'][K]> };
};

export type AgentConfig = BitmeshConfig['agent'];
export type MeshConfig = BitmeshConfig['mesh'];
export type MarketConfig = BitmeshConfig['market'];
export type ChannelConfig = BitmeshConfig['channel'];
export type ChainConfig = BitmeshConfig['chain'];
export type MgmtConfig = BitmeshConfig['mgmt'];
