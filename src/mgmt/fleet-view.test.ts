import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { FleetView } from './fleet-view.js';
import type { MetricsSnapshot } from './metrics.js';

const enc = (s: string) => new TextEncoder().encode(s);
const metrics = (node: string, ts: number): MetricsSnapshot => ({
  node,
  ts,
  earnedMsat: 1,
  spentMsat: 0,
  bytesSold: 2,
  bytesBought: 0,
  channelsOpen: 0,
  peers: 1,
  priceMsatPerKiB: 100,
  selling: true,
  cryptoBackend: 'noble',
  uptimeS: 1,
  rssBytes: 1,
  heapUsedBytes: 1,
});

describe('FleetView', () => {
  it('tracks status (online, then the offline will) and metrics age per node', () => {
    const v = new FleetView('bitmesh');
    v.onMessage('bitmesh/bm1a/status', enc(JSON.stringify({ state: 'online', role: 'gateway' })), 0);
    v.onMessage('bitmesh/bm1a/metrics', enc(JSON.stringify(metrics('bm1a', 5))), 1000);
    v.onMessage('bitmesh/bm1b/status', enc('offline'), 1000);
    const [a, b] = v.list(1500);
    expect(a).toMatchObject({ node: 'bm1a', state: 'online', metricsAgeMs: 500 });
    expect(a?.metrics?.bytesSold).toBe(2);
    expect(b).toMatchObject({ node: 'bm1b', state: 'offline', metrics: null, metricsAgeMs: null });
    v.onMessage('bitmesh/bm1a/status', enc('offline'), 2000);
    expect(v.list(2000)[0]?.state).toBe('offline');
  });

  it('ignores junk, other topics and metrics that name another node', () => {
    const v = new FleetView('bitmesh');
    v.onMessage('bitmesh/bm1a/metrics', enc(JSON.stringify(metrics('bm1z', 1))), 0);
    v.onMessage('bitmesh/bm1a/metrics', enc('{not json'), 0);
    v.onMessage('bitmesh/bm1a/status', enc('[1]'), 0);
    v.onMessage('other/bm1a/status', enc('offline'), 0);
    v.onMessage('bitmesh/bm1a/cmd', enc('x'), 0);
    expect(v.list(0)).toEqual([{ node: 'bm1a', state: 'unknown', status: null, metrics: null, metricsAgeMs: null }]);
  });

  it('property: arbitrary messages never throw', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.string(), fc.uint8Array({ maxLength: 64 })), { maxLength: 30 }), (msgs) => {
        const v = new FleetView('bitmesh');
        for (const [t, p] of msgs) v.onMessage(`bitmesh/${t}`, p, 0);
        v.list(0);
      }),
    );
  });
});
