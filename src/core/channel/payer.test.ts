import { describe, expect, it } from 'vitest';
import { buildChain } from './hash-chain.js';
import { DEFAULT_PAYER_CONFIG, PayerChannel, type PayerEffect, type PayerInput } from './payer.js';
import { fakeSign, simSha256 } from './sim-pair.test-support.js';
import type { Message } from '../wire/messages.js';

const payeeId = new Uint8Array(32).fill(0xbb);
const payerId = new Uint8Array(32).fill(0xaa);
const channelId = new Uint8Array(32).fill(0xcc);
const seed = new Uint8Array(32).fill(1);
const chain = buildChain(seed, 512, simSha256);
const cfg = { ...DEFAULT_PAYER_CONFIG, minTickReserve: 8, maxTickReserve: 16 };
const deps = { self: payerId, nonce: () => new Uint8Array(8), sha256: simSha256, signCommitment: fakeSign };
const terms = { channelId, payee: payeeId, capacitySat: 10_000n, expiryHeight: 1000, tickKiB: 1, priceMsatPerKiB: 100 };

const accept: Message = {
  type: 'ACCEPT',
  body: { sender: payeeId, ts: 0, nonce: new Uint8Array(8), channelId, creditBytes: 10240, lossTolerancePermille: 20, zeroConfCapSat: 100_000 },
};

/** A payer with instant durable writes. */
function payer() {
  const ch = PayerChannel.open(terms, chain, seed, cfg, deps, 0);
  const sent: Message[] = [];
  const all: PayerEffect[] = [];
  const settle = (now: number) => {
    const out: PayerEffect[] = [];
    for (let e = ch.drain(); e.length > 0; e = ch.drain()) {
      out.push(...e);
      for (const x of e) {
        if (x.kind === 'persist') ch.handle({ kind: 'persisted', version: x.version }, now);
        if (x.kind === 'send') sent.push(x.message);
      }
    }
    all.push(...out);
    return out;
  };
  const step = (i: PayerInput, now = 0) => {
    ch.handle(i, now);
    return settle(now);
  };
  settle(0);
  return { ch, sent, all, step };
}

function openPayer() {
  const p = payer();
  p.step({ kind: 'message', message: accept });
  p.step({ kind: 'fundingBroadcast', txid: new Uint8Array(32).fill(9), vout: 0 });
  return p;
}

const ticks = (ms: Message[]) => ms.flatMap((m) => (m.type === 'TICK' ? [m.body.index] : []));
const commits = (ms: Message[]) => ms.flatMap((m) => (m.type === 'COMMIT' ? [m.body.seq] : []));

