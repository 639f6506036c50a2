// `bitmesh survey` on a NetworkManager host: node-wifi's scan as survey entries. Apart
// from site-survey.ts because it lives in dist/bitmesh-dev.js with node-wifi (a router
// surveys with iw). Pure.
import { signalToQuality } from '../linkquality/quality-curves.js';
import { decodeWifiScan } from '../linkquality/wifi-scan.js';
import type { SurveyEntry } from './site-survey.js';

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
