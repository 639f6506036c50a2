import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIwScan } from './iw-scan.js';
import { sortSurvey, surveyFromIw } from './site-survey.js';
import { surveyFromWifi } from './wifi-survey.js';

const IW = readFileSync(new URL('./fixtures/iw-scan-wlan1.txt', import.meta.url), 'utf8');
const WIFI: unknown = JSON.parse(readFileSync(new URL('../linkquality/fixtures/node-wifi-scan-linux.json', import.meta.url), 'utf8'));

describe('site survey', () => {
  it('lists our mesh first, then other meshes, then access points by signal', () => {
    const list = sortSurvey(surveyFromIw(parseIwScan(IW)), 'bitmesh');
    expect(list.map((e) => [e.kind, e.name])).toEqual([
      ['mesh', 'bitmesh'],
      ['mesh', 'ff nord '],
      ['ap', 'Gartenhaus'],
      ['ap', 'Uni-Netz'],
      ['ap', 'Cafe Open'],
      ['ap', ''],
    ]);
    expect(list[0]).toMatchObject({ channel: 36, signalDbm: -63, quality: 0.74, meshGate: true, source: 'iw' });
  });

  it('reads a node-wifi scan: access points with signal, channel and security', () => {
    const list = surveyFromWifi(WIFI);
    expect(list.length).toBeGreaterThan(0);
    expect(list[0]).toMatchObject({ bssid: '3c:a6:2f:10:20:01', kind: 'ap', name: 'bitmesh-gw-3', channel: 6, signalDbm: -59, quality: 0.82, security: 'wpa2', source: 'wifi' });
    expect(surveyFromWifi([{ ssid: 'm', bssid: '02:00:00:00:00:01', mode: 'Mesh', signal_level: -60 }])[0]).toMatchObject({ kind: 'mesh', meshId: 'm' });
    expect(surveyFromWifi('nonsense')).toEqual([]);
  });
});
