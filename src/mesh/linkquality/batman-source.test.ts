import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import { BatmanSource } from './batman-source.js';
import type { CommandRunner } from './command-runner.js';
import { LinkQualityConfigError, LinkQualityParseError, LinkQualityUnavailableError } from './errors.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

/** A runner that answers from recorded output and remembers what it was asked. */
function recorded(outputs: Record<string, string>): { run: CommandRunner; calls: string[][] } {
  const calls: string[][] = [];
  const run: CommandRunner = (file, args, timeoutMs) => {
    calls.push([file, ...args, String(timeoutMs)]);
    const out = outputs[args[args.length - 1] ?? ''];
    return out === undefined ? Promise.reject(new LinkQualityUnavailableError('failed', 'no such table')) : Promise.resolve(out);
  };
  return { run, calls };
}

describe('BatmanSource', () => {
  it('runs batctl on the mesh interface and ranks the best route to every originator (BATMAN_IV)', async () => {
    const { run, calls } = recorded({ originators_json: fixture('batctl-oj-batman-iv.json') });
    const src = new BatmanSource({ run, meshIface: 'bat1', timeoutMs: 750 });
    const samples = await src.sample();
    expect(calls).toEqual([['batctl', 'meshif', 'bat1', 'originators_json', '750']]);
    expect(samples.map((s) => s.mac)).toEqual(['02:5a:10:c4:00:01', '02:5a:10:c4:00:02', '02:5a:10:c4:00:03', '02:5a:10:c4:00:04']);
    expect(samples[2]).toEqual({
      mac: '02:5a:10:c4:00:03',
      quality: 201 / 255,
      tq: 201,
      lastSeenMs: 1450,
      iface: 'mesh0',
      nextHop: '02:5a:10:c4:00:01',
      source: 'batman',
    });
    expect(src.name).toBe('batman');
  });

  it('uses throughput for BATMAN_V and ranks by it', async () => {
    const { run } = recorded({ originators_json: fixture('batctl-oj-batman-v.json') });
    const samples = await new BatmanSource({ run }).sample();
    expect(samples.map((s) => [s.mac, s.throughputKbps])).toEqual([
      ['02:5a:10:c4:00:01', 54_300],
      ['02:5a:10:c4:00:03', 26_500],
      ['02:5a:10:c4:00:02', 8_700],
    ]);
    expect(samples[0]?.quality).toBeCloseTo(Math.log10(543) / 4, 10);
    expect(samples[0]?.tq).toBeUndefined();
  });

  it('keeps at most maxSamples, the best ones', async () => {
    const { run } = recorded({ originators_json: fixture('batctl-oj-batman-iv.json') });
    const samples = await new BatmanSource({ run, maxSamples: 2 }).sample();
    expect(samples.map((s) => s.tq)).toEqual([247, 233]);
  });

  it('reads neighbours and gateways through the same runner', async () => {
    const { run, calls } = recorded({
      neighbors_json: fixture('batctl-nj-batman-v.json'),
      gateways_json: fixture('batctl-gwj-batman-v.json'),
    });
    const src = new BatmanSource({ run });
    expect((await src.neighbors()).length).toBe(3);
    expect((await src.gateways()).find((g) => g.best)?.origAddress).toBe('02:5a:10:c4:00:03');
    expect(calls.map((c) => c[3])).toEqual(['neighbors_json', 'gateways_json']);
  });

  it('passes on typed errors: a failing batctl and unreadable output', async () => {
    await expect(new BatmanSource({ run: recorded({}).run }).sample()).rejects.toBeInstanceOf(LinkQualityUnavailableError);
    const garbled = recorded({ originators_json: '[{"orig_address":' });
    await expect(new BatmanSource({ run: garbled.run }).sample()).rejects.toBeInstanceOf(LinkQualityParseError);
  });

  it('refuses an interface name that could be read as an option', () => {
    const { run } = recorded({});
    expect(() => new BatmanSource({ run, meshIface: '-h' })).toThrow(LinkQualityConfigError);
    expect(() => new BatmanSource({ run, meshIface: 'bat0 bat1' })).toThrow(LinkQualityConfigError);
  });
});
