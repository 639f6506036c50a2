// The fuzz invariant (after h11's afl harness): every input either decodes to a
// message or yields a typed WireError; nothing else escapes, nothing hangs.
// 100,000 inputs: random bytes, and mutations of valid datagrams of every type.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { WireCodec } from './codec.js';
import { SIGNED_TYPES } from './constants.js';
import { WireError } from './errors.js';
import { messageArb } from './arbitrary.test-support.js';

const FUZZ_RUNS = 100_000;

describe('wire decoder fuzz', () => {
  it(`survives ${FUZZ_RUNS} random and mutated datagrams`, () => {
    const codec = new WireCodec();
    const seeds = fc.sample(messageArb, 500).map((m) => {
      const body = codec.encodeMessageBody(m);
      return codec.encodeEnvelope(m.type, body, SIGNED_TYPES.has(m.type) ? new Uint8Array(64) : undefined);
    });
    const rng = fc.sample(fc.integer(), 1)[0]!; // seed varies per run; failures print inputs below
    let state = rng >>> 0 || 1;
    const next = () => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0), state);
    const counts = { ok: 0, typed: 0 };
    for (let i = 0; i < FUZZ_RUNS; i++) {
      let input: Uint8Array;
      const mode = next() % 4;
      if (mode === 0) {
        input = new Uint8Array(next() % 1300);
        for (let j = 0; j < input.length; j++) input[j] = next() & 0xff;
      } else {
        input = seeds[next() % seeds.length]!.slice();
        const edits = 1 + (next() % 4);
        for (let e = 0; e < edits; e++) {
          const at = next() % input.length;
          if (mode === 1) input[at] = next() & 0xff;
          else if (mode === 2) input = input.subarray(0, at);
          else input = new Uint8Array([...input.subarray(0, at), next() & 0xff, ...input.subarray(at)]);
          if (input.length === 0) break;
        }
      }
      let r;
      try {
        r = codec.decode(input);
      } catch (e) {
        throw new Error(`decoder threw on ${Buffer.from(input).toString('hex')} (seed ${rng}): ${String(e)}`);
      }
      if (r.ok) counts.ok++;
      else {
        expect(r.error).toBeInstanceOf(WireError);
        counts.typed++;
      }
    }
    expect(counts.ok + counts.typed).toBe(FUZZ_RUNS);
    expect(counts.typed).toBeGreaterThan(0);
  });
});
