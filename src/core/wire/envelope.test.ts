import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Crypto } from '../../crypto/facade.js';
import { WireCodec } from './codec.js';
import { authenticate, encodeMessage, signatureDigest, type Signer } from './envelope.js';
import { ReplayGuard } from './replay.js';
import type { HelloBody } from './messages.js';

const crypto = new Crypto();
const codec = new WireCodec();
let auxCounter = 0;
const signerFor = (fill: number): Signer => ({
  crypto,
  secretKey: new Uint8Array(32).fill(fill),
  auxRand: () => new Uint8Array(32).fill(++auxCounter & 0xff),
});
const alice = signerFor(1);
const mallory = signerFor(2);
const aliceId = crypto.schnorrPublicKey(alice.secretKey);

function hello(ts: number, nonceByte: number, sender = aliceId): HelloBody {
  return { sender, ts, nonce: new Uint8Array(8).fill(nonceByte), roles: 1, seq: nonceByte };
}

function admit(bytes: Uint8Array, replay: ReplayGuard, now: number) {
  const d = codec.decode(bytes);
  if (!d.ok) return d;
  return authenticate(crypto, replay, d.value, now);
}

describe('signed envelopes', () => {
  const now = 1_700_000_000_000;

  it('accepts a fresh, correctly signed message once and refuses its replay', () => {
    const replay = new ReplayGuard({ capacity: 16, skewMs: 30_000 });
    const bytes = encodeMessage(codec, 'HELLO', hello(now, 1), alice);
    const first = admit(bytes, replay, now);
    expect(first.ok).toBe(true);
    const again = admit(bytes, replay, now + 10);
    expect(again.ok).toBe(false);
    if (!again.ok) expect(again.error.code).toBe('replay');
  });

  it('refuses a message signed by someone other than its sender', () => {
    const replay = new ReplayGuard({ capacity: 16, skewMs: 30_000 });
    const forged = encodeMessage(codec, 'HELLO', hello(now, 2), mallory); // claims aliceId
    const r = admit(forged, replay, now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe('bad_signature');
    // A forgery must not burn the nonce: the genuine message still gets in.
    expect(admit(encodeMessage(codec, 'HELLO', hello(now, 2), alice), replay, now).ok).toBe(true);
  });

  it('binds the signature to the message type', () => {
    // The digest is tagged with the type, so a HELLO signature is worthless for any other type.
    const d = codec.decode(encodeMessage(codec, 'HELLO', hello(now, 3), alice));
    expect(d.ok).toBe(true);
    if (!d.ok) return;
    const { bodyBytes, sig } = d.value;
    expect(crypto.schnorrVerify(sig!, signatureDigest(crypto, 'HELLO', bodyBytes), aliceId)).toBe(true);
    expect(crypto.schnorrVerify(sig!, signatureDigest(crypto, 'CLOSE', bodyBytes), aliceId)).toBe(false);
  });

  it('refuses timestamps outside the ±30 s window', () => {
    const replay = new ReplayGuard({ capacity: 16, skewMs: 30_000 });
    for (const ts of [now - 30_001, now + 30_001]) {
      const r = admit(encodeMessage(codec, 'HELLO', hello(ts, 4), alice), replay, now);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.error.code).toBe('stale_timestamp');
    }
    expect(admit(encodeMessage(codec, 'HELLO', hello(now - 30_000, 4), alice), replay, now).ok).toBe(true);
  });

  it('any flipped bit in a signed datagram is refused', () => {
    const bytes = encodeMessage(codec, 'HELLO', hello(now, 5), alice);
    fc.assert(
      fc.property(fc.nat(bytes.length - 1), fc.nat(7), (at, bit) => {
        const m = bytes.slice();
        m[at]! ^= 1 << bit;
        expect(admit(m, new ReplayGuard({ capacity: 4, skewMs: 30_000 }), now).ok).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});

describe('replay guard', () => {
  const sender = new Uint8Array(32).fill(9);
  const nonce = (i: number) => {
    const n = new Uint8Array(8);
    new DataView(n.buffer).setUint32(4, i);
    return n;
  };

  it('stays within capacity under a flood and never admits a replay', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ i: fc.nat(300), dt: fc.integer({ min: -1000, max: 1000 }) }), { maxLength: 400 }),
        (events) => {
          const g = new ReplayGuard({ capacity: 32, skewMs: 30_000 });
          const accepted = new Set<number>();
          const now = 100_000;
          for (const { i, dt } of events) {
            const ts = now + dt + i; // a given nonce always carries the same timestamp, like a captured message
            if (g.check(sender, nonce(i), ts, now) === undefined) {
              expect(accepted.has(i)).toBe(false);
              accepted.add(i);
              g.record(sender, nonce(i), ts, now);
            }
            expect(g.size).toBeLessThanOrEqual(32);
          }
        },
      ),
    );
  });

  it('tells every (sender, nonce) pair from every other: one seen never stands for another', () => {
    const bytes = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
    const pair = fc.tuple(fc.oneof(bytes(32), bytes(31)), bytes(8));
    fc.assert(
      fc.property(pair, pair, fc.nat(39), ([s1, n1], [s2, n2], flip) => {
        const g = new ReplayGuard({ capacity: 16, skewMs: 30_000 });
        g.record(s1, n1, 0, 0);
        expect(g.check(s1, n1, 0, 0)?.code).toBe('replay');
        // A copy differing in one bit, and an unrelated pair, are both new.
        const [s3, n3] = [s1.slice(), n1.slice()];
        if (flip < s3.length) s3[flip]! ^= 1;
        else n3[flip % 8]! ^= 0x80;
        expect(g.check(s3, n3, 0, 0)).toBeUndefined();
        const same = s2.length === s1.length && s2.every((x, i) => x === s1[i]) && n2.every((x, i) => x === n1[i]);
        expect(g.check(s2, n2, 0, 0) === undefined).toBe(!same);
      }),
    );
  });

  it('forgets entries once the window has passed them', () => {
    const g = new ReplayGuard({ capacity: 8, skewMs: 1000 });
    g.record(sender, nonce(1), 0, 0);
    g.record(sender, nonce(2), 5000, 5000);
    expect(g.size).toBe(1);
  });
});