describe('payer', () => {
  it('opens with its anchor, funds only after ACCEPT, sends FUNDED and prepays one tick', () => {
    const p = payer();
    expect(p.sent[0]).toMatchObject({ type: 'OPEN', body: { anchor: chain.anchor, chainLength: 512, tickKiB: 1 } });
    expect(p.all.some((e) => e.kind === 'fund')).toBe(false);
    const out = p.step({ kind: 'message', message: accept });
    expect(out.find((e) => e.kind === 'fund')).toMatchObject({ capacitySat: 10_000n });
    p.step({ kind: 'fundingBroadcast', txid: new Uint8Array(32).fill(9), vout: 0 });
    expect(p.sent.map((m) => m.type)).toEqual(['OPEN', 'FUNDED', 'TICK']);
    expect(ticks(p.sent)).toEqual([1]);
  });

  it('reveals tick n + 1 only after receiving the bytes paid by tick n, and commits each satoshi', () => {
    const p = openPayer();
    p.step({ kind: 'metered', bytes: 1023 });
    expect(ticks(p.sent)).toEqual([1]);
    p.step({ kind: 'metered', bytes: 1 });
    expect(ticks(p.sent)).toEqual([1, 2]);
    for (let i = 0; i < 20; i++) p.step({ kind: 'metered', bytes: 1024 });
    expect(p.ch.paidTicks).toBe(22);
    expect(p.ch.paidTicks * 1024).toBeLessThanOrEqual(p.ch.receivedBytes + 1024);
    // 100 msat a tick: a COMMIT at ticks 10 and 20.
    expect(commits(p.sent)).toEqual([10, 20]);
    const c = p.sent.find((m) => m.type === 'COMMIT' && m.body.seq === 20);
    expect(c).toMatchObject({ body: { paidMsat: 2000, sig: fakeSign(2000n) } });
  });

  it('sends a jump wider than 64 ticks as verifiable steps', () => {
    const p = openPayer();
    p.step({ kind: 'metered', bytes: 150 * 1024 });
    // Capped by the durable tick reserve (16 here), so no gap is ever wider than 64.
    const t = ticks(p.sent);
    for (let i = 1; i < t.length; i++) expect(t[i]! - t[i - 1]!).toBeLessThanOrEqual(64);
  });

  it('stalled: resends the last payment, then a ladder, then reports the gateway stalled', () => {
    const p = openPayer();
    p.step({ kind: 'metered', bytes: 10 * 1024 });
    const n = p.sent.length;
    let now = 0;
    for (let k = 0; k < 5; k++) {
      now = p.ch.pollTimeout()!;
      p.ch.handleTimeout(now);
      p.step({ kind: 'persisted', version: 0 }, now);
    }
    expect(p.sent.length).toBeGreaterThan(n);
    expect(p.all.some((e) => e.kind === 'event' && e.event.name === 'gatewayStalled')).toBe(true);
    // Nothing new was paid while stalled.
    expect(Math.max(...ticks(p.sent))).toBe(11);
  });

  it('refuses messages a payer never takes, and ACCEPT from another node', () => {
    const p = payer();
    const out = p.step({ kind: 'message', message: { type: 'TICK', body: { channelId, index: 1, preimage: chain.element(1) } } });
    expect(out).toMatchObject([{ kind: 'error', error: { code: 'unexpected_message' } }]);
    const forged = { ...accept, body: { ...accept.body, sender: new Uint8Array(32) } } as Message;
    expect(p.step({ kind: 'message', message: forged })).toMatchObject([{ kind: 'error', error: { code: 'bad_terms' } }]);
    expect(p.ch.state).toBe('Opening');
  });

  it('stops paying at expiry − 144 and refunds at expiry', () => {
    const p = openPayer();
    p.step({ kind: 'chainHeight', height: 856 });
    expect(p.ch.state).toBe('Closing');
    p.step({ kind: 'metered', bytes: 50 * 1024 });
    expect(ticks(p.sent)).toEqual([1]);
    expect(p.step({ kind: 'chainHeight', height: 1000 }).some((e) => e.kind === 'refund')).toBe(true);
    expect(p.ch.state).toBe('Closed');
  });

  it('restores from a JSON snapshot at its tick ceiling, never below a state it sent', () => {
    const p = openPayer();
    for (let i = 0; i < 30; i++) p.step({ kind: 'metered', bytes: 1024 });
    const snap = JSON.parse(JSON.stringify(p.ch.snapshot())) as unknown;
    const { seed: s2, chainLength } = PayerChannel.readSeed(snap);
    const back = PayerChannel.restore(snap, buildChain(s2, chainLength, simSha256), cfg, deps, 5);
    expect(back.paidTicks).toBeGreaterThanOrEqual(p.ch.paidTicks);
    expect(back.committedMsat).toBeGreaterThanOrEqual(p.ch.committedMsat);
    expect(() => PayerChannel.restore(snap, buildChain(new Uint8Array(32), 512, simSha256), cfg, deps, 5)).toThrow(/does not match/);
    expect(() => PayerChannel.restore({ ...(snap as object), tickCeiling: -1 }, chain, cfg, deps, 5)).toThrow(expect.objectContaining({ code: 'bad_snapshot' }));
  });
});
