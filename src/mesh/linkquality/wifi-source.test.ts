import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { LinkQualityParseError, LinkQualityUnavailableError } from './errors.js';
import { loadNodeWifiScanner, WifiScanSource, type WifiScanner } from './wifi-source.js';

const recordedScan: unknown = JSON.parse(readFileSync(new URL('./fixtures/node-wifi-scan-linux.json', import.meta.url), 'utf8'));

const scanner = (scan: () => Promise<unknown>): WifiScanner => ({ scan });

describe('WifiScanSource', () => {
  it('ranks a recorded scan, best first, tagged with the interface', async () => {
    const src = new WifiScanSource({ iface: 'wlan0', scanner: scanner(() => Promise.resolve(recordedScan)) });
    const samples = await src.sample();
    expect(src.name).toBe('wifi');
    expect(samples.map((s) => s.ssid)).toEqual(['bitmesh-gw-3', 'Corner Cafe', 'bitmesh-gw-7', '']);
    expect(samples.every((s) => s.iface === 'wlan0' && s.source === 'wifi')).toBe(true);
  });

  it('turns a scanner failure into a typed error', async () => {
    const enoent = Object.assign(new Error('spawn nmcli ENOENT'), { code: 'ENOENT' });
    const missing = new WifiScanSource({ scanner: scanner(() => Promise.reject(enoent)) });
    await expect(missing.sample()).rejects.toMatchObject({ code: 'LINK_QUALITY_UNAVAILABLE', reason: 'missing' });

    const exit8 = Object.assign(new Error('Command failed: nmcli ... Error: NetworkManager is not running.'), { code: 8 });
    const failed = new WifiScanSource({ scanner: scanner(() => Promise.reject(exit8)) });
    await expect(failed.sample()).rejects.toMatchObject({ reason: 'failed' });

    const throwsSync = new WifiScanSource({
      scanner: {
        scan: () => {
          throw new Error('ERROR : not available for this OS');
        },
      },
    });
    await expect(throwsSync.sample()).rejects.toBeInstanceOf(LinkQualityUnavailableError);
  });

  it('gives up on a scan that hangs', async () => {
    const hung = new WifiScanSource({ timeoutMs: 30, scanner: scanner(() => new Promise(() => {})) });
    await expect(hung.sample()).rejects.toMatchObject({ reason: 'timeout' });
  });

  it('a scan of the wrong shape is a parse error', async () => {
    const odd = new WifiScanSource({ scanner: scanner(() => Promise.resolve('ssid: x')) });
    await expect(odd.sample()).rejects.toBeInstanceOf(LinkQualityParseError);
  });

  it('node-wifi itself loads under ESM and, on this host, scans or fails with a typed error', async () => {
    // No Wi-Fi here (and usually no nmcli): the point is that nothing but our errors comes out.
    let result: unknown;
    try {
      const s = await loadNodeWifiScanner(null);
      result = await new WifiScanSource({ scanner: s, timeoutMs: 10_000 }).sample();
    } catch (err) {
      result = err;
    }
    if (Array.isArray(result)) expect(result.every((s: { source?: unknown }) => s.source === 'wifi')).toBe(true);
    else expect(result).toBeInstanceOf(LinkQualityUnavailableError);
  });
});
