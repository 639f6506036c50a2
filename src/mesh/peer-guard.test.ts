import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PeerGuard, type PeerGuardOptions } from './peer-guard.js';

const opts: PeerGuardOptions = {
  ratePerSec: 100,
  burst: 10,
  garbageThreshold: 5,
  garbageWindowMs: 10_000,
  banMs: 60_000,
  maxPeers: 8,
};

describe('peer guard', () => {
  it('lets a burst through, then the token rate', () => {
    const g = new PeerGuard(opts);
    const results = Array.from({ length: 15 }, () => g.admit('a', 0));
    expect(results.filter((r) => r === 'ok')).toHaveLength(10);
    expect(results.at(-1)).toBe('rate_limited');
    // 100/s refills one token every 10 ms.
    expect(g.admit('a', 10)).toBe('ok');
    expect(g.admit('a', 10)).toBe('rate_limited');
  });

  it('bans a source after the garbage threshold, for ban_ms, and only that source', () => {
    const g = new PeerGuard(opts);
    for (let i = 0; i < 4; i++) g.reportGarbage('bad', 1000);
    expect(g.admit('bad', 1000)).toBe('ok');
    g.reportGarbage('bad', 1000);
    expect(g.admit('bad', 1001)).toBe('banned');
    expect(g.admit('good', 1001)).toBe('ok');
    expect(g.admit('bad', 60_999)).toBe('banned');
    expect(g.admit('bad', 61_000)).toBe('ok');
  });

  it('garbage spread wider than the window earns no ban', () => {
    const g = new PeerGuard(opts);
    for (let i = 0; i < 20; i++) g.reportGarbage('slow', i * 3000);
    expect(g.isBanned('slow', 60_000)).toBe(false);
  });

  it('memory stays bounded and bans survive a flood of new sources', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(1000), fc.boolean()), { maxLength: 500 }), (events) => {
        const g = new PeerGuard(opts);
        for (let i = 0; i < 5; i++) g.reportGarbage('attacker', 0);
        events.forEach(([src, garbage], t) => {
          if (garbage) g.reportGarbage(`s${src}`, t);
          else g.admit(`s${src}`, t);
          expect(g.size).toBeLessThanOrEqual(opts.maxPeers);
        });
        expect(g.admit('attacker', events.length)).toBe('banned');
      }),
    );
  });
});
