// `bitmesh survey` results: nearby mesh nodes and access points in one shape, from an
// iw scan (OpenWrt routers) or a node-wifi scan (NetworkManager hosts: wifi-survey.ts).
// Pure.

import { signalToQuality } from '../linkquality/quality-curves.js';
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

/** Mesh points first (ours, `meshId`, before others), then by signal, strongest first. */
export function sortSurvey(entries: readonly SurveyEntry[], meshId?: string): SurveyEntry[] {
  const rank = (e: SurveyEntry) => (e.kind === 'mesh' ? (meshId !== undefined && e.meshId === meshId ? 0 : 1) : 2);
  return [...entries].sort((a, b) => rank(a) - rank(b) || b.quality - a.quality || a.bssid.localeCompare(b.bssid));
}
