// Parser for `iw dev <if> station dump` and `iw dev <if> station get <mac>`.
// iw prints one block per station: a `Station <mac> (on <if>)` line, then one
// `key:<tab>value` line per attribute, indented with a tab (some captures and
// wrappers turn tabs into spaces; both are read). Values follow iw's station.c:
//   signal:  \t-52 [-54, -56] dBm     (per-chain values in brackets are optional)
//   tx bitrate:\t243.7 MBit/s HE-MCS 10 ...   or "(unknown)"
//   expected throughput:\t58.43Mbps  (printed "%u.%u" of kbit/s: "58.43" is 58,043 kbit/s)
//   mesh plink:\tESTAB
//   mesh airtime link metric: 48
//   inactive time:\t10 ms
// Attributes we do not use, and lines without a colon (multi-link and `-v` tables), are
// skipped, so a newer iw does not break us. A malformed value of an attribute we use
// rejects the whole output.

import { LinkQualityParseError } from './errors.js';
import { isIfname } from './ifname.js';
import { normaliseMac } from './mac.js';

/** Longest output we parse: ~1.5 KB per station, a radio holds at most a few hundred. */
export const MAX_IW_OUTPUT_CHARS = 1024 * 1024;

/** 802.11s peer link states, as iw names them. */
export const PLINK_STATES = ['LISTEN', 'OPN_SNT', 'OPN_RCVD', 'CNF_RCVD', 'ESTAB', 'HOLDING', 'BLOCKED', 'UNKNOWN'] as const;
export type PlinkState = (typeof PLINK_STATES)[number];

export interface IwStation {
  readonly mac: string;
  readonly iface: string;
  readonly inactiveMs?: number;
  readonly rxBytes?: number;
  readonly txBytes?: number;
  readonly rxPackets?: number;
  readonly txPackets?: number;
  readonly txRetries?: number;
  readonly txFailed?: number;
  readonly signalDbm?: number;
  /** Per-antenna-chain signal, dBm; empty when iw printed none. */
  readonly chainSignalDbm?: readonly number[];
  readonly signalAvgDbm?: number;
  readonly txBitrateMbps?: number;
  readonly rxBitrateMbps?: number;
  /** mac80211's rate-control estimate of what this link really carries. */
  readonly expectedThroughputKbps?: number;
  readonly meshLlid?: number;
  readonly meshPlid?: number;
  readonly meshPlink?: PlinkState;
  readonly meshAirtimeMetric?: number;
  readonly meshConnectedToGate?: boolean;
  readonly authorized?: boolean;
  readonly connectedTimeS?: number;
}

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

const HEADER_RE = /^\s*Station ([0-9A-Fa-f:]+) \(on ([^\s()]+)\)\s*$/;
const UINT_RE = /^\d{1,20}$/;
const SIGNAL_RE = /^(-?\d{1,3})\s*(?:\[(-?\d{1,3}(?:,\s*-?\d{1,3})*)\]\s*)?dBm$/;
const BITRATE_RE = /^(\d{1,7}(?:\.\d)?) MBit\/s(?:\s.*)?$/;
const EXPECTED_RE = /^(\d{1,7})\.(\d{1,3})Mbps$/;

export function parseIwStations(text: string): IwStation[] {
  if (text.length > MAX_IW_OUTPUT_CHARS) {
    fail(`output is ${text.length} chars, more than ${MAX_IW_OUTPUT_CHARS}`);
  }
  if (text.trim() === '') fail('empty output');
  const stations: IwStation[] = [];
  let cur: Mutable<IwStation> | null = null;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] ?? '';
    const where = `line ${i + 1}`;
    if (line.trim() === '') continue;
    if (/^\s*Station\s/.test(line)) {
      const m = HEADER_RE.exec(line);
      const mac = m ? normaliseMac(m[1] ?? '') : null;
      const iface = m?.[2] ?? '';
      if (mac === null || !isIfname(iface)) fail(`${where}: malformed station header`);
      cur = { mac, iface };
      stations.push(cur);
      continue;
    }
    if (cur === null) fail(`${where}: text before the first "Station" line`);
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    readAttribute(cur, key, value, where);
  }
  return stations;
}

