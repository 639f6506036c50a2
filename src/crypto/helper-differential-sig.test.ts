// Helper vs noble on the signature operations. noble signs and verifies at only
// ~100-1000 per second on this class of machine, so the default counts are a few hundred
// per case (seconds); BITMESH_DIFF_SCALE=N multiplies them (N=1000 gives >= 100,000 of
// every operation: hours here). Replay a failure with BITMESH_DIFF_SEED=<seed in the message>.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import * as secp from '@noble/secp256k1';
import { nobleBackend } from './noble.js';
import { HelperClient } from './helper-client.js';
import { ensureHelperBinary } from './helper-test-binary.js';
import { SeededBytes, diffScale, diffSeed, firstMismatch, hex, outcome, syncOutcome, unhex } from './helper-differential.js';

const helperPath = ensureHelperBinary();
const scale = diffScale();
const SCHNORR_UNITS = Math.round(100 * scale);
const ECDSA_UNITS = Math.round(200 * scale);
const GARBAGE = Math.round(300 * scale);
const CHUNK = 2000;
const SLOW = { timeout: 180_000 * scale };

const N_HEX = 'fffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141';
const P_HEX = 'fffffffffffffffffffffffffffffffffffffffffffffffffffffffefffffc2f';
const CURVE_N = BigInt('0x' + N_HEX);

/** Secret keys at and around the edges of the valid range, plus random ones. */
function secretKey(rnd: SeededBytes): Uint8Array {
  const edge = rnd.below(40);
  if (edge === 0) return new Uint8Array(32); // zero: invalid
  if (edge === 1) return unhex(N_HEX); // n: invalid
  if (edge === 2) return unhex((CURVE_N - 1n).toString(16)); // n-1: valid
  if (edge === 3) return Uint8Array.from({ length: 32 }, (_, i) => (i === 31 ? 1 : 0)); // 1
  if (edge === 4) return new Uint8Array(32).fill(0xff); // > n: invalid
  return rnd.bytes(32);
}

/** Random 32 bytes, sometimes at or above the field prime or the curve order. */
function edgy32(rnd: SeededBytes): Uint8Array {
  const pick = rnd.below(12);
  if (pick === 0) return unhex(P_HEX);
  if (pick === 1) return unhex(N_HEX);
  if (pick === 2) return new Uint8Array(32);
  if (pick === 3) return new Uint8Array(32).fill(0xff);
  return rnd.bytes(32);
}

async function inChunks<T>(items: readonly T[], fn: (x: T) => Promise<string>): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(...(await Promise.all(items.slice(i, i + CHUNK).map(fn))));
  return out;
}

