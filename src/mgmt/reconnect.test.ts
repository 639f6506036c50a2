import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { ReconnectMachine } from './reconnect.js';

const fixed = (r: number) => () => r;

describe('ReconnectMachine', () => {
  it('connects at start, then backs off exponentially up to the cap', () => {
    const m = new ReconnectMachine({ baseMs: 500, capMs: 8000, random: fixed(0.999999) });
    m.start();
    expect(m.pollConnect()).toBe(true);
    expect(m.pollConnect()).toBe(false);
    const delays: number[] = [];
    let now = 0;
    for (let i = 0; i < 8; i++) {
      m.failed(now);
      const due = m.pollTimeout()!;
      delays.push(due - now);
      m.handleTimeout(due - 1);
      expect(m.pollConnect()).toBe(false); // not yet
      m.handleTimeout(due);
      expect(m.pollConnect()).toBe(true);
      now = due;
    }
    expect(delays).toEqual([499, 999, 1999, 3999, 7999, 7999, 7999, 7999]);
  });

  it('resets the backoff after a success, so a restarted broker is retried within a second', () => {
    const m = new ReconnectMachine({ baseMs: 500, capMs: 8000, random: fixed(0.999999) });
    m.start();
    for (let i = 0; i < 6; i++) {
      m.failed(0);
      m.handleTimeout(m.pollTimeout()!);
    }
    m.connected();
    expect(m.attempt).toBe(0);
    m.failed(1000); // the broker went away
    expect(m.state).toBe('waiting');
    expect(m.pollTimeout()! - 1000).toBeLessThan(500);
  });

  it('full jitter: delays are spread over [0, bound)', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 50; i++) {
      const m = new ReconnectMachine({ baseMs: 1000, capMs: 1000, random: Math.random });
      m.start();
      m.failed(0);
      seen.add(Math.floor(m.pollTimeout()! / 100));
    }
    expect(seen.size).toBeGreaterThan(5);
  });

  it('after stop, nothing is due', () => {
    const m = new ReconnectMachine({ baseMs: 500, capMs: 8000, random: fixed(0.5) });
    m.start();
    m.failed(0);
    m.stop();
    expect(m.pollTimeout()).toBeUndefined();
    m.handleTimeout(1e9);
    expect(m.pollConnect()).toBe(false);
    expect(m.state).toBe('stopped');
  });

  it('property: any event sequence keeps delays within [0, cap] and one connect per attempt', () => {
    const ev = fc.constantFrom('start', 'connected', 'failed', 'timeout', 'stop');
    fc.assert(
      fc.property(fc.array(fc.tuple(ev, fc.nat(10_000)), { maxLength: 60 }), fc.double({ min: 0, max: 0.9999, noNaN: true }), (events, r) => {
        const m = new ReconnectMachine({ baseMs: 100, capMs: 3000, random: () => r });
        let now = 0;
        let connects = 0;
        let attempts = 0;
        for (const [e, dt] of events) {
          now += dt;
          const before = m.state;
          if (e === 'start') m.start();
          else if (e === 'connected') m.connected();
          else if (e === 'failed') m.failed(now);
          else if (e === 'timeout') m.handleTimeout(now);
          else m.stop();
          if (m.state === 'connecting' && before !== 'connecting') attempts += 1;
          if (m.pollConnect()) connects += 1;
          const due = m.pollTimeout();
          if (due !== undefined && before !== 'waiting') {
            expect(due).toBeGreaterThanOrEqual(now);
            expect(due - now).toBeLessThanOrEqual(3000);
          }
        }
        expect(connects).toBe(attempts);
      }),
    );
  });

  it('refuses nonsense options', () => {
    expect(() => new ReconnectMachine({ baseMs: 0, capMs: 1, random: Math.random })).toThrow(RangeError);
  });
});
