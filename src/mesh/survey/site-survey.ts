// `bitmesh survey` results: nearby mesh nodes and access points in one shape, from an
// iw scan (OpenWrt routers) or a node-wifi scan (NetworkManager hosts). Pure.

import { signalToQuality } from '../linkquality/quality-curves.js';
import { decodeWifiScan } from '../linkquality/wifi-scan.js';
import type { BssKind, IwScanBss } from './iw-scan.js';

export interface SurveyEntry {
  readonly bssid: string;
  readonly kind: BssKind;
  /** The mesh id for a mesh point, else the SSID; empty when hidden. */
  readonly name: string;
  readonly meshId: string | null;
  readonly channel: number | null;
  readonly signalDbm: number | null;
  /** 0..1 on the same -100..-50 dBm line the link-quality sources use. */
  readonly quality: number;
  /** open, wep, wpa, wpa2, wpa3, wpa2/wpa3, owe, enterprise; or what the scanner said. */
  readonly security: string;
  readonly associated: boolean;
  /** For a mesh point: it says it reaches a mesh gate (an uplink). */
  readonly meshGate: boolean;
  readonly source: 'iw' | 'wifi';
}

export function surveyFromIw(bsses: readonly IwScanBss[]): SurveyEntry[] {
  return bsses.map((b) => ({
    bssid: b.bssid,
    kind: b.kind,
    name: b.meshId ?? b.ssid,
    meshId: b.meshId,
    channel: b.channel,
    signalDbm: b.signalDbm,
    quality: b.signalDbm !== null ? signalToQuality(b.signalDbm) : (b.signalPercent ?? 0) / 100,
    security: b.security,
    associated: b.associated,
    meshGate: b.meshGate,
    source: 'iw',
  }));
}

/**
 * node-wifi's scan (checked by decodeWifiScan). NetworkManager reports a mesh point with
 * mode "Mesh" and its mesh id as the SSID; everything else is listed as an access point.
 */
export function surveyFromWifi(scan: unknown): SurveyEntry[] {
  const out: SurveyEntry[] = [];
  const raw = Array.isArray(scan) ? scan : [];
  for (const entry of raw) {
    const net = decodeWifiScan([entry]).networks[0];
    if (!net) continue;
    const rec = entry as Readonly<Record<string, unknown>>;
    const mode = typeof rec['mode'] === 'string' ? rec['mode'] : '';
    const security = typeof rec['security'] === 'string' && rec['security'] !== '' ? rec['security'].toLowerCase() : 'open';
    const mesh = /^mesh$/i.test(mode);
    out.push({
      bssid: net.bssid,
      kind: mesh ? 'mesh' : /^ad-hoc$/i.test(mode) ? 'ibss' : 'ap',
      name: net.ssid,
      meshId: mesh ? net.ssid : null,
      channel: net.channel ?? null,
      signalDbm: net.signalDbm ?? null,
      quality: net.qualityPercent !== undefined ? net.qualityPercent / 100 : signalToQuality(net.signalDbm ?? NaN),
      security: security.slice(0, 24),
      associated: false,
      meshGate: false,
      source: 'wifi',
    });
  }
  return out;
}

/** Mesh points first (ours, `meshId`, before others), then by signal, strongest first. */
export function sortSurvey(entries: readonly SurveyEntry[], meshId?: string): SurveyEntry[] {
  const rank = (e: SurveyEntry) => (e.kind === 'mesh' ? (meshId !== undefined && e.meshId === meshId ? 0 : 1) : 2);
  return [...entries].sort((a, b) => rank(a) - rank(b) || b.quality - a.quality || a.bssid.localeCompare(b.bssid));
}
