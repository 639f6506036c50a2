// The config schema: every section of /etc/config/bitmesh and every option in it, as a
// table. Adding an option is adding one row; its TypeScript type, default, validation
// and documentation (docs/config.md, checked by a test) all follow from that row.
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
  readonly doc: string;
  readonly decode: (raw: string | readonly string[]) => Decoded<T>;
}

export interface SectionSpec<O extends Record<string, OptionSpec<unknown>>> {
  /** The section's name: `config <type> '<name>'`. An anonymous section is accepted too. */
  readonly name: string;
  readonly doc: string;
  readonly options: O;
}

// ---- value kinds ----

type Parse<T> = (raw: string) => T | undefined;

function scalar<T>(uci: string, expected: string, parse: Parse<T>, def: T, doc: string): OptionSpec<T> {
  const decode = (raw: string | readonly string[]): Decoded<T> => {
    if (typeof raw !== 'string') return { ok: false, got: raw.join(' '), list: true };
    const value = parse(raw);
    return value === undefined ? { ok: false, got: raw } : { ok: true, value };
  };
  return { uci, expected, list: false, default: def, doc, decode };
}

function listOf<T>(uci: string, expected: string, parse: Parse<T>, def: readonly T[], doc: string): OptionSpec<readonly T[]> {
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
  return { uci, expected: `a list of ${expected}`, list: true, default: def, doc, decode };
}

const intParser = (min: number, max: number): Parse<number> => (raw) => {
  if (!/^-?[0-9]{1,16}$/.test(raw)) return undefined;
  const n = Number(raw);
  return n >= min && n <= max ? n : undefined;
};

export function int(uci: string, def: number, min: number, max: number, doc: string): OptionSpec<number> {
  return scalar(uci, `an integer ${min}-${max}`, intParser(min, max), def, doc);
}

export function durationMs(uci: string, def: number, min: number, max: number, doc: string): OptionSpec<number> {
  return scalar(uci, `a duration in milliseconds ${min}-${max}`, intParser(min, max), def, doc);
}

// The words OpenWrt's config_get_bool accepts (/lib/functions.sh).
const TRUE = new Set(['1', 'on', 'true', 'yes', 'enabled']);
const FALSE = new Set(['0', 'off', 'false', 'no', 'disabled']);

export function bool(uci: string, def: boolean, doc: string): OptionSpec<boolean> {
  const parse: Parse<boolean> = (raw) => (TRUE.has(raw) ? true : FALSE.has(raw) ? false : undefined);
  return scalar(uci, 'a boolean (1/0, yes/no, on/off, true/false)', parse, def, doc);
}

export function oneOf<const V extends readonly string[]>(
  uci: string,
  values: V,
  def: V[number],
  doc: string,
): OptionSpec<V[number]> {
  const parse: Parse<V[number]> = (raw) => values.find((v) => v === raw);
  return scalar(uci, `one of ${values.join(', ')}`, parse, def, doc);
}

export function str(uci: string, def: string, doc: string): OptionSpec<string> {
  return scalar(uci, 'a string', (raw) => raw, def, doc);
}

export function strList(uci: string, def: readonly string[], doc: string): OptionSpec<readonly string[]> {
  return listOf(uci, 'strings', (raw) => (raw === '' ? undefined : raw), def, doc);
}

/** Linux interface names: 1-15 bytes, no whitespace, '/' or ':', and no leading '-'. */
export function ifnameList(uci: string, def: readonly string[], doc: string): OptionSpec<readonly string[]> {
  const parse: Parse<string> = (raw) =>
    /^[^\s/:\x00-\x1f\x7f-][^\s/:\x00-\x1f\x7f]*$/.test(raw) && Buffer.byteLength(raw) <= 15 ? raw : undefined;
  return listOf(uci, 'interface names', parse, def, doc);
}

export function absPath(uci: string, def: string, doc: string): OptionSpec<string> {
  return scalar(uci, 'an absolute path', (raw) => (raw.startsWith('/') ? raw : undefined), def, doc);
}

export function ipAddress(uci: string, def: string, doc: string): OptionSpec<string> {
  return scalar(uci, 'an IPv4 or IPv6 address', (raw) => (isIP(raw) !== 0 ? raw : undefined), def, doc);
}

