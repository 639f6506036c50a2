import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { signCommitment, verifyCommitment, commitmentSplit } from '../chain/commitment.js';
import { crypto, seededRandom, testTerms } from '../chain/testing/fixtures.js';
import { nobleAsyncBackend, type AsyncCryptoBackend } from '../crypto/helper-async-backend.js';
import { HelperDeadError } from '../crypto/helper-errors.js';
import { ensureHelperBinary } from '../crypto/helper-test-binary.js';
import { AsyncCrypto, selectCryptoBackend } from '../crypto/select-backend.js';
import { CommitmentCrypto, presignCandidates, type PayerProgress } from './commitment-crypto.js';

const CAP = 100_000n;
const { terms, payer } = testTerms(CAP);
const aux = seededRandom('commitment-crypto');
const random = (n: number) => aux().slice(0, n);
const TICK = 1600n; // 16 KiB at 100 msat/KiB

/** A 64-byte payer signature for `paid`, as the payer machine sends it in COMMIT. */
const sig64 = (paid: bigint) => signCommitment(crypto, terms, paid, payer.sk, aux()).payerSig.subarray(0, 64);
/** What the chain module says about a 64-byte signature for `paid`. */
const chainSays = (paid: bigint, sig: Uint8Array) => {
  const full = new Uint8Array(65);
  full.set(sig);
  full[64] = commitmentSplit(CAP, paid).hashType;
  return verifyCommitment(crypto, terms, { paidMsat: paid, payerSig: full });
};
const settle = () => new Promise((r) => setImmediate(r));
/** noble answering as if it were an off-thread backend, so work is done ahead. */
const twin: AsyncCryptoBackend = { ...nobleAsyncBackend, name: 'twin' };

const failing: AsyncCryptoBackend = {
  ...nobleAsyncBackend,
  name: 'helper',
  schnorrVerify: () => Promise.reject(new HelperDeadError('helper exited')),
  schnorrSign: () => Promise.reject(new HelperDeadError('helper exited')),
};

describe('presignCandidates', () => {
  it('only offers amounts the payer would commit to next, nearest first, within limit and capacity', () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 10_000 }),
        fc.nat({ max: 50 }),
        fc.integer({ min: 1, max: 5000 }),
        fc.array(fc.integer({ min: -3, max: 200 }), { maxLength: 6 }),
        fc.integer({ min: 0, max: 8 }),
        fc.integer({ min: 1000, max: 1_000_000 }),
        (ticks, lag, tick, jumps, limit, cap) => {
          const tickMsat = BigInt(tick);
          const p: PayerProgress = {
            paidTicks: ticks,
            committedMsat: BigInt(Math.max(0, ticks - lag)) * tickMsat,
            tickMsat,
            capacitySat: BigInt(cap),
          };
          const out = presignCandidates(p, jumps, limit);
          expect(out.length).toBeLessThanOrEqual(limit);
          for (const [i, amount] of out.entries()) {
            expect(amount % tickMsat).toBe(0n);
            expect(amount / tickMsat).toBeGreaterThan(BigInt(ticks));
            expect(amount / 1000n).toBeGreaterThan(p.committedMsat / 1000n);
            expect(amount).toBeLessThanOrEqual(p.capacitySat * 1000n);
            if (i > 0) expect(amount).toBeGreaterThan(out[i - 1]!);
          }
        },
      ),
    );
  });

  it('predicts the next tick and the jumps seen lately', () => {
    const p = { paidTicks: 10, committedMsat: 10n * TICK, tickMsat: TICK, capacitySat: CAP };
    expect(presignCandidates(p, [4, 4, 3], 4)).toEqual([11n * TICK, 13n * TICK, 14n * TICK]);
  });
});

describe('CommitmentCrypto, payee side', () => {
  it('gives the chain module’s verdict, checked ahead or not, for good, forged and misattributed signatures', async () => {
    const cc = new CommitmentCrypto({ backend: () => nobleAsyncBackend, crypto, random });
    const paid = 7n * TICK;
    const good = sig64(paid);
    const forged = good.slice();
    forged[5]! ^= 1;
    const cases: [bigint, Uint8Array][] = [
      [paid, good],
      [paid, forged],
      [paid + TICK, good], // a real signature for another amount
    ];
    for (const [amount, sig] of cases) {
      await cc.checkAhead('ch', terms, amount, sig);
      expect(cc.verify('ch', terms, amount, sig)).toBe(chainSays(amount, sig));
    }
    expect(cc.stats.verdictHits).toBe(3);
    expect(cc.stats.checkedAhead.noble).toBe(3);
    // Without a check ahead (or once its verdict was used), noble answers inline.
    expect(cc.verify('ch', terms, paid, good)).toBe(true);
    expect(cc.verify('ch', terms, paid, forged)).toBe(false);
    expect(cc.stats.verdictMisses).toBe(2);
  });

  it('never lets a verdict stand in for another channel, amount or signature', async () => {
    const cc = new CommitmentCrypto({ backend: () => nobleAsyncBackend, crypto, random });
    const paid = 3n * TICK;
    const good = sig64(paid);
    const forged = good.slice();
    forged[63]! ^= 0x80;
    await cc.checkAhead('a', terms, paid, good);
    expect(cc.verify('b', terms, paid, forged)).toBe(false);
    expect(cc.verify('a', terms, paid, forged)).toBe(false);
    expect(cc.stats.verdictHits).toBe(0);
  });

  it('keeps a bounded number of verdicts', async () => {
    const cc = new CommitmentCrypto({ backend: () => nobleAsyncBackend, crypto, random, verdictCacheSize: 2 });
    const sigs = [1n, 2n, 3n].map((k) => [k * TICK, sig64(k * TICK)] as const);
    for (const [amount, sig] of sigs) await cc.checkAhead('ch', terms, amount, sig);
    expect(cc.verify('ch', terms, sigs[0]![0], sigs[0]![1])).toBe(true); // evicted: checked inline
    expect(cc.stats.verdictMisses).toBe(1);
    expect(cc.verify('ch', terms, sigs[2]![0], sigs[2]![1])).toBe(true);
    expect(cc.stats.verdictHits).toBe(1);
  });

  it('keeps no verdict when the backend fails, so the machine’s check runs on noble', async () => {
    const cc = new CommitmentCrypto({ backend: () => failing, crypto, random });
    const paid = 2n * TICK;
    const good = sig64(paid);
    await cc.checkAhead('ch', terms, paid, good);
    expect(cc.stats.errors).toBe(1);
    expect(cc.verify('ch', terms, paid, good)).toBe(true);
    expect(cc.stats.verdictMisses).toBe(1);
  });
});

