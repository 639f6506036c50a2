import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { buildChain } from './hash-chain.js';
import { DEFAULT_PAYEE_CONFIG, PayeeChannel, type PayeeEffect } from './payee.js';
import { fakeSign, fakeVerify, simSha256 } from './sim-pair.test-support.js';
import type { Message, OpenBody } from '../wire/messages.js';

const payeeId = new Uint8Array(32).fill(0xbb);
const payerId = new Uint8Array(32).fill(0xaa);
const channelId = new Uint8Array(32).fill(0xcc);
const chain = buildChain(new Uint8Array(32).fill(1), 256, simSha256);
const cfg = { ...DEFAULT_PAYEE_CONFIG, tickKiB: 1, persistIntervalMs: 100, commitLagMs: 1000, commitLagTicks: 50 };
const deps = { self: payeeId, nonce: () => new Uint8Array(8), sha256: simSha256, verifyCommitment: fakeVerify };

function open(over: Partial<OpenBody> = {}): OpenBody {
  return {
    sender: payerId, ts: 0, nonce: new Uint8Array(8), channelId, payee: payeeId, capacitySat: 10_000, expiryHeight: 1000,
    anchor: chain.anchor, chainLength: 256, tickKiB: 1, priceMsatPerKiB: 100, ...over,
  };
}
const msg = (m: Message) => ({ kind: 'message' as const, message: m });
const tick = (index: number, preimage = chain.element(index)) => msg({ type: 'TICK', body: { channelId, index, preimage } });
const commit = (seq: number, sig = fakeSign(BigInt(seq) * 100n), paid = seq * 100) => msg({ type: 'COMMIT', body: { channelId, seq, paidMsat: paid, sig } });

/** A payee whose durable writes complete at once, funded and open. */
function openPayee(): { ch: PayeeChannel; effects: PayeeEffect[]; step: (i: Parameters<PayeeChannel['handle']>[0], now?: number) => PayeeEffect[] } {
  const r = PayeeChannel.fromOpen(open(), cfg, deps, 0, 0);
  if (!r.ok) throw r.error;
  const ch = r.channel;
  const all: PayeeEffect[] = [];
  const settle = (now: number): PayeeEffect[] => {
    const out: PayeeEffect[] = [];
    for (let e = ch.drain(); e.length > 0; e = ch.drain()) {
      out.push(...e);
      for (const x of e) if (x.kind === 'persist') ch.handle({ kind: 'persisted', version: x.version }, now);
    }
    all.push(...out);
    return out;
  };
  const step = (i: Parameters<PayeeChannel['handle']>[0], now = 0) => {
    ch.handle(i, now);
    return settle(now);
  };
  settle(0);
  step(msg({ type: 'FUNDED', body: { channelId, txid: new Uint8Array(32).fill(9), vout: 1, capacitySat: 10_000 } }));
  step({ kind: 'fundingSeen', txid: new Uint8Array(32).fill(9), vout: 1, valueSat: 10_000, confirmations: 0 });
  return { ch, effects: all, step };
}

