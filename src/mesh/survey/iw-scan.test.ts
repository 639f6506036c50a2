import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { mutatedText } from '../linkquality/fuzz-text.js';
import { channelOfFrequency, IwScanParseError, parseIwScan, unescapeIw } from './iw-scan.js';

const SCAN = readFileSync(new URL('./fixtures/iw-scan-wlan1.txt', import.meta.url), 'utf8');

describe('parseIwScan on a recorded `iw dev wlan1 scan`', () => {
  const bss = parseIwScan(SCAN);

  it('reads one entry per BSS header, in order', () => {
    expect(bss.map((b) => b.bssid)).toEqual(['0a:4b:11:20:00:01', '0a:4b:11:20:00:02', '0a:4b:11:20:00:03', '0a:4b:11:20:00:04', '0a:4b:11:20:00:05', '0a:4b:11:20:00:06']);
    expect(new Set(bss.map((b) => b.iface))).toEqual(new Set(['wlan1']));
  });

  it('an associated WPA2/WPA3 access point: SSID, channel from freq, signal, last seen', () => {
    expect(bss[0]).toMatchObject({ associated: true, kind: 'ap', ssid: 'Gartenhaus', meshId: null, freqMhz: 5180, channel: 36, signalDbm: -47, lastSeenMs: 40, security: 'wpa2/wpa3' });
  });

  it('a BitMesh 802.11s node: mesh id, SAE, peerings and a mesh gate', () => {
    expect(bss[1]).toMatchObject({ associated: false, kind: 'mesh', ssid: '', meshId: 'bitmesh', channel: 36, signalDbm: -63, security: 'wpa3', meshPeerings: 3, meshGate: true });
  });

  it('another mesh: escaped trailing space in the mesh id, freq with a decimal', () => {
    expect(bss[2]).toMatchObject({ kind: 'mesh', meshId: 'ff nord ', freqMhz: 5200, channel: 40, meshPeerings: 0, meshGate: false });
  });

  it('open, hidden WPA/WPA2 and 6 GHz enterprise networks', () => {
    expect(bss[3]).toMatchObject({ kind: 'ap', ssid: 'Cafe Open', channel: 6, security: 'open', lastSeenMs: 1500 });
    expect(bss[4]).toMatchObject({ kind: 'ap', ssid: '', channel: 11, security: 'wpa2' });
    expect(bss[5]).toMatchObject({ kind: 'ap', ssid: 'Uni-Netz', channel: 1, freqMhz: 5955, security: 'enterprise', lastSeenMs: null });
  });

  it('reads the same with CRLF line ends and with no output at all', () => {
    expect(parseIwScan(SCAN.replace(/\n/g, '\r\n'))).toEqual(bss);
    expect(parseIwScan('')).toEqual([]);
  });
});

describe('parseIwScan on hostile input', () => {
  it.each([
    ['BSS zz:4b:11:20:00:01(on wlan1)\n', /line 1: bad BSS header/],
    ['\tfreq: 2412\n', /attribute before any BSS header/],
    ['BSS 0a:4b:11:20:00:01(on wlan1)\n\tfreq: fast\n', /line 2: bad freq value/],
    ['BSS 0a:4b:11:20:00:01(on wlan1)\n\tsignal: -999.00 dBm\n', /bad signal value/],
    ['BSS 0a:4b:11:20:00:01(on wlan1)\n'.repeat(1) + 'x'.repeat(2 * 1024 * 1024), /more than/],
  ])('rejects %j with a typed error', (text, re) => {
    expect(() => parseIwScan(text)).toThrow(IwScanParseError);
    expect(() => parseIwScan(text)).toThrow(re);
  });

  it('damaged output either parses into well-formed entries or throws IwScanParseError', () => {
    fc.assert(
      fc.property(mutatedText(SCAN), (text) => {
        try {
          for (const b of parseIwScan(text)) {
            expect(b.bssid).toMatch(/^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/);
            expect(b.ssid.length).toBeLessThanOrEqual(32);
            if (b.signalDbm !== null) expect(Number.isInteger(b.signalDbm)).toBe(true);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(IwScanParseError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('helpers', () => {
  it('channel numbers of 2.4, 5 and 6 GHz frequencies', () => {
    expect([2412, 2437, 2472, 2484, 5180, 5825, 5955, 6115, 900].map(channelOfFrequency)).toEqual([1, 6, 13, 14, 36, 165, 1, 33, null]);
  });
  it('undoes iw escaping, a run of NULs is a hidden SSID', () => {
    expect(unescapeIw('caf\\xc3\\xa9')).toBe('café');
    expect(unescapeIw('\\x00\\x00')).toBe('');
    expect(unescapeIw('a\\\\b')).toBe('a\\\\b');
  });
});
