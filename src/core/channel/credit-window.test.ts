import { describe, expect, it } from 'vitest';
import { CreditWindow } from './credit-window.js';

const TICK = 16 * 1024;

/**
 * A flow metered by polls, as in nft mode: the link carries `rateBytesPerMs` while the
 * allowance (paid + credit) lasts; the payee reads its counter every `pollMs` and the
 * payer reads its own half a poll later and pays 2 ms after that. Returns the credit
 * reached and the share of the link's rate the flow carried over the last 3 s.
 */
function polledFlow(
  lagMs: number,
  opts: { rateBytesPerMs: number; pollMs: number; capBytes: number; ms: number; payerAheadBytes?: number } = { rateBytesPerMs: 2500, pollMs: 100, capBytes: 4 << 20, ms: 6000 },
): { credit: number; carried: number } {
  const ahead = opts.payerAheadBytes ?? 0;
  const w = new CreditWindow(64 * 1024, opts.capBytes, TICK, lagMs);
  let served = 0;
  let counted = 0;
  let paid = 0;
  const ticksDue: [number, number][] = [];
  w.start(0, 0);
  let servedAt3s = 0;
  for (let t = 1; t <= opts.ms; t++) {
    served += Math.max(0, Math.min(opts.rateBytesPerMs, paid + w.creditBytes - served));
    if (t % opts.pollMs === 0) {
      w.onServed(served - counted, served, t);
      counted = served;
    }
    if (t % opts.pollMs === opts.pollMs / 2) ticksDue.push([t + 2, Math.floor((served + ahead) / TICK)]);
    while (ticksDue.length > 0 && ticksDue[0]![0] <= t) {
      const [, index] = ticksDue.shift()!;
      if (index * TICK > paid) {
        paid = index * TICK;
        w.onTick(index, t);
      }
    }
    if (t === opts.ms - 3000) servedAt3s = served;
  }
  return { credit: w.creditBytes, carried: (served - servedAt3s) / (3000 * opts.rateBytesPerMs) };
}

describe('CreditWindow', () => {
  it('with counts read by polls, the meter lag lets the credit grow until the link is full', () => {
    const lagged = polledFlow(200);
    expect(lagged.carried).toBeGreaterThan(0.9);
    expect(lagged.credit).toBeGreaterThan(2500 * 100);
    // Without the lag the round-trip samples of a polled count are far shorter than the
    // loop, the credit stalls near its start and the flow runs at a fraction of the link.
    const blind = polledFlow(0);
    expect(blind.credit).toBeLessThan(lagged.credit / 4);
    expect(blind.carried).toBeLessThan(0.6);
  });

  // A successor channel in nft mode: the client metered on it bytes the gateway billed to
  // the old channel (the hand-over), so its ticks pay for bytes this count has not
  // reached yet. Those ticks have no round-trip sample of their own; taken as none, the
  // credit stayed at its start and a 200 Mbit/s transfer ran at 6 Mbit/s on the testbed.
  it('grows when the payer pays ahead of this count (its ticks arrive before we served their bytes)', () => {
    const ahead = polledFlow(200, { rateBytesPerMs: 2500, pollMs: 100, capBytes: 4 << 20, ms: 6000, payerAheadBytes: 2 * TICK + 500 });
    expect(ahead.credit).toBeGreaterThan(2500 * 100);
    expect(ahead.carried).toBeGreaterThan(0.9);
  });

  it('never grows past its cap, however long the lag', () => {
    const capped = polledFlow(10_000, { rateBytesPerMs: 2500, pollMs: 100, capBytes: 512 * 1024, ms: 4000 });
    expect(capped.credit).toBe(512 * 1024);
  });
});