describe('payee', () => {
  it('answers OPEN with ACCEPT only once the channel is durable', () => {
    const r = PayeeChannel.fromOpen(open(), cfg, deps, 0, 0);
    expect(r.ok).toBe(true);
    const ch = (r as { channel: PayeeChannel }).channel;
    const first = ch.drain();
    expect(first.map((e) => e.kind)).toEqual(['persist']);
    ch.handle({ kind: 'persisted', version: 1 }, 1);
    expect(ch.drain()).toMatchObject([{ kind: 'send', message: { type: 'ACCEPT', body: { creditBytes: 10 * 1024, lossTolerancePermille: 20 } } }]);
  });

  it.each([
    ['another payee', { payee: new Uint8Array(32) }],
    ['another tick size', { tickKiB: 16 }],
    ['too small', { capacitySat: 10 }],
    ['expiry too close', { expiryHeight: 100 }],
    ['empty chain', { chainLength: 0 }],
  ])('refuses an OPEN with %s', (_what, over) => {
    const r = PayeeChannel.fromOpen(open(over), cfg, deps, 0, 0);
    expect(r).toMatchObject({ ok: false, error: { code: 'bad_terms', blame: 'remote' } });
  });

  it('grants the credit (+ the tolerance floor, one tick) when funded, then one tick more per verified TICK', () => {
    const { ch, effects, step } = openPayee();
    expect(ch.state).toBe('Open');
    expect(ch.toleranceBytes).toBe(1024);
    expect(effects.filter((e) => e.kind === 'grantBytes').at(-1)).toMatchObject({ totalBytes: 11 * 1024 });
    const out = step(tick(1), 5);
    expect(out.find((e) => e.kind === 'grantBytes')).toMatchObject({ totalBytes: 12 * 1024 });
    expect(ch.paidTicks).toBe(1);
  });

  it('keeps the credit at the data plane\'s floor when maxCreditMsat buys less (one GSO packet in nft mode)', () => {
    // 100 msat/KiB: 1 sat buys 10 KiB, less than the 64 KiB aggregate nft forwards whole.
    const floor = (minCreditBytes: number) => {
      const r = PayeeChannel.fromOpen(open(), { ...cfg, initialCreditKiB: 64, minCreditBytes }, deps, 0, 0);
      if (!r.ok) throw r.error;
      return r.channel;
    };
    expect(floor(0).creditCapBytes).toBe(10 * 1024);
    expect(floor(0).creditBytes).toBe(10 * 1024);
    expect(floor(64 * 1024).creditCapBytes).toBe(64 * 1024);
    expect(floor(64 * 1024).creditBytes).toBe(64 * 1024);
  });

  it('waits for confirmations above the zero-conf cap', () => {
    const r = PayeeChannel.fromOpen(open({ capacitySat: 500_000 }), cfg, deps, 0, 0);
    const ch = (r as { channel: PayeeChannel }).channel;
    ch.handle(msg({ type: 'FUNDED', body: { channelId, txid: new Uint8Array(32).fill(9), vout: 0, capacitySat: 500_000 } }), 0);
    const seen = (confirmations: number) => ch.handle({ kind: 'fundingSeen', txid: new Uint8Array(32).fill(9), vout: 0, valueSat: 500_000, confirmations }, 0);
    seen(0);
    expect(ch.state).toBe('AwaitingFunding');
    seen(1);
    expect(ch.state).toBe('Open');
  });

  it('refuses a TICK with a wrong preimage or too wide a gap, unchanged; duplicates are ignored', () => {
    const { ch, step } = openPayee();
    step(tick(1));
    const snap = JSON.stringify(ch.snapshot());
    expect(step(tick(2, new Uint8Array(32)))).toMatchObject([{ kind: 'error', error: { code: 'bad_preimage' } }]);
    expect(step(tick(70))).toMatchObject([{ kind: 'error', error: { code: 'tick_gap' } }]);
    expect(step(tick(257, new Uint8Array(32)))).toMatchObject([{ kind: 'error', error: { code: 'tick_beyond_chain' } }]);
    expect(JSON.stringify(ch.snapshot())).toBe(snap);
    expect(step(tick(1))).toEqual([]);
    expect(ch.counters.duplicateTicks).toBe(1);
    // Reordered: 5 before 3 — 5 verifies over the gap, 3 is then a duplicate.
    step(tick(5));
    step(tick(3));
    expect(ch.paidTicks).toBe(5);
  });

  it('refuses a COMMIT with a bad signature or amount, unchanged; a lower one is ignored', () => {
    const { ch, step } = openPayee();
    for (let i = 1; i <= 20; i++) step(tick(i));
    expect(step(commit(10, new Uint8Array(64)))).toMatchObject([{ kind: 'error', error: { code: 'bad_commit_sig' } }]);
    expect(step(commit(10, fakeSign(1000n), 999))).toMatchObject([{ kind: 'error', error: { code: 'commit_not_tick_aligned' } }]);
    expect(ch.best).toBeUndefined();
    step(commit(20));
    expect(ch.best?.seq).toBe(20);
    expect(step(commit(10))).toEqual([]);
    expect(ch.counters.staleCommits).toBe(1);
    expect(ch.best?.seq).toBe(20);
  });

  it('revokes when a due COMMIT is late and resumes when it is durable', () => {
    const { ch, step } = openPayee();
    for (let i = 1; i <= 10; i++) step(tick(i), 100); // 10 × 100 msat: the first satoshi is due
    expect(ch.timers().map((t) => t.name)).toContain('commitDeadline');
    ch.handleTimeout(1100);
    const out = ch.drain();
    expect(out).toContainEqual({ kind: 'revoke', reason: 'commitLate' });
    expect(ch.state).toBe('Suspended');
    const back = step(commit(10), 1200);
    expect(ch.state).toBe('Open');
    expect(back.find((e) => e.kind === 'grantBytes')).toBeDefined();
  });

  it('revokes when more than commitLagTicks ticks pass the satoshi boundary', () => {
    const { ch, step } = openPayee();
    for (let i = 1; i <= 60; i++) step(tick(i), 1);
    expect(ch.state).toBe('Suspended');
  });

  it('closes with its best state by expiry − 144 blocks', () => {
    const { ch, step } = openPayee();
    for (let i = 1; i <= 20; i++) step(tick(i));
    step(commit(20));
    expect(step({ kind: 'chainHeight', height: 855 })).toEqual([]);
    const out = step({ kind: 'chainHeight', height: 856 });
    expect(out).toContainEqual({ kind: 'revoke', reason: 'closing' });
    expect(out.find((e) => e.kind === 'closeWith')).toMatchObject({ state: { seq: 20, paidMsat: 2000n } });
    expect(ch.state).toBe('Closed');
  });

  it('snapshots are JSON-safe and restore to the same state; a corrupt one is a typed error', () => {
    const { ch, step } = openPayee();
    for (let i = 1; i <= 20; i++) step(tick(i));
    step(commit(20));
    step({ kind: 'metered', bytes: 5000 });
    const json = JSON.parse(JSON.stringify(ch.snapshot())) as unknown;
    const back = PayeeChannel.restore(json, cfg, deps, 10);
    expect(back.best).toEqual(ch.best);
    expect(back.paidTicks).toBe(20);
    expect(back.servedBytes).toBe(5000);
    expect(back.state).toBe('Open');
    fc.assert(
      fc.property(fc.constantFrom('version', 'servedBytes', 'grantCeiling', 'format', 'state', 'best', 'known'), fc.anything(), (field, junk) => {
        const bad = { ...(json as Record<string, unknown>), [field]: junk };
        try {
          PayeeChannel.restore(bad, cfg, deps, 0);
        } catch (e) {
          expect(e).toMatchObject({ code: 'bad_snapshot' });
        }
      }),
    );
  });

  it('never grants more than paid + credit + loss allowance, whatever order ticks, bytes and time come in', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ t: fc.integer({ min: 1, max: 200 }) }), fc.record({ b: fc.integer({ min: 0, max: 4000 }) }), fc.record({ wait: fc.integer({ min: 0, max: 5000 }) })), { maxLength: 200 }),
        (ops) => {
        const { ch, effects, step } = openPayee();
        let now = 0;
        for (const op of ops) {
          now += 1;
          if ('t' in op) step(tick(op.t), now);
          else if ('b' in op) step({ kind: 'metered', bytes: op.b }, now);
          else {
            now += op.wait;
            ch.handleTimeout(now);
            step({ kind: 'metered', bytes: 0 }, now);
          }
          if (ch.state === 'Closed') break;
          // The tolerance is bounded by its window (and the credit cap), never by the channel's life.
          expect(ch.toleranceBytes).toBeLessThanOrEqual(Math.min(ch.creditCapBytes, Math.max(1024, (1024 * 1024 * 20) / 1000)));
          expect(ch.grantedBytes).toBeLessThanOrEqual(ch.paidBytes + ch.creditBytes + ch.toleranceBytes + ch.lossWrittenOffBytes);
          // Write-offs and the tolerance together stay in the loss share of what was served.
          expect(ch.lossWrittenOffBytes + ch.toleranceBytes).toBeLessThanOrEqual(ch.lossAllowanceBytes);
          expect(ch.grantedBytes).toBeLessThanOrEqual(ch.paidBytes + ch.creditBytes + Math.max(1024, Math.floor((ch.servedBytes * 20) / 1000)));
          // Each write-off is at most the credit.
          expect(ch.lossWrittenOffBytes).toBeLessThanOrEqual(ch.lossWriteOffs * ch.creditCapBytes);
        }
        expect(effects.every((e) => e.kind !== 'error' || ['tick_gap', 'bad_preimage'].includes(e.error.code))).toBe(true);
        },
      ),
    );
  });
});
