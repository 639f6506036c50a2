import { describe, it, expect } from 'vitest';
import { BatmanSource } from './batman-source.js';
import type { CommandRunner } from './command-runner.js';
import { LinkQualityConfigError } from './errors.js';
import { IwSource } from './iw-source.js';
import { createLinkQualitySource, isLinkQualityKind, LazyWifiSource, LINK_QUALITY_KINDS, type LinkQualityKind } from './select.js';

describe('createLinkQualitySource', () => {
  const calls: string[][] = [];
  const run: CommandRunner = (file, args) => {
    calls.push([file, ...args]);
    return Promise.resolve('[]\n');
  };

  it('makes each kind of source', async () => {
    expect(await createLinkQualitySource('none').sample()).toEqual([]);
    expect(createLinkQualitySource('none').name).toBe('none');
    const batman = createLinkQualitySource('batman', { run, meshIface: 'bat2' });
    expect(batman).toBeInstanceOf(BatmanSource);
    expect(await batman.sample()).toEqual([]);
    expect(calls).toEqual([['batctl', 'meshif', 'bat2', 'originators_json']]);
    expect(createLinkQualitySource('iw', { run, iface: 'mesh0' })).toBeInstanceOf(IwSource);
    const wifi = createLinkQualitySource('wifi', { wifiScanner: { scan: () => Promise.resolve([{ ssid: 'm', bssid: '02:00:00:00:00:01', signal_level: -60 }]) } });
    expect(wifi).toBeInstanceOf(LazyWifiSource);
    expect(wifi.name).toBe('wifi');
    // The scan source itself is loaded on the first sample, and reads the given scanner.
    expect((await wifi.sample()).map((s) => s.mac)).toEqual(['02:00:00:00:00:01']);
  });

  it('iw needs an interface; an unknown kind is a config error', () => {
    expect(() => createLinkQualitySource('iw', { run })).toThrow(LinkQualityConfigError);
    expect(() => createLinkQualitySource('olsr' as LinkQualityKind)).toThrow(/unknown link quality source "olsr"/);
  });

  it('knows its kinds', () => {
    expect(LINK_QUALITY_KINDS).toEqual(['none', 'batman', 'iw', 'wifi']);
    expect(isLinkQualityKind('iw')).toBe(true);
    expect(isLinkQualityKind('babel')).toBe(false);
  });
});
