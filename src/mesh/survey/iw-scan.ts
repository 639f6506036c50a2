// Parser for `iw dev <if> scan` (and `scan dump`): one block per BSS, opened by
//   BSS 0a:4b:11:20:00:01(on wlan1) -- associated
// then tab-indented `key: value` lines, with deeper-indented lines belonging to the last
// key (RSN suites, mesh formation info). Values we read, as iw's scan.c prints them:
//   freq: 5180            (newer iw: 5180.0)
//   signal: -47.00 dBm    (or `signal: 45/100` from drivers without dBm)
//   last seen: 40 ms ago
//   SSID: name            (bytes outside printable ASCII, and edge spaces, as \xNN)
//   MESH ID: name         (same escaping; present only for 802.11s mesh points)
//   capability: ESS Privacy ... (0x0411)
//   RSN: / WPA: blocks with `* Authentication suites: PSK SAE`
//   Number of Peerings: 3 / Connected to Mesh Gate (under MESH configuration)
// Other lines are skipped, so new iw attributes do not break us. A malformed header or
// a malformed value of a key we read rejects the whole output (a typed error).

import { RemoteError } from '../../core/errors.js';
import { normaliseMac } from '../linkquality/mac.js';

/** Longest scan output read: ~2.5 KB per BSS, a few hundred BSSs in a city. */
export const MAX_IW_SCAN_CHARS = 2 * 1024 * 1024;

export type BssKind = 'mesh' | 'ap' | 'ibss' | 'other';
export type BssSecurity = 'open' | 'wep' | 'wpa' | 'wpa2' | 'wpa3' | 'wpa2/wpa3' | 'owe' | 'enterprise';

export interface IwScanBss {
  readonly bssid: string;
  readonly iface: string;
  readonly associated: boolean;
  readonly kind: BssKind;
  /** Empty for a hidden network or a mesh point (802.11s beacons carry a wildcard SSID). */
  readonly ssid: string;
  readonly meshId: string | null;
  readonly freqMhz: number | null;
  readonly channel: number | null;
  readonly signalDbm: number | null;
  /** From `signal: N/100`, when the driver reports no dBm value. */
  readonly signalPercent: number | null;
  readonly lastSeenMs: number | null;
  readonly security: BssSecurity;
  readonly meshPeerings: number | null;
  readonly meshGate: boolean;
}

export class IwScanParseError extends RemoteError {
  constructor(readonly detail: string) {
    super('IW_SCAN_PARSE', `iw scan: ${detail}`);
  }
}

const HEADER_RE = /^BSS ([0-9A-Fa-f:]{17})\(on ([^\s()]{1,15})\)( -- (associated|authenticated|joined|ibss))?\s*$/;
const KEY_RE = /^\t([^\t:][^:]*):\s?(.*)$/;

/** 802.11 channel number of a centre frequency, or null outside the 2.4/5/6 GHz bands. */
export function channelOfFrequency(mhz: number): number | null {
  if (mhz === 2484) return 14;
  if (mhz >= 2412 && mhz <= 2472) return (mhz - 2407) / 5;
  if (mhz >= 5160 && mhz <= 5885) return (mhz - 5000) / 5;
  if (mhz >= 5955 && mhz <= 7115) return (mhz - 5950) / 5;
  return null;
}

/** iw's print_ssid_escaped, undone: \xNN back to the byte (read as Latin-1, then UTF-8). */
export function unescapeIw(text: string): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const hex = text[i] === '\\' && text[i + 1] === 'x' ? /^[0-9a-fA-F]{2}$/.exec(text.slice(i + 2, i + 4)) : null;
    if (hex) {
      bytes.push(parseInt(hex[0], 16));
      i += 3;
    } else {
      const c = text.charCodeAt(i);
      if (c > 0xff) bytes.push(...Buffer.from(text[i]!, 'utf8'));
      else bytes.push(c);
    }
  }
  if (bytes.every((b) => b === 0)) return ''; // hidden SSID: a run of NULs
  return Buffer.from(bytes).toString('utf8');
}

interface Draft {
  bssid: string;
  iface: string;
  associated: boolean;
  ssid: string;
  meshId: string | null;
  freqMhz: number | null;
  signalDbm: number | null;
  signalPercent: number | null;
  lastSeenMs: number | null;
  capability: Set<string>;
  rsnSuites: string[];
  wpaSuites: string[];
  hasRsn: boolean;
  hasWpa: boolean;
  meshPeerings: number | null;
  meshGate: boolean;
  dsChannel: number | null;
}

export function parseIwScan(text: string): IwScanBss[] {
  if (text.length > MAX_IW_SCAN_CHARS) throw new IwScanParseError(`${text.length} characters, more than ${MAX_IW_SCAN_CHARS}`);
  const out: IwScanBss[] = [];
  let cur: Draft | null = null;
  let block = '';
  const lines = text.split('\n');
  for (const [n, rawLine] of lines.entries()) {
    const line = rawLine.replace(/\r$/, '');
    const where = `line ${n + 1}`;
    if (line.trim() === '') continue;
    if (line.startsWith('BSS ')) {
      const m = HEADER_RE.exec(line);
      const mac = m ? normaliseMac(m[1]!) : null;
      if (!m || mac === null) throw new IwScanParseError(`${where}: bad BSS header`);
      if (cur) out.push(finish(cur));
      cur = newDraft(mac, m[2]!, m[4] === 'associated');
      block = '';
      continue;
    }
    if (!cur) throw new IwScanParseError(`${where}: attribute before any BSS header`);
    const key = KEY_RE.exec(line);
    if (key) {
      block = key[1]!;
      readKey(cur, block, key[2]!, where);
      continue;
    }
    if (line.startsWith('\t\t')) readNested(cur, block, line.trim());
    // Anything else (a top-level line without a colon) is a newer iw's table: skipped.
  }
  if (cur) out.push(finish(cur));
  return out;
}

