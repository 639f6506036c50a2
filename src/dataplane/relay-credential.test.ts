import { describe, expect, it } from 'vitest';
import { Crypto } from '../crypto/facade.js';
import { makeRelayCredential, verifyRelayCredential } from './relay-credential.js';

const crypto = new Crypto();
const payerSk = new Uint8Array(32).fill(5);
const payerX = crypto.schnorrPublicKey(payerSk);
const channel = new Uint8Array(32).fill(1);
const gateway = new Uint8Array(32).fill(2);
const now = 1_800_000_000_000;

describe('relay credential', () => {
  const pw = makeRelayCredential(crypto, payerSk, channel, gateway, now, new Uint8Array(32));

  it('opens its own channel at its own gateway, within the window', () => {
    expect(verifyRelayCredential(crypto, payerX, channel, gateway, pw, now + 60_000)).toBe(true);
  });

  it('refuses another channel, another gateway, another payer, a stale time or a flipped bit', () => {
    expect(verifyRelayCredential(crypto, payerX, new Uint8Array(32).fill(9), gateway, pw, now)).toBe(false);
    expect(verifyRelayCredential(crypto, payerX, channel, new Uint8Array(32).fill(9), pw, now)).toBe(false);
    expect(verifyRelayCredential(crypto, crypto.schnorrPublicKey(new Uint8Array(32).fill(6)), channel, gateway, pw, now)).toBe(false);
    expect(verifyRelayCredential(crypto, payerX, channel, gateway, pw, now + 5 * 60_000 + 1)).toBe(false);
    for (let i = 0; i < pw.length; i += 7) {
      const bad = pw.slice();
      bad[i]! ^= 1;
      expect(verifyRelayCredential(crypto, payerX, channel, gateway, bad, now)).toBe(false);
    }
    expect(verifyRelayCredential(crypto, payerX, channel, gateway, pw.subarray(0, 71), now)).toBe(false);
  });
});
