import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  admitOpen,
  DEFAULT_OPEN_ADMISSION,
  expiredUnfunded,
  OpenRate,
  unfundedDeadline,
  type OpenAdmissionLimits,
  type UnfundedChannel,
} from './open-admission.js';

const L: OpenAdmissionLimits = { perPeer: 2, total: 4, noFundingMs: 1000, unconfirmedMs: 5000, burst: 3, refillMs: 100 };
const ch = (id: string, peer: string, since: number, fundingSeen = false): UnfundedChannel => ({ id, peer, since, fundingSeen });

describe('open admission', () => {
  it('admits below the limits, and refuses a peer that holds its share of unfunded channels', () => {
    expect(admitOpen('p', [], L)).toEqual({ ok: true, evict: undefined });
    expect(admitOpen('p', [ch('a', 'p', 0)], L)).toEqual({ ok: true, evict: undefined });
    expect(admitOpen('p', [ch('a', 'p', 0), ch('b', 'p', 1)], L)).toMatchObject({ ok: false, reason: 'peer_unfunded_limit' });
    expect(admitOpen('q', [ch('a', 'p', 0), ch('b', 'p', 1)], L)).toEqual({ ok: true, evict: undefined });
  });

  it('at the total, evicts the oldest channel with no funding seen, never one whose funding is on its way', () => {
    const full = [ch('a', 'p', 10, true), ch('b', 'q', 20), ch('c', 'r', 5, true), ch('d', 's', 30)];
    expect(admitOpen('t', full, L)).toEqual({ ok: true, evict: 'b' });
    const allFunded = full.map((c) => ({ ...c, fundingSeen: true }));
    expect(admitOpen('t', allFunded, L)).toMatchObject({ ok: false, reason: 'unfunded_limit' });
  });

  it('forgets a channel with no FUNDED after noFundingMs, and one whose funding is unconfirmed after unconfirmedMs', () => {
    const a = ch('a', 'p', 100);
    const b = ch('b', 'p', 100, true);
    expect(unfundedDeadline(a, L)).toBe(1100);
    expect(unfundedDeadline(b, L)).toBe(5100);
    expect(expiredUnfunded([a, b], 1099, L)).toEqual([]);
    expect(expiredUnfunded([a, b], 1100, L)).toEqual([a]);
    expect(expiredUnfunded([a, b], 5100, L)).toEqual([a, b]);
  });

  it('takes a burst of OPENs, then one per refill interval', () => {
    const r = new OpenRate(L);
    expect([r.take(0), r.take(0), r.take(0), r.take(0)]).toEqual([true, true, true, false]);
    expect(r.take(50)).toBe(false);
    expect(r.take(100)).toBe(true);
    expect(r.take(10_000)).toBe(true); // a quiet spell refills the burst, no more
    expect([r.take(10_000), r.take(10_000), r.take(10_000)]).toEqual([true, true, false]);
  });

  it('defaults leave room for a client, its successor channel and a retry', () => {
    expect(DEFAULT_OPEN_ADMISSION.perPeer).toBeGreaterThanOrEqual(3);
    // Longer than a payer takes to fund after ACCEPT, and than a few blocks take to confirm.
    expect(DEFAULT_OPEN_ADMISSION.noFundingMs).toBeGreaterThanOrEqual(60_000);
    expect(DEFAULT_OPEN_ADMISSION.unconfirmedMs).toBeGreaterThanOrEqual(6 * 60 * 60_000);
  });

  // Any sequence of OPENs, FUNDEDs, fundings accepted and time passing, applied the way
  // the channel manager applies the rules: the bounds hold after every step, nothing
  // whose funding was seen is evicted, and nothing outlives its deadline.
  it('property: the bounds hold after every step of any sequence', () => {
    const step = fc.oneof(
      fc.record({ kind: fc.constant('open' as const), peer: fc.integer({ min: 0, max: 5 }) }),
      fc.record({ kind: fc.constant('funded' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('accepted' as const), pick: fc.nat() }),
      fc.record({ kind: fc.constant('wait' as const), ms: fc.integer({ min: 0, max: 3000 }) }),
    );
    fc.assert(
      fc.property(fc.array(step, { maxLength: 200 }), (steps) => {
        let live: UnfundedChannel[] = [];
        const rate = new OpenRate(L);
        let now = 0;
        let next = 0;
        for (const s of steps) {
          if (s.kind === 'wait') now += s.ms;
          const expired = new Set(expiredUnfunded(live, now, L).map((c) => c.id));
          live = live.filter((c) => !expired.has(c.id));
          if (s.kind === 'open') {
            const d = admitOpen(`p${s.peer}`, live, L);
            if (d.ok && rate.take(now)) {
              if (d.evict !== undefined) {
                const gone = live.find((c) => c.id === d.evict)!;
                expect(gone.fundingSeen).toBe(false);
                live = live.filter((c) => c.id !== d.evict);
              }
              live.push(ch(`c${next++}`, `p${s.peer}`, now));
            }
          } else if (s.kind === 'funded' && live.length > 0) {
            const i = s.pick % live.length;
            live[i] = { ...live[i]!, fundingSeen: true };
          } else if (s.kind === 'accepted' && live.length > 0) {
            live.splice(s.pick % live.length, 1);
          }
          expect(live.length).toBeLessThanOrEqual(L.total);
          for (let p = 0; p <= 5; p++) expect(live.filter((c) => c.peer === `p${p}`).length).toBeLessThanOrEqual(L.perPeer);
          for (const c of live) expect(unfundedDeadline(c, L)).toBeGreaterThan(now);
        }
      }),
    );
  });
});