function newDraft(bssid: string, iface: string, associated: boolean): Draft {
  return {
    bssid, iface, associated, ssid: '', meshId: null, freqMhz: null, signalDbm: null, signalPercent: null, lastSeenMs: null,
    capability: new Set(), rsnSuites: [], wpaSuites: [], hasRsn: false, hasWpa: false, meshPeerings: null, meshGate: false, dsChannel: null,
  };
}

function readKey(d: Draft, key: string, value: string, where: string): void {
  const bad = (): never => {
    throw new IwScanParseError(`${where}: bad ${key} value '${value.slice(0, 40)}'`);
  };
  switch (key) {
    case 'freq': {
      const m = /^(\d{4,5})(?:\.\d{1,3})?$/.exec(value.trim()) ?? bad();
      d.freqMhz = Number(m[1]);
      return;
    }
    case 'signal': {
      const dbm = /^(-?\d{1,3})(?:\.\d{1,2})? dBm$/.exec(value.trim());
      const pct = /^(\d{1,3})\/100$/.exec(value.trim());
      if (dbm && Number(dbm[1]) >= -150 && Number(dbm[1]) <= 30) d.signalDbm = Number(dbm[1]);
      else if (pct && Number(pct[1]) <= 100) d.signalPercent = Number(pct[1]);
      else bad();
      return;
    }
    case 'last seen': {
      // Two keys share the name: `81234.561s [boottime]` (skipped) and `40 ms ago`.
      const m = /^(\d{1,10}) ms ago$/.exec(value.trim());
      if (m) d.lastSeenMs = Number(m[1]);
      return;
    }
    case 'SSID':
      d.ssid = unescapeIw(value).slice(0, 32);
      return;
    case 'MESH ID':
      d.meshId = unescapeIw(value).slice(0, 32);
      return;
    case 'capability':
      for (const w of value.replace(/\(0x[0-9a-fA-F]+\)\s*$/, '').trim().split(/\s+/)) if (w) d.capability.add(w);
      return;
    case 'DS Parameter set': {
      const m = /^channel (\d{1,3})$/.exec(value.trim());
      if (m) d.dsChannel = Number(m[1]);
      return;
    }
    case 'RSN':
      d.hasRsn = true;
      return;
    case 'WPA':
      d.hasWpa = true;
      return;
    default:
      return;
  }
}

function readNested(d: Draft, block: string, text: string): void {
  const suites = /^\* Authentication suites: (.*)$/.exec(text);
  if (suites) {
    const list = suites[1]!.trim().split(/\s+/);
    if (block === 'RSN') d.rsnSuites.push(...list);
    if (block === 'WPA') d.wpaSuites.push(...list);
    return;
  }
  if (block !== 'MESH configuration') return;
  const peerings = /^Number of Peerings: (\d{1,3})$/.exec(text);
  if (peerings) d.meshPeerings = Number(peerings[1]);
  if (text === 'Connected to Mesh Gate') d.meshGate = true;
}

function security(d: Draft): BssSecurity {
  const suites = [...d.rsnSuites, ...d.wpaSuites];
  if (suites.some((s) => s.startsWith('IEEE') || s.startsWith('802.1X') || s.startsWith('FT/IEEE'))) return 'enterprise';
  const sae = d.rsnSuites.some((s) => s === 'SAE' || s === 'FT/SAE' || s.startsWith('SAE'));
  const psk = d.rsnSuites.some((s) => s === 'PSK' || s === 'PSK/SHA-256' || s === 'FT/PSK');
  if (sae && psk) return 'wpa2/wpa3';
  if (sae) return 'wpa3';
  if (d.rsnSuites.includes('OWE')) return 'owe';
  if (d.hasRsn) return 'wpa2';
  if (d.hasWpa) return 'wpa';
  return d.capability.has('Privacy') ? 'wep' : 'open';
}

function finish(d: Draft): IwScanBss {
  const kind: BssKind = d.meshId !== null ? 'mesh' : d.capability.has('ESS') ? 'ap' : d.capability.has('IBSS') ? 'ibss' : 'other';
  const channel = d.freqMhz !== null ? channelOfFrequency(d.freqMhz) : null;
  return {
    bssid: d.bssid,
    iface: d.iface,
    associated: d.associated,
    kind,
    ssid: d.ssid,
    meshId: d.meshId,
    freqMhz: d.freqMhz,
    channel: channel ?? d.dsChannel,
    signalDbm: d.signalDbm,
    signalPercent: d.signalPercent,
    lastSeenMs: d.lastSeenMs,
    security: security(d),
    meshPeerings: d.meshPeerings,
    meshGate: d.meshGate,
  };
}
