import { describe, expect, it } from 'vitest';
import { WireCodec } from '../core/wire/codec.js';
import { authenticate, encodeMessage } from '../core/wire/envelope.js';
import { ReplayGuard } from '../core/wire/replay.js';
import { Crypto } from '../crypto/facade.js';
import { simCryptoBackend } from './sim-crypto.js';

describe('simulation-only crypto backend', () => {
  const crypto = new Crypto(simCryptoBackend, 'test');
  const sk = new Uint8Array(32).fill(1);
  const pub = crypto.schnorrPublicKey(sk);
  const msg = new Uint8Array(32).fill(2);

  it('signs and verifies deterministically, and a changed message or key fails', () => {
    const sig = crypto.schnorrSign(msg, sk, new Uint8Array(32));
    expect(sig.length).toBe(64);
    expect(crypto.schnorrVerify(sig, msg, pub)).toBe(true);
    expect(crypto.schnorrVerify(sig, new Uint8Array(32).fill(3), pub)).toBe(false);
    expect(crypto.schnorrVerify(sig, msg, crypto.schnorrPublicKey(new Uint8Array(32).fill(9)))).toBe(false);
    const bad = sig.slice();
    bad[5] = bad[5]! ^ 1;
    expect(crypto.schnorrVerify(bad, msg, pub)).toBe(false);
  });

  it('carries messages through the real codec and authenticate, replay guard included', () => {
    const codec = new WireCodec();
    const signer = { crypto, secretKey: sk, auxRand: () => new Uint8Array(32) };
    const data = encodeMessage(codec, 'HELLO', { sender: pub, ts: 1000, nonce: new Uint8Array(8).fill(4), roles: 1, seq: 1 }, signer);
    const replay = new ReplayGuard({ capacity: 16, skewMs: 30_000 });
    const d = codec.decode(data);
    if (!d.ok) throw d.error;
    expect(authenticate(crypto, replay, d.value, 1000).ok).toBe(true);
    const again = authenticate(crypto, replay, d.value, 1000);
    expect(again.ok ? undefined : again.error.code).toBe('replay');
    const forged = data.slice();
    forged[forged.length - 1] = forged[forged.length - 1]! ^ 1;
    const f = codec.decode(forged);
    if (!f.ok) throw f.error;
    const r = authenticate(crypto, new ReplayGuard({ capacity: 16, skewMs: 30_000 }), f.value, 1000);
    expect(r.ok ? undefined : r.error.code).toBe('bad_signature');
  });

  it('is never the name of a production backend', () => {
    expect(simCryptoBackend.name).toBe('sim-insecure');
  });
});