describe('CommitmentCrypto, payer side', () => {
  const progress = (ticks: number): PayerProgress => ({ paidTicks: ticks, committedMsat: BigInt(ticks) * TICK, tickMsat: TICK, capacitySat: CAP });

  it('hands out states signed ahead that the payee accepts, and signs the unforeseen ones on noble', async () => {
    const cc = new CommitmentCrypto({ backend: () => twin, crypto, random, presignAhead: 2 });
    cc.presign('ch', terms, payer.sk, progress(5));
    await settle();
    const next = cc.sign('ch', terms, 6n * TICK, payer.sk);
    expect(cc.stats.presignHits).toBe(1);
    expect(chainSays(6n * TICK, next)).toBe(true);
    const far = cc.sign('ch', terms, 40n * TICK, payer.sk);
    expect(cc.stats.presignMisses).toBe(1);
    expect(chainSays(40n * TICK, far)).toBe(true);
  });

  it('learns the tick jumps and drops states the payer passed', async () => {
    const cc = new CommitmentCrypto({ backend: () => twin, crypto, random, presignAhead: 3 });
    cc.presign('ch', terms, payer.sk, progress(0));
    await settle();
    cc.sign('ch', terms, 4n * TICK, payer.sk); // the payer jumped 4 ticks: a miss
    cc.presign('ch', terms, payer.sk, progress(4));
    await settle();
    expect(cc.stats.presignUnused).toBeGreaterThan(0); // tick 1 was signed for nothing
    const sig = cc.sign('ch', terms, 8n * TICK, payer.sk);
    expect(cc.stats.presignHits).toBe(1);
    expect(chainSays(8n * TICK, sig)).toBe(true);
  });

  it('signs nothing ahead on noble: that would only add work to the main thread', async () => {
    const cc = new CommitmentCrypto({ backend: () => nobleAsyncBackend, crypto, random });
    expect(cc.offloaded).toBe(false);
    cc.presign('ch', terms, payer.sk, progress(1));
    await settle();
    expect(chainSays(2n * TICK, cc.sign('ch', terms, 2n * TICK, payer.sk))).toBe(true);
    expect(cc.stats.presigned).toEqual({ helper: 0, noble: 0 });
    expect(cc.stats.presignMisses).toBe(1);
  });

  it('signs on noble when the backend fails', async () => {
    const cc = new CommitmentCrypto({ backend: () => failing, crypto, random });
    cc.presign('ch', terms, payer.sk, progress(1));
    await settle();
    const sig = cc.sign('ch', terms, 2n * TICK, payer.sk);
    expect(cc.stats.presignHits).toBe(0);
    expect(chainSays(2n * TICK, sig)).toBe(true);
  });
});

const helperPath = ensureHelperBinary();

describe.skipIf(!helperPath)('CommitmentCrypto on the real helper', () => {
  it('checks and signs through the helper, and answers the same after it is killed mid-batch', async () => {
    const selection = await selectCryptoBackend({ helperPath: helperPath! });
    expect(selection.backend).toBe('helper');
    const fallbacks: string[] = [];
    const ac = new AsyncCrypto(selection, { onFallback: (r) => fallbacks.push(r) });
    const cc = new CommitmentCrypto({ backend: () => ac, crypto, random });
    const states = [1n, 2n, 3n, 4n].map((k) => ({ paid: k * TICK, sig: sig64(k * TICK) }));
    const forged = states[0]!.sig.slice();
    forged[0]! ^= 1;
    await Promise.all(states.map((s) => cc.checkAhead('ch', terms, s.paid, s.sig)));
    await cc.checkAhead('ch', terms, states[0]!.paid, forged);
    expect(cc.stats.checkedAhead.helper).toBe(5);
    cc.presign('ch', terms, payer.sk, { paidTicks: 4, committedMsat: 4n * TICK, tickMsat: TICK, capacitySat: CAP });
    await new Promise((r) => setTimeout(r, 50));
    expect(cc.stats.presigned.helper).toBeGreaterThan(0);
    expect(chainSays(5n * TICK, cc.sign('ch', terms, 5n * TICK, payer.sk))).toBe(true);

    // Kill it with checks in flight: they finish on noble, with the same verdicts.
    const pending = [...states, { paid: states[0]!.paid, sig: forged }].map((s) => cc.checkAhead('late', terms, s.paid, s.sig));
    process.kill(ac.helperPid!, 'SIGKILL');
    await Promise.all(pending);
    expect(ac.name).toBe('noble');
    expect(fallbacks[0]).toMatch(/^helper died/);
    for (const s of states) expect(cc.verify('late', terms, s.paid, s.sig)).toBe(true);
    expect(cc.verify('late', terms, states[0]!.paid, forged)).toBe(false);
    expect(cc.verify('ch', terms, states[0]!.paid, forged)).toBe(false);
    await ac.close();
  }, 30_000);
});
