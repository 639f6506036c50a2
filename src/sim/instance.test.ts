import { describe, expect, it } from 'vitest';
import { generateInstance } from './instance.js';

describe('instance generator', () => {
  it('draws the same instance from the same seed', () => {
    const a = generateInstance(300, 7);
    const b = generateInstance(300, 7);
    expect(Array.from(a.x)).toEqual(Array.from(b.x));
    expect(a.gateways).toEqual(b.gateways);
    expect(a.clients).toEqual(b.clients);
    expect(Array.from(a.adj)).toEqual(Array.from(b.adj));
  });

  it('draws a different instance from another seed', () => {
    expect(generateInstance(300, 1).gateways).not.toEqual(generateInstance(300, 2).gateways);
  });

  it('keeps to its model: roles, liars, reach within hops, symmetric links', () => {
    const inst = generateInstance(500, 3);
    const p = inst.params;
    expect(inst.gateways.length).toBe(Math.round(500 * p.gatewayShare));
    expect(inst.gateways.length + inst.clients.length).toBe(500);
    const liars = inst.gateways.filter((g) => g.claimFactor > 1);
    expect(liars.length).toBe(Math.round(inst.gateways.length * p.liarShare));
    for (const c of inst.clients) {
      expect(c.demandKbps).toBeGreaterThanOrEqual(p.demandMinKbps);
      expect(c.demandKbps).toBeLessThanOrEqual(p.demandMaxKbps);
      for (const r of c.reach) {
        expect(r.hops).toBeGreaterThanOrEqual(1);
        expect(r.hops).toBeLessThanOrEqual(p.maxHops);
        expect(r.quality).toBeGreaterThan(0);
        expect(r.quality).toBeLessThanOrEqual(1);
        expect(r.pathKbps).toBeLessThanOrEqual(p.meshPhyKbps);
      }
    }
    for (let u = 0; u < 500; u++) {
      for (let k = inst.adjStart[u]!; k < inst.adjStart[u + 1]!; k++) {
        const v = inst.adj[k]!;
        expect(Math.hypot(inst.x[u]! - inst.x[v]!, inst.y[u]! - inst.y[v]!)).toBeLessThan(inst.range);
        expect(Array.from(inst.adj.subarray(inst.adjStart[v]!, inst.adjStart[v + 1]!))).toContain(u);
      }
    }
  });

  it('makes path quality fall with hops', () => {
    const inst = generateInstance(1000, 5);
    const mean = (h: number) => {
      const qs = inst.clients.flatMap((c) => c.reach.filter((r) => r.hops === h).map((r) => r.quality));
      return qs.reduce((a, b) => a + b, 0) / qs.length;
    };
    expect(mean(1)).toBeGreaterThan(mean(2));
    expect(mean(2)).toBeGreaterThan(mean(3));
    expect(mean(3)).toBeGreaterThan(mean(4));
  });
});
