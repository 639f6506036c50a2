import { describe, expect, it } from 'vitest';
import { LinkQualityUnavailableError } from '../mesh/linkquality/errors.js';
import type { LinkQualitySource, LinkSample } from '../mesh/linkquality/source.js';
import { NeighbourTable } from '../mesh/neighbour-table.js';
import { LinkMonitor } from './link-monitor.js';
import { silentLogger } from './log.js';

const sample = (mac: string, quality: number): LinkSample => ({ mac, quality, source: 'batman' });

describe('link monitor', () => {
  it('attaches readings to neighbours by link-local EUI-64 or ARP', async () => {
    const table = new NeighbourTable({ expiryMs: 10_000, maxEntries: 8 });
    table.heard(new Uint8Array(32).fill(1), 'fe80::a8bb:ccff:fedd:eeff%bat0', 4270, 1, 0, 0);
    table.heard(new Uint8Array(32).fill(2), '10.13.0.7', 4270, 1, 0, 0);
    table.heard(new Uint8Array(32).fill(3), '10.13.0.8', 4270, 1, 0, 0); // no reading for it
    const source: LinkQualitySource = {
      name: 'batman',
      sample: async () => [sample('aa:bb:cc:dd:ee:ff', 0.9), sample('02:ca:fe:00:00:07', 0.4)],
    };
    const m = new LinkMonitor(source, table, 1000, () => 5, silentLogger, async () => new Map([['10.13.0.7', '02:ca:fe:00:00:07']]));
    await m.sampleOnce();
    const q = table.list().map((n) => n.link?.quality ?? null);
    expect(q).toEqual([0.9, 0.4, null]);
    expect(m.stats.matched).toBe(2);
  });

  it('counts an unavailable source and keeps going', async () => {
    const table = new NeighbourTable({ expiryMs: 10_000, maxEntries: 8 });
    const source: LinkQualitySource = {
      name: 'iw',
      sample: async () => {
        throw new LinkQualityUnavailableError('missing', 'iw not installed');
      },
    };
    const m = new LinkMonitor(source, table, 1000, () => 5, silentLogger, async () => new Map());
    await m.sampleOnce();
    await m.sampleOnce();
    expect(Object.values(m.stats.errors)).toEqual([2]);
  });
});
