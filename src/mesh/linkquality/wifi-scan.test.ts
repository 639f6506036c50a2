import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { LinkQualityParseError } from './errors.js';
import { decodeWifiScan, wifiScanSamples } from './wifi-scan.js';

const scan: unknown = JSON.parse(readFileSync(new URL('./fixtures/node-wifi-scan-linux.json', import.meta.url), 'utf8'));

describe('node-wifi scan results', () => {
  it('decodes networks and drops the one node-wifi garbled', () => {
    const { networks, dropped } = decodeWifiScan(scan);
    expect(dropped).toBe(1);
    expect(networks).toHaveLength(5);
    expect(networks[1]).toEqual({
      bssid: '3c:a6:2f:10:20:02',
      ssid: 'bitmesh-gw-7',
      channel: 44,
      frequencyMhz: 5220,
      signalDbm: -71.5,
      qualityPercent: 57,
    });
    expect(networks[2]?.ssid).toBe(''); // hidden network
  });

  it('maps each BSSID to one sample, the strongest sighting, with lowercase MACs', () => {
    const samples = wifiScanSamples(scan, 'wlan0');
    expect(samples.map((s) => [s.mac, s.ssid, s.quality])).toEqual([
      ['3c:a6:2f:10:20:01', 'bitmesh-gw-3', 0.82],
      ['3c:a6:2f:10:20:02', 'bitmesh-gw-7', 0.57],
      ['3c:a6:2f:10:20:03', '', 0.23],
      ['7a:01:c3:55:9e:40', 'Corner Cafe', 0.64],
    ]);
    expect(samples[0]).toEqual({
      mac: '3c:a6:2f:10:20:01',
      quality: 0.82,
      signalDbm: -59,
      iface: 'wlan0',
      ssid: 'bitmesh-gw-3',
      channel: 6,
      source: 'wifi',
    });
  });

  it('falls back to the signal when there is no percentage', () => {
    const [s] = wifiScanSamples([{ ssid: 'x', mac: 'AA:BB:CC:DD:EE:FF', signal_level: -75 }]);
    expect(s).toMatchObject({ mac: 'aa:bb:cc:dd:ee:ff', quality: 0.5, signalDbm: -75 });
    expect(s?.iface).toBeUndefined();
  });

  it('an empty scan is no samples', () => {
    expect(wifiScanSamples([])).toEqual([]);
  });

  const bad: Array<[string, unknown, RegExp]> = [
    ['not an array', { networks: [] }, /expected an array of networks, got object/],
    ['null', null, /got null/],
    ['entry a string', ['ssid'], /network 0: expected an object/],
    ['bssid a number', [{ bssid: 5, quality: 50 }], /"bssid" expected a string, got number/],
    ['ssid a number', [{ bssid: 'aa:bb:cc:dd:ee:ff', ssid: 7, quality: 50 }], /"ssid" expected a string/],
    ['quality a string', [{ bssid: 'aa:bb:cc:dd:ee:ff', quality: '50' }], /"quality" expected a number, got string/],
    ['too many networks', new Array(1025).fill({ bssid: 'aa:bb:cc:dd:ee:ff', quality: 1 }), /more than 1024/],
  ];
  for (const [name, input, message] of bad) {
    it(`wrong shape is a LinkQualityParseError: ${name}`, () => {
      expect(() => wifiScanSamples(input)).toThrow(LinkQualityParseError);
      expect(() => wifiScanSamples(input)).toThrow(message);
    });
  }

  it('drops networks with out-of-range numbers instead of trusting them', () => {
    const { networks, dropped } = decodeWifiScan([
      { bssid: 'aa:bb:cc:dd:ee:01', quality: 250, signal_level: 20 },
      { bssid: 'not-a-mac', quality: 50 },
      { bssid: 'aa:bb:cc:dd:ee:02', quality: 40, signal_level: 5 },
    ]);
    expect(dropped).toBe(2);
    expect(networks).toEqual([{ bssid: 'aa:bb:cc:dd:ee:02', ssid: '', qualityPercent: 40 }]);
  });

  it('fuzz: any JSON value maps to samples in 0..1 or raises LinkQualityParseError', () => {
    const network = fc.record(
      {
        ssid: fc.oneof(fc.string(), fc.integer()),
        bssid: fc.oneof(fc.constantFrom('3C:A6:2F:10:20:01', 'aa:bb:cc:dd:ee:ff'), fc.string()),
        channel: fc.oneof(fc.integer(), fc.constant(null), fc.double()),
        signal_level: fc.oneof(fc.double(), fc.constant(null), fc.string()),
        quality: fc.oneof(fc.double(), fc.integer({ min: -10, max: 300 }), fc.constant(null)),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(network), fc.jsonValue()), (input) => {
        try {
          return wifiScanSamples(input).every((s) => s.quality >= 0 && s.quality <= 1 && /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(s.mac));
        } catch (err) {
          if (err instanceof LinkQualityParseError) return true;
          throw err;
        }
      }),
      { numRuns: 500 },
    );
  });
});