/** An http(s) URL, or empty for "not configured". */
export function optionalHttpUrl(uci: string, doc: string): OptionSpec<string> {
  const parse: Parse<string> = (raw) => {
    if (raw === '') return raw;
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    return url && (url.protocol === 'http:' || url.protocol === 'https:') ? raw : undefined;
  };
  return scalar(uci, 'an http:// or https:// URL, or empty', parse, '', doc);
}

export function httpUrl(uci: string, def: string, doc: string): OptionSpec<string> {
  const parse: Parse<string> = (raw) => {
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    return url && (url.protocol === 'http:' || url.protocol === 'https:') ? raw : undefined;
  };
  return scalar(uci, 'an http:// or https:// URL', parse, def, doc);
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

export function hostPortList(uci: string, def: readonly HostPort[], doc: string): OptionSpec<readonly HostPort[]> {
  return listOf(uci, 'host:port ([v6]:port for IPv6)', parseHostPort, def, doc);
}

export function mqttUrl(uci: string, def: string, doc: string): OptionSpec<string> {
  const parse: Parse<string> = (raw) => {
    const url = URL.canParse(raw) ? new URL(raw) : undefined;
    return url && (url.protocol === 'mqtt:' || url.protocol === 'mqtts:') && url.hostname !== '' ? raw : undefined;
  };
  return scalar(uci, 'an mqtt:// or mqtts:// URL', parse, def, doc);
}

/** x-only public keys as bm1… or 64 hex; the value is lowercase hex. */
export function pubkeyList(uci: string, def: readonly string[], doc: string): OptionSpec<readonly string[]> {
  const parse: Parse<string> = (raw) => {
    try {
      return bytesToHex(parseNodeId(raw));
    } catch {
      return undefined;
    }
  };
  return listOf(uci, 'public keys (bm1… or 64 hex)', parse, def, doc);
}

/** MQTT topic levels without wildcards: `bitmesh`, `site/bitmesh`. */
export function topicPrefix(uci: string, def: string, doc: string): OptionSpec<string> {
  const parse: Parse<string> = (raw) => (/^[A-Za-z0-9_.-]+(\/[A-Za-z0-9_.-]+)*$/.test(raw) ? raw : undefined);
  return scalar(uci, 'MQTT topic levels (letters, digits, _ . -, separated by /)', parse, def, doc);
}

function section<const O extends Record<string, OptionSpec<unknown>>>(name: string, doc: string, options: O): SectionSpec<O> {
  return { name, doc, options };
}

// ---- the table ----

const MAX_MSAT = 1_000_000_000_000;
const HOUR_MS = 3_600_000;

export const SCHEMA = {
  agent: section('main', 'The agent process.', {
    role: oneOf('role', ['gateway', 'client', 'both'], 'client', 'Sell upstream (gateway), buy it (client), or both.'),
    stateDir: absPath('state_dir', '/etc/bitmesh', 'Keys, channel state and reputation; kept across sysupgrade. `--state-dir` overrides.'),
    controlSocket: absPath('control_socket', '', 'Unix socket for the `bitmesh` CLI; empty means `<state_dir>/bitmesh.sock`.'),
    logLevel: oneOf('log_level', ['debug', 'info', 'warn', 'error'], 'info', 'Least severe level that is logged.'),
    logTarget: oneOf('log_target', ['stderr', 'syslog'], 'stderr', 'Where logs go; the OpenWrt package sets syslog.'),
    helperPath: absPath('helper_path', '', 'The native crypto helper (bitmesh-helper); empty means look for it in PATH. Used only if it passes the test vectors and beats noble.'),
  }),
  mesh: section('mesh', 'The UDP control plane on the mesh.', {
    interface: ifnameList('interface', ['bat0'], 'Interfaces to send beacons on and accept control traffic from.'),
    port: int('port', 4270, 1, 65535, 'UDP port of the control plane.'),
    multicastGroup: ipAddress('multicast_group', 'ff02::4270', 'IPv6 link-local multicast group for discovery beacons.'),
    ipv4Broadcast: bool('ipv4_broadcast', true, 'Also beacon to IPv4 broadcast, as a fallback where IPv6 multicast does not reach.'),
    bindAddress: ipAddress('bind_address', '', 'Address to bind the UDP socket to; empty means any (tests use 127.0.0.1).'),
    peer: hostPortList('peer', [], 'Explicit peers to talk to besides discovery (loopback tests, demos).'),
    helloIntervalMs: durationMs('hello_interval_ms', 1000, 10, HOUR_MS, 'Interval between HELLO beacons.'),
    neighbourExpiryMs: durationMs('neighbour_expiry_ms', 5000, 10, HOUR_MS, 'A neighbour not heard from for this long is dropped.'),
    maxNeighbours: int('max_neighbours', 256, 1, 65535, 'Size cap of the neighbour table.'),
    linkQuality: oneOf('link_quality', ['none', 'batman', 'iw', 'wifi'], 'none', 'Source of mesh link quality to gateways: none, batctl, iw station data, or node-wifi.'),
    linkQualityIface: str('link_quality_iface', '', 'Interface the link-quality source reads: the 802.11s interface for iw (e.g. mesh0), the Wi-Fi interface for wifi; batman uses the first mesh interface.'),
    linkQualityIntervalMs: durationMs('link_quality_interval_ms', 5000, 500, HOUR_MS, 'How often link quality to neighbours is sampled.'),
    peerRatePerS: int('peer_rate_per_s', 200, 1, 1_000_000, 'Datagrams per second accepted from one peer (token rate).'),
    peerBurst: int('peer_burst', 400, 1, 1_000_000, 'Datagrams one peer may send in a burst (bucket size).'),
    garbageBanThreshold: int('garbage_ban_threshold', 20, 1, 1_000_000, 'Bad datagrams from one peer within the counting window before it is ignored.'),
    banMs: durationMs('ban_ms', 60_000, 0, 24 * HOUR_MS, 'How long a peer that sent garbage is ignored.'),
    clockSkewMs: durationMs('clock_skew_ms', 30_000, 0, HOUR_MS, 'Signed messages with a timestamp further than this from our clock are rejected.'),
    replayCacheSize: int('replay_cache_size', 4096, 16, 1_048_576, 'Nonces remembered to reject replayed signed messages.'),
  }),
  market: section('market', 'Prices.', {
    priceMsatPerKib: int('price_msat_per_kib', 1, 0, MAX_MSAT, 'Gateway: asking price in millisatoshi per KiB (1024 bytes); 1 ≈ 1 sat per MiB, so the 1-sat credit cap is 1000 KiB.'),
    wanInterface: str('wan_interface', '', 'Gateway: the uplink interface whose counters measure what it really carries (e.g. wan); empty: only the bytes it served count.'),
    maxPriceMsatPerKib: int('max_price_msat_per_kib', 10, 0, MAX_MSAT, 'Client: the most it pays, in millisatoshi per KiB.'),
    probeUrl: optionalHttpUrl('probe_url', 'Gateway: a URL downloaded through the uplink now and then to measure what it can carry; empty: only the bytes it served count (a gateway that has served nothing then bids nothing).'),
    probeIntervalMs: durationMs('probe_interval_ms', 300_000, 1000, 24 * HOUR_MS, 'Gateway: time between two uplink probes.'),
    wantedKbps: int('wanted_kbps', 1_000_000, 1, 100_000_000, 'Client: the rate it asks for in its auctions, kbit/s (default: as much as it can get).'),
    reserveMs: durationMs('reserve_ms', DEFAULT_RESERVE_MS, 0, 60_000, 'Gateway: for this long after accepting an award, while the new client\'s load is not yet in the measured spare, bids to other clients offer only what that award did not take; 0: off, and clients auctioning at the same moment may all be promised the same spare.'),
    clientProbeUrl: optionalHttpUrl('client_probe_url', 'Client: a URL pulled through the awarded gateway (SOCKS endpoint in proxy mode, the default route in nft mode) to test its claimed spare; the bytes are paid like any others. Empty: no capacity probes (the market is told so).'),
    clientProbeMs: durationMs('client_probe_ms', DEFAULT_PROBE_MS, 0, 60_000, 'Client: length of the capacity probe after each award, a full-rate pull up to the claimed spare; 0: never probe. Only a claim a quarter above wanted_kbps is probed: a client that wants as much as it can get (the default) tests the claim with its own traffic.'),
    clientProbeDelayMaxMs: durationMs('client_probe_delay_max_ms', DEFAULT_PROBE_DELAY_MAX_MS, 0, HOUR_MS, 'Client: a probe starts at a random moment at most this long after the award, so clients awarded together do not probe one uplink at once.'),
  }),
  channel: section('channel', 'Payment channel terms.', {
    tickKib: int('tick_kib', 16, 1, 65536, 'KiB paid for by one TICK (one hash-chain element).'),
    initialCreditKib: int('initial_credit_kib', 64, 0, 1_048_576, 'Gateway: KiB granted ahead of payment when a channel opens.'),
    maxCreditMsat: int('max_credit_msat', 1000, 0, MAX_MSAT, 'Gateway: the credit never grows past this, in millisatoshi.'),
    lossTolerancePct: int('loss_tolerance_pct', 2, 0, 100, 'Gateway: share of bytes lost between the two meters that is tolerated.'),
    persistIntervalMs: durationMs('persist_interval_ms', 2000, 0, HOUR_MS, 'Least time between two writes of channel state (flash wear).'),
    zeroConfCapSat: int('zero_conf_cap_sat', 100_000, 0, 2_100_000_000_000_000, 'Gateway: largest unconfirmed funding accepted, in satoshi.'),
  }),
  chain: section('chain', 'The Bitcoin chain backend.', {
    backend: oneOf('backend', ['devchain', 'esplora', 'none'], 'devchain', 'devchain (started in-process if none answers at esplora_url; demos, tests, laptops), an Esplora server, or none (mesh only: no channels).'),
    esploraUrl: httpUrl('esplora_url', 'http://127.0.0.1:4280', 'Base URL of the Esplora REST API.'),
    network: oneOf('network', ['mainnet', 'testnet4', 'signet', 'regtest'], 'regtest', 'Bitcoin network.'),
  }),
  dataplane: section('dataplane', 'How paid traffic is carried and metered.', {
    backend: oneOf('backend', ['proxy', 'nft', 'none'], 'proxy', 'proxy: a metered SOCKS5 relay in the agent (no root; laptops, demo). nft: kernel forwarding with per-client quotas (routers, root). none: no data plane.'),
    socksBind: ipAddress('socks_bind', '127.0.0.1', 'Client: address of the local SOCKS5 endpoint that follows the current gateway (no authentication: keep it local).'),
    socksPort: int('socks_port', 1080, 0, 65535, 'Client: port of the local SOCKS5 endpoint; 0 picks a free one.'),
    allowPrivateDestinations: bool('allow_private_destinations', false, 'Gateway (proxy): let clients reach loopback and private addresses through the relay (demo and tests only).'),
    upstreamInterface: ifnameList('upstream_interface', ['wan'], 'Gateway (nft): interfaces towards the internet; traffic from the mesh to these is metered.'),
  }),
  mgmt: section('mgmt', 'Remote management over MQTT and the Prometheus endpoint (docs/mgmt.md).', {
    brokerUrl: mqttUrl('broker_url', '', 'MQTT broker, `mqtt://host:1883` or `mqtts://host:8883`; empty means no remote management.'),
    tlsCa: absPath('tls_ca', '', 'PEM file of the CA that signed the broker certificate (mqtts); empty means the system CAs.'),
    tlsCert: absPath('tls_cert', '', 'PEM client certificate, for brokers that authenticate clients by certificate.'),
    tlsKey: absPath('tls_key', '', 'PEM private key of the client certificate.'),
    username: str('username', '', 'Broker user name (the ACL in docs/mgmt.md uses the node id).'),
    password: str('password', '', 'Broker password.'),
    operator: pubkeyList('operator', [], 'Operator public keys whose signed commands this node obeys; none means every command is refused.'),
    metricsIntervalMs: durationMs('metrics_interval_ms', 30_000, 1000, HOUR_MS, 'Interval between metrics messages on MQTT.'),
    metricsPort: int('metrics_port', 0, 0, 65535, 'Serve Prometheus `/metrics` on 127.0.0.1 at this port; 0 means off.'),
    topicPrefix: topicPrefix('topic_prefix', 'bitmesh', 'First levels of every topic: `<prefix>/<node id>/status`, …'),
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
