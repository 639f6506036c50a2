// Turns a Wi-Fi scan in node-wifi's documented shape into LinkSamples:
//   { ssid, bssid, mac (= bssid), channel, frequency (MHz), signal_level (dBm),
//     quality (0..100, NetworkManager's percentage), security, security_flags, mode }
// node-wifi builds these by splitting nmcli/airport/netsh text, so a network whose
// SSID contains the separator can come out with NaN numbers or a garbled BSSID; such
// networks are dropped (and counted), while a result of the wrong shape altogether
// is a typed error.

import { LinkQualityParseError } from './errors.js';
import { normaliseMac } from './mac.js';
import { signalToQuality } from './quality-curves.js';
import type { LinkSample } from './source.js';

export interface WifiNetwork {
  readonly bssid: string;
  /** Empty for a hidden network. */
  readonly ssid: string;
  readonly channel?: number;
  readonly frequencyMhz?: number;
  readonly signalDbm?: number;
  readonly qualityPercent?: number;
}

export interface DecodedWifiScan {
  readonly networks: WifiNetwork[];
  /** Networks left out because their BSSID or both signal numbers were unusable or out of range. */
  readonly dropped: number;
}

/** At most this many networks are read from one scan; a busy city has a few hundred. */
export const MAX_WIFI_NETWORKS = 1024;

export function decodeWifiScan(scan: unknown): DecodedWifiScan {
  if (!Array.isArray(scan)) fail(`expected an array of networks, got ${typeName(scan)}`);
  if (scan.length > MAX_WIFI_NETWORKS) fail(`${scan.length} networks, more than ${MAX_WIFI_NETWORKS}`);
  const networks: WifiNetwork[] = [];
  let dropped = 0;
  scan.forEach((entry: unknown, i) => {
    const net = decodeNetwork(entry, i);
    if (net === null) dropped++;
    else networks.push(net);
  });
  return { networks, dropped };
}

/** The scan as samples, one per BSSID (the strongest if listed twice). Pure. */
export function wifiScanSamples(scan: unknown, iface?: string): LinkSample[] {
  const best = new Map<string, LinkSample>();
  for (const net of decodeWifiScan(scan).networks) {
    const s = networkSample(net, iface);
    const cur = best.get(s.mac);
    if (cur === undefined || s.quality > cur.quality) best.set(s.mac, s);
  }
  return [...best.values()];
}

/** node-wifi's own percentage when it has one, else the same -100..-50 dBm line from the signal. */
export function networkSample(net: WifiNetwork, iface?: string): LinkSample {
  const quality =
    net.qualityPercent !== undefined ? net.qualityPercent / 100 : signalToQuality(net.signalDbm ?? NaN);
  return {
    mac: net.bssid,
    quality,
    ...(net.signalDbm !== undefined ? { signalDbm: net.signalDbm } : {}),
    ...(iface !== undefined ? { iface } : {}),
    ssid: net.ssid,
    ...(net.channel !== undefined ? { channel: net.channel } : {}),
    source: 'wifi',
  };
}

function decodeNetwork(entry: unknown, i: number): WifiNetwork | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    fail(`network ${i}: expected an object, got ${typeName(entry)}`);
  }
  const obj = entry as Readonly<Record<string, unknown>>;
  const get = (key: string): unknown => (Object.hasOwn(obj, key) ? obj[key] : undefined);

  const rawBssid = get('bssid') ?? get('mac');
  if (typeof rawBssid !== 'string') fail(`network ${i}: "bssid" expected a string, got ${typeName(rawBssid)}`);
  const ssid = get('ssid') ?? '';
  if (typeof ssid !== 'string') fail(`network ${i}: "ssid" expected a string, got ${typeName(ssid)}`);
  const num = (key: string): number | undefined => {
    const v = get(key);
    if (v === undefined || v === null) return undefined;
    if (typeof v !== 'number') fail(`network ${i}: "${key}" expected a number, got ${typeName(v)}`);
    return Number.isFinite(v) ? v : undefined; // node-wifi's parseInt gives NaN on a garbled line
  };
  const channel = num('channel');
  const frequency = num('frequency');
  // Out-of-range numbers come from a garbled line (a shifted column), not from the air.
  const signalRaw = num('signal_level');
  const qualityRaw = num('quality');
  const signal = signalRaw !== undefined && signalRaw >= -150 && signalRaw <= 0 ? signalRaw : undefined;
  const quality = qualityRaw !== undefined && qualityRaw >= 0 && qualityRaw <= 100 ? qualityRaw : undefined;

  const bssid = normaliseMac(rawBssid);
  if (bssid === null || (signal === undefined && quality === undefined)) return null;
  return {
    bssid,
    ssid: ssid.slice(0, 32), // 802.11 SSIDs are at most 32 octets
    ...(channel !== undefined && Number.isInteger(channel) && channel > 0 ? { channel } : {}),
    ...(frequency !== undefined && frequency > 0 ? { frequencyMhz: frequency } : {}),
    ...(signal !== undefined ? { signalDbm: signal } : {}),
    ...(quality !== undefined ? { qualityPercent: quality } : {}),
  };
}

function typeName(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'array';
  return typeof v;
}

function fail(detail: string): never {
  throw new LinkQualityParseError('wifi-scan', detail);
}
