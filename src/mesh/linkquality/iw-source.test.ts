import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import type { CommandRunner } from './command-runner.js';
import { LinkQualityConfigError, LinkQualityParseError } from './errors.js';
import { IwSource } from './iw-source.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

function answering(out: string): { run: CommandRunner; calls: string[][] } {
  const calls: string[][] = [];
  return {
    calls,
    run: (file, args) => {
      calls.push([file, ...args]);
      return Promise.resolve(out);
    },
  };
}

describe('IwSource', () => {
  it('runs station dump and ranks peers: expected throughput, then signal, non-ESTAB last', async () => {
    const { run, calls } = answering(fixture('iw-station-dump-mesh1-three-peers.txt'));
    const samples = await new IwSource({ run, iface: 'mesh1' }).sample();
    expect(calls).toEqual([['iw', 'dev', 'mesh1', 'station', 'dump']]);
    expect(samples.map((s) => s.mac)).toEqual(['8e:3f:02:71:aa:10', 'd6:44:be:08:2c:71', '5a:0c:91:e2:17:3b']);
    expect(samples[0]).toEqual({
      mac: '8e:3f:02:71:aa:10',
      quality: Math.log10(414.06) / 4,
      throughputKbps: 41_406,
      signalDbm: -60, // the average, steadier than the last frame's
      lastSeenMs: 40,
      iface: 'mesh1',
      source: 'iw',
    });
    expect(samples[1]?.quality).toBeCloseTo(18 / 50, 10);
    expect(samples[2]?.quality).toBe(0); // OPN_SNT: no peer link yet
  });

  it('maps the OpenWISP peer from its signal when there is no throughput estimate', async () => {
    const { run } = answering(fixture('iw-station-dump-mesh0-openwisp.txt'));
    const [s] = await new IwSource({ run, iface: 'mesh0' }).sample();
    expect(s).toMatchObject({ mac: '44:d1:fa:d2:04:d6', signalDbm: -42, quality: 1, lastSeenMs: 10 });
  });

  it('station(mac) runs station get with a normalised MAC', async () => {
    const { run, calls } = answering(fixture('iw-station-get-wlan0-mesh-spaces.txt'));
    const src = new IwSource({ run, iface: 'wlan0-mesh' });
    const st = await src.station('3C:A6:2F:10:20:5E');
    expect(calls).toEqual([['iw', 'dev', 'wlan0-mesh', 'station', 'get', '3c:a6:2f:10:20:5e']]);
    expect(st?.expectedThroughputKbps).toBe(31_007);
    await expect(src.station('3c:a6:2f:10:20:5f')).resolves.toBeNull();
    await expect(src.station('nope')).rejects.toBeInstanceOf(LinkQualityConfigError);
  });

  it('passes on a parse error from unreadable output', async () => {
    const { run } = answering('garbage\n');
    await expect(new IwSource({ run, iface: 'mesh0' }).sample()).rejects.toBeInstanceOf(LinkQualityParseError);
  });
});
