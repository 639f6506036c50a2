// Helper vs noble on the hash operations: 100,000 random inputs each for SHA-256,
// chain generation and chain verification, sent as concurrent calls (so as BATCH frames).
// Replay a failure with BITMESH_DIFF_SEED=<seed printed in the message>.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { sha256 } from '@noble/hashes/sha2.js';
import { HelperClient } from './helper-client.js';
import { type HashChainResult, hashChainSync, verifyChainStepSync } from './helper-async-backend.js';
import { ensureHelperBinary } from './helper-test-binary.js';
import { SeededBytes, diffSeed, firstMismatch, hex, outcome, syncOutcome } from './helper-differential.js';

const helperPath = ensureHelperBinary();
const N = 100_000;
const CHUNK = 10_000;
// Generous: these run 100k noble computations each, and CI machines are shared.
const SLOW = { timeout: 180_000 };

describe.skipIf(!helperPath)('helper and noble agree on hashing', () => {
  let client: HelperClient;
  const seed = diffSeed();
  beforeAll(() => {
    client = HelperClient.spawn(helperPath!, { timeoutMs: 30_000 });
  });
  afterAll(async () => {
    await client.close();
  });

  it(`SHA-256 of ${N} random buffers (seed ${seed})`, SLOW, async () => {
    const rnd = new SeededBytes(seed);
    // Mostly around the 55/56/64-byte padding edges, some long ones.
    const lengths = (): number => (rnd.below(20) === 0 ? rnd.below(5000) : rnd.below(130));
    for (let done = 0; done < N; done += CHUNK) {
      const inputs = Array.from({ length: CHUNK }, () => rnd.bytes(lengths()));
      const helper = await Promise.all(inputs.map((d) => outcome(client.sha256(d))));
      const noble = inputs.map((d) => hex(sha256(d)));
      expect(firstMismatch(helper, noble), `seed ${seed}, chunk at ${done}`).toBeNull();
    }
  });

  it(`hash chains from ${N} random seeds, lengths and checkpoint spacings (seed ${seed})`, SLOW, async () => {
    const rnd = new SeededBytes(seed ^ 0x1111);
    for (let done = 0; done < N; done += CHUNK) {
      const inputs = Array.from({ length: CHUNK }, () => ({ s: rnd.bytes(32), n: rnd.below(17), k: rnd.below(6) }));
      const helper = await Promise.all(inputs.map((x) => client.hashChain(x.s, x.n, x.k).then(chainKey)));
      const noble = inputs.map((x) => chainKey(hashChainSync(x.s, x.n, x.k)));
      expect(firstMismatch(helper, noble), `seed ${seed}, chunk at ${done}`).toBeNull();
    }
  });

  it(`chain-step verification on ${N} random (anchor, element, bound) triples (seed ${seed})`, SLOW, async () => {
    const rnd = new SeededBytes(seed ^ 0x2222);
    let found = 0;
    for (let done = 0; done < N; done += CHUNK) {
      const inputs = Array.from({ length: CHUNK }, () => {
        const element = rnd.bytes(32);
        // 10 %: unrelated anchor; 10 %: right at the bound or one past it; else a short step.
        // Bounds stay small so generating the anchors with noble stays cheap, except 1 % at 64.
        const pick = rnd.below(100);
        const max = pick === 0 ? 64 : 1 + rnd.below(pick < 20 ? 16 : 64);
        const d = pick < 10 ? 0 : pick < 15 ? max : pick < 20 ? max + 1 : 1 + rnd.below(Math.min(max, 8));
        let anchor = d === 0 ? rnd.bytes(32) : element;
        for (let i = 0; i < d; i++) anchor = sha256(anchor);
        return { anchor, element, max, expected: d >= 1 && d <= max ? String(d) : 'null' };
      });
      const helper = await Promise.all(inputs.map((x) => outcome(client.verifyChainStep(x.anchor, x.element, x.max))));
      expect(firstMismatch(helper, inputs.map((x) => x.expected)), `seed ${seed}, chunk at ${done}`).toBeNull();
      // The JS reference gives the same answers (checked on a slice: it costs up to 64 hashes each).
      const slice = inputs.slice(0, 1000);
      const noble = slice.map((x) => syncOutcome(() => verifyChainStepSync(x.anchor, x.element, x.max)));
      expect(firstMismatch(helper.slice(0, 1000), noble), `seed ${seed}`).toBeNull();
      found += helper.filter((h) => h !== 'null').length;
    }
    expect(found).toBeGreaterThan(N / 2); // the mix really exercises both answers
  });
});

// The x86 SHA-extensions path is the default where the CPU has it; the portable C
// SHA-256 (what ARM routers run) gets its own differential run.
describe.skipIf(!helperPath)('the portable C SHA-256 agrees with noble too', () => {
  const seed = diffSeed();
  it(`SHA-256 of ${N / 5} buffers and ${N / 10} chains (seed ${seed})`, SLOW, async () => {
    const client = HelperClient.spawn(helperPath!, { env: { ...process.env, BITMESH_HELPER_PORTABLE_SHA: '1' } });
    try {
      expect((await client.info()).hardwareSha256).toBe(false);
      const rnd = new SeededBytes(seed ^ 0x7777);
      const inputs = Array.from({ length: N / 5 }, () => rnd.bytes(rnd.below(20) === 0 ? rnd.below(5000) : rnd.below(130)));
      const helper = await Promise.all(inputs.map((d) => outcome(client.sha256(d))));
      expect(firstMismatch(helper, inputs.map((d) => hex(sha256(d)))), `seed ${seed}`).toBeNull();
      const chains = Array.from({ length: N / 10 }, () => ({ s: rnd.bytes(32), n: rnd.below(24), k: rnd.below(8) }));
      const helperC = await Promise.all(chains.map((x) => client.hashChain(x.s, x.n, x.k).then(chainKey)));
      expect(firstMismatch(helperC, chains.map((x) => chainKey(hashChainSync(x.s, x.n, x.k)))), `seed ${seed}`).toBeNull();
    } finally {
      await client.close();
    }
  });
});

/** One string per chain result: indices, then every value in one hex run (cheap to build). */
function chainKey(r: HashChainResult): string {
  const bytes = new Uint8Array(32 * (r.checkpoints.length + 1));
  bytes.set(r.anchor, 0);
  r.checkpoints.forEach((c, i) => bytes.set(c.value, 32 * (i + 1)));
  return `${r.checkpoints.map((c) => c.index).join(',')}:${hex(bytes)}`;
}