describe.skipIf(!helperPath)('helper and noble agree on signatures', () => {
  let client: HelperClient;
  const seed = diffSeed();
  beforeAll(() => {
    client = HelperClient.spawn(helperPath!, { timeoutMs: 60_000 });
  });
  afterAll(async () => {
    await client.close();
  });

  it(`BIP340: ${SCHNORR_UNITS} keys → x-only key, signature, verify of it and of a tampered copy (seed ${seed})`, SLOW, async () => {
    const rnd = new SeededBytes(seed ^ 0x3333);
    const units = Array.from({ length: SCHNORR_UNITS }, () => ({
      sk: secretKey(rnd),
      // Mostly 32-byte messages (our use); BIP340 allows any length.
      msg: rnd.below(8) === 0 ? rnd.bytes(rnd.below(100)) : rnd.bytes(32),
      aux: rnd.bytes(32),
      tamper: rnd.below(3),
      bit: rnd.u32(),
    }));
    const noblePub = units.map((u) => syncOutcome(() => nobleBackend.schnorrPublicKey(u.sk)));
    const nobleSig = units.map((u) => syncOutcome(() => nobleBackend.schnorrSign(u.msg, u.sk, u.aux)));
    const helperPub = await inChunks(units, (u) => outcome(client.schnorrPublicKey(u.sk)));
    const helperSig = await inChunks(units, (u) => outcome(client.schnorrSign(u.msg, u.sk, u.aux)));
    expect(firstMismatch(helperPub, noblePub), `seed ${seed}`).toBeNull();
    expect(firstMismatch(helperSig, nobleSig), `seed ${seed}`).toBeNull();
    expect(nobleSig.filter((s) => s === 'throws').length).toBeLessThan(SCHNORR_UNITS / 4);

    // Verify each good signature as is, and with one bit flipped in sig, msg or key.
    const cases = units.flatMap((u, i) => {
      if (nobleSig[i] === 'throws') return [];
      const sig = unhex(nobleSig[i]!);
      const pub = unhex(noblePub[i]!);
      const flip = new SeededBytes(u.bit);
      const t = u.tamper;
      return [
        { sig, msg: u.msg, pub },
        {
          sig: t === 0 ? flip.flipBit(sig) : sig,
          msg: t === 1 && u.msg.length > 0 ? flip.flipBit(u.msg) : u.msg,
          pub: t === 2 ? flip.flipBit(pub) : pub,
        },
      ];
    });
    const helperV = await inChunks(cases, (c) => outcome(client.schnorrVerify(c.sig, c.msg, c.pub)));
    const nobleV = cases.map((c) => syncOutcome(() => nobleBackend.schnorrVerify(c.sig, c.msg, c.pub)));
    expect(firstMismatch(helperV, nobleV), `seed ${seed}`).toBeNull();
    expect(nobleV.filter((v) => v === 'true').length).toBeGreaterThanOrEqual(cases.length / 2);
  });

  it(`BIP340 verify of ${GARBAGE} garbage (key, sig) pairs, with out-of-range r, s and x (seed ${seed})`, SLOW, async () => {
    const rnd = new SeededBytes(seed ^ 0x4444);
    const cases = Array.from({ length: GARBAGE }, () => ({
      pub: edgy32(rnd),
      sig: new Uint8Array([...edgy32(rnd), ...edgy32(rnd)]),
      msg: rnd.bytes(32),
    }));
    const helper = (await client.schnorrVerifyBatch(cases.map((c) => ({ sig: c.sig, msg: c.msg, publicKeyX: c.pub })))).map(String);
    const noble = cases.map((c) => syncOutcome(() => nobleBackend.schnorrVerify(c.sig, c.msg, c.pub)));
    expect(firstMismatch(helper, noble), `seed ${seed}`).toBeNull();
  });

  it(`ECDSA: ${ECDSA_UNITS} keys → RFC6979 low-S signature, verify of it, a tampered copy and its high-S twin (seed ${seed})`, SLOW, async () => {
    const rnd = new SeededBytes(seed ^ 0x5555);
    const units = Array.from({ length: ECDSA_UNITS }, () => ({ sk: secretKey(rnd), digest: edgy32(rnd), bit: rnd.u32() }));
    const nobleSig = units.map((u) => syncOutcome(() => nobleBackend.ecdsaSign(u.digest, u.sk)));
    const helperSig = await inChunks(units, (u) => outcome(client.ecdsaSign(u.digest, u.sk)));
    expect(firstMismatch(helperSig, nobleSig), `seed ${seed}`).toBeNull();

    const cases = units.flatMap((u, i) => {
      if (nobleSig[i] === 'throws') return [];
      const sig = unhex(nobleSig[i]!);
      const pub = secp.getPublicKey(u.sk, true);
      const highS = sig.slice();
      highS.set(unhex((CURVE_N - BigInt('0x' + hex(sig.subarray(32)))).toString(16).padStart(64, '0')), 32);
      const flip = new SeededBytes(u.bit);
      return [
        { sig, digest: u.digest, pub },
        { sig: flip.flipBit(sig), digest: u.digest, pub },
        { sig, digest: u.digest, pub: flip.flipBit(pub) },
        { sig: highS, digest: u.digest, pub },
      ];
    });
    const helperV = await inChunks(cases, (c) => outcome(client.ecdsaVerify(c.sig, c.digest, c.pub)));
    const nobleV = cases.map((c) => syncOutcome(() => nobleBackend.ecdsaVerify(c.sig, c.digest, c.pub)));
    expect(firstMismatch(helperV, nobleV), `seed ${seed}`).toBeNull();
    expect(nobleV.filter((v) => v === 'true').length).toBeGreaterThanOrEqual(cases.length / 4);
  });

  it(`ECDSA verify of ${GARBAGE} garbage (key, sig) pairs (seed ${seed})`, SLOW, async () => {
    const rnd = new SeededBytes(seed ^ 0x6666);
    const cases = Array.from({ length: GARBAGE }, () => ({
      pub: new Uint8Array([rnd.below(4) === 0 ? rnd.below(256) : 2 + rnd.below(2), ...edgy32(rnd)]),
      sig: new Uint8Array([...edgy32(rnd), ...edgy32(rnd)]),
      digest: edgy32(rnd),
    }));
    const helper = await inChunks(cases, (c) => outcome(client.ecdsaVerify(c.sig, c.digest, c.pub)));
    const noble = cases.map((c) => syncOutcome(() => nobleBackend.ecdsaVerify(c.sig, c.digest, c.pub)));
    expect(firstMismatch(helper, noble), `seed ${seed}`).toBeNull();
  });
});