/** Sets the field `key` stands for, unless an earlier line already did (multi-link blocks repeat keys). */
function readAttribute(st: Mutable<IwStation>, key: string, value: string, where: string): void {
  const bad = (): never => fail(`${where}: "${key}" has a malformed value ${JSON.stringify(value.slice(0, 60))}`);
  switch (key) {
    case 'inactive time':
      st.inactiveMs ??= uint(value.replace(/\s*ms$/, ''), bad);
      return;
    case 'rx bytes':
      st.rxBytes ??= uint(value, bad);
      return;
    case 'tx bytes':
      st.txBytes ??= uint(value, bad);
      return;
    case 'rx packets':
      st.rxPackets ??= uint(value, bad);
      return;
    case 'tx packets':
      st.txPackets ??= uint(value, bad);
      return;
    case 'tx retries':
      st.txRetries ??= uint(value, bad);
      return;
    case 'tx failed':
      st.txFailed ??= uint(value, bad);
      return;
    case 'signal': {
      if (st.signalDbm !== undefined) return;
      const s = signal(value, bad);
      st.signalDbm = s.dbm;
      st.chainSignalDbm = s.chains;
      return;
    }
    case 'signal avg':
      st.signalAvgDbm ??= signal(value, bad).dbm;
      return;
    case 'tx bitrate':
      if (st.txBitrateMbps === undefined) {
        const rate = bitrate(value, bad);
        if (rate !== undefined) st.txBitrateMbps = rate;
      }
      return;
    case 'rx bitrate':
      if (st.rxBitrateMbps === undefined) {
        const rate = bitrate(value, bad);
        if (rate !== undefined) st.rxBitrateMbps = rate;
      }
      return;
    case 'expected throughput': {
      const m = EXPECTED_RE.exec(value) ?? bad();
      // iw prints the kbit/s remainder without zero padding: "58.43" is 58 Mbit/s + 43 kbit/s.
      st.expectedThroughputKbps ??= Number(m[1]) * 1000 + Number(m[2]);
      return;
    }
    case 'mesh llid':
      st.meshLlid ??= uint(value, bad);
      return;
    case 'mesh plid':
      st.meshPlid ??= uint(value, bad);
      return;
    case 'mesh plink':
      st.meshPlink ??= PLINK_STATES.find((s) => s === value) ?? bad();
      return;
    case 'mesh airtime link metric':
      st.meshAirtimeMetric ??= uint(value, bad);
      return;
    case 'mesh connected to gate':
      st.meshConnectedToGate ??= yesNo(value, bad);
      return;
    case 'authorized':
      st.authorized ??= yesNo(value, bad);
      return;
    case 'connected time':
      st.connectedTimeS ??= uint(value.replace(/\s*seconds$/, ''), bad);
      return;
    default:
      return;
  }
}

function uint(text: string, bad: () => never): number {
  if (!UINT_RE.test(text)) bad();
  const n = Number(text);
  return Number.isSafeInteger(n) ? n : bad();
}

function signal(text: string, bad: () => never): { dbm: number; chains: number[] } {
  const m = SIGNAL_RE.exec(text) ?? bad();
  const dbm = Number(m[1]);
  const chains = m[2] === undefined ? [] : m[2].split(',').map((c) => Number(c.trim()));
  // The kernel reports signal as a signed byte.
  if ([dbm, ...chains].some((v) => v < -128 || v > 127)) bad();
  return { dbm, chains };
}

/** MBit/s, or undefined when iw printed "(unknown)". */
function bitrate(text: string, bad: () => never): number | undefined {
  if (text.startsWith('(unknown)')) return undefined;
  const m = BITRATE_RE.exec(text) ?? bad();
  return Number(m[1]);
}

function yesNo(text: string, bad: () => never): boolean {
  if (text === 'yes') return true;
  if (text === 'no') return false;
  return bad();
}

function fail(detail: string): never {
  throw new LinkQualityParseError('iw-station', detail);
}
