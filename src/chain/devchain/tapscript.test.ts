import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { castToBool, decodeScriptNum, parseTapscript, runTapscript } from './tapscript.js';
import type { TapscriptContext } from './tapscript.js';
import { isFinalTx, lockTimeSatisfied } from './locktime.js';

const KEY = new Uint8Array(32).fill(2);
const GOOD = new Uint8Array(64).fill(1);
const BAD = new Uint8Array(64).fill(9);
const ctx = (over: Partial<TapscriptContext> = {}): TapscriptContext => ({
  checkSig: (sig) => sig[0] === 1,
  txLockTime: 500,
  inputSequence: 0xfffffffe,
  ...over,
});
const CHECKSIG = 0xac;
const CHECKSIGVERIFY = 0xad;
const CLTV = 0xb1;
const DROP = 0x75;
const push = (b: Uint8Array): number[] => [b.length, ...b];

describe('tapscript subset', () => {
  it('<x> OP_CHECKSIG: valid, invalid (fails the script), empty (false)', () => {
    const script = Uint8Array.from([...push(KEY), CHECKSIG]);
    expect(runTapscript(script, [GOOD], ctx())).toBeNull();
    expect(runTapscript(script, [BAD], ctx())).toBe('Invalid Schnorr signature');
    expect(runTapscript(script, [new Uint8Array()], ctx())).toMatch(/false\/empty/);
    expect(runTapscript(script, [], ctx())).toMatch(/stack size/);
    expect(runTapscript(script, [GOOD, GOOD], ctx())).toMatch(/exactly one/);
  });

  it('<a> CHECKSIGVERIFY <b> CHECKSIG needs both', () => {
    const script = Uint8Array.from([...push(KEY), CHECKSIGVERIFY, ...push(KEY), CHECKSIG]);
    expect(runTapscript(script, [GOOD, GOOD], ctx())).toBeNull();
    expect(runTapscript(script, [GOOD, new Uint8Array()], ctx())).toMatch(/CHECKSIGVERIFY/);
  });

  it('<n> CLTV DROP: heights, kinds, final sequence, negative', () => {
    const leaf = (n: number[]): Uint8Array => Uint8Array.from([n.length, ...n, CLTV, DROP, ...push(KEY), CHECKSIG]);
    expect(runTapscript(leaf([0xf4, 0x01]), [GOOD], ctx())).toBeNull(); // 500 ≤ 500
    expect(runTapscript(leaf([0xf5, 0x01]), [GOOD], ctx())).toMatch(/Locktime/); // 501 > 500
    expect(runTapscript(leaf([0xf4, 0x01]), [GOOD], ctx({ inputSequence: 0xffffffff }))).toMatch(/Locktime/);
    expect(runTapscript(leaf([0x81]), [GOOD], ctx())).toBe('Negative locktime');
    expect(runTapscript(leaf([1, 2, 3, 4, 5, 6]), [GOOD], ctx())).toMatch(/Locktime/); // > 5 bytes
    // OP_5 as the number
    expect(runTapscript(Uint8Array.from([0x55, CLTV, DROP, ...push(KEY), CHECKSIG]), [GOOD], ctx())).toBeNull();
  });

  it('anything outside the subset is unsupported-script', () => {
    expect(parseTapscript(Uint8Array.of(0x51, 0x51, 0x93))).toBe('unsupported-script'); // OP_ADD
    expect(parseTapscript(Uint8Array.of(0x63))).toBe('unsupported-script'); // OP_IF
    expect(parseTapscript(Uint8Array.of(0x50))).toBe('unsupported-script'); // OP_RESERVED / OP_SUCCESS80
    expect(runTapscript(Uint8Array.from([...push(new Uint8Array(33).fill(2)), CHECKSIG]), [GOOD], ctx())).toBe('unsupported-script');
    expect(parseTapscript(Uint8Array.of(0x05, 1, 2))).toBe('Bad opcode'); // truncated push
  });

  it('script numbers and truth follow Bitcoin', () => {
    expect(decodeScriptNum(new Uint8Array(), 5)).toBe(0);
    expect(decodeScriptNum(Uint8Array.of(0xff, 0x00), 5)).toBe(255);
    expect(decodeScriptNum(Uint8Array.of(0x81), 5)).toBe(-1);
    expect(castToBool(Uint8Array.of(0, 0x80))).toBe(false);
    expect(castToBool(Uint8Array.of(0x80, 0))).toBe(true);
  });

  it('fuzz: any script and stack gives null or a named failure, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.array(fc.uint8Array({ maxLength: 70 }), { maxLength: 4 }), (script, stack) => {
        const r = runTapscript(script, stack, ctx());
        return r === null || typeof r === 'string';
      }),
      { numRuns: 2_000 },
    );
  });
});

describe('locktime rules', () => {
  it('IsFinalTx', () => {
    expect(isFinalTx(0, [0], 1, 0)).toBe(true);
    expect(isFinalTx(10, [0], 10, 0)).toBe(false);
    expect(isFinalTx(10, [0], 11, 0)).toBe(true);
    expect(isFinalTx(10, [0xffffffff], 1, 0)).toBe(true);
    expect(isFinalTx(600_000_000, [0], 1_000_000, 600_000_001)).toBe(true);
    expect(isFinalTx(600_000_000, [0], 1_000_000, 600_000_000)).toBe(false);
  });
  it('CHECKLOCKTIMEVERIFY never mixes heights and times', () => {
    expect(lockTimeSatisfied(100, 600_000_000, 0)).toBe(false);
    expect(lockTimeSatisfied(600_000_000, 600_000_001, 0)).toBe(true);
  });
});
