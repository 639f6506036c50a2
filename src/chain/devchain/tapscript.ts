// A tiny BIP342 tapscript interpreter for exactly the script forms BitMesh builds:
//   <x> OP_CHECKSIG, <x> OP_CHECKSIGVERIFY, <n> OP_CHECKLOCKTIMEVERIFY OP_DROP
// (pushes, OP_0, OP_1NEGATE and OP_1..OP_16 included). Any other opcode is rejected as
// `unsupported-script`: the devchain would rather refuse a valid spend than accept an
// invalid one. Signature checking is delegated to `checkSig`, which knows the sighash.
import { lockTimeSatisfied } from './locktime.js';

/** The result of a failed check, in bitcoind's words (reject reasons). */
export type ScriptFailure =
  | 'unsupported-script'
  | 'Invalid Schnorr signature'
  | 'Script failed an OP_CHECKSIGVERIFY operation'
  | 'Locktime requirement not satisfied'
  | 'Negative locktime'
  | 'Operation not valid with the current stack size'
  | 'Push value size limit exceeded'
  | 'Stack size must be exactly one after execution'
  | 'Script evaluated without error but finished with a false/empty top stack element'
  | 'Public key is neither compressed or uncompressed'
  | 'Bad opcode';

export interface TapscriptContext {
  /** Verifies a 64/65-byte BIP340 signature (with optional hash type) under a 32-byte key. */
  readonly checkSig: (sig: Uint8Array, pubkeyX: Uint8Array) => boolean;
  readonly txLockTime: number;
  readonly inputSequence: number;
}

const MAX_ELEMENT = 520;

const OP = {
  PUSHDATA1: 0x4c,
  PUSHDATA2: 0x4d,
  PUSHDATA4: 0x4e,
  ONE_NEGATE: 0x4f,
  ONE: 0x51,
  SIXTEEN: 0x60,
  DROP: 0x75,
  CHECKSIG: 0xac,
  CHECKSIGVERIFY: 0xad,
  CHECKLOCKTIMEVERIFY: 0xb1,
} as const;

export type Op =
  | { readonly push: Uint8Array }
  | { readonly op: typeof OP.DROP | typeof OP.CHECKSIG | typeof OP.CHECKSIGVERIFY | typeof OP.CHECKLOCKTIMEVERIFY };

/** Splits a script into the supported ops, or names why it cannot. */
export function parseTapscript(script: Uint8Array): Op[] | ScriptFailure {
  const ops: Op[] = [];
  let i = 0;
  while (i < script.length) {
    const b = script[i++]!;
    let len = -1;
    if (b <= 0x4b) len = b;
    else if (b === OP.PUSHDATA1 || b === OP.PUSHDATA2 || b === OP.PUSHDATA4) {
      const n = b === OP.PUSHDATA1 ? 1 : b === OP.PUSHDATA2 ? 2 : 4;
      if (i + n > script.length) return 'Bad opcode';
      len = 0;
      for (let k = n - 1; k >= 0; k--) len = len * 256 + script[i + k]!;
      i += n;
    }
    if (len >= 0) {
      if (i + len > script.length) return 'Bad opcode';
      if (len > MAX_ELEMENT) return 'Push value size limit exceeded';
      ops.push({ push: script.slice(i, i + len) });
      i += len;
    } else if (b === OP.ONE_NEGATE) ops.push({ push: Uint8Array.of(0x81) });
    else if (b >= OP.ONE && b <= OP.SIXTEEN) ops.push({ push: Uint8Array.of(b - OP.ONE + 1) });
    else if (b === OP.DROP || b === OP.CHECKSIG || b === OP.CHECKSIGVERIFY || b === OP.CHECKLOCKTIMEVERIFY) {
      ops.push({ op: b });
    } else return 'unsupported-script';
  }
  return ops;
}

/** Script truth (CastToBool): any non-zero byte, except a lone sign bit at the end. */
export function castToBool(v: Uint8Array): boolean {
  for (let i = 0; i < v.length; i++) {
    if (v[i] !== 0) return !(i === v.length - 1 && v[i] === 0x80);
  }
  return false;
}

/** Little-endian sign-magnitude script number of at most `maxLen` bytes (CScriptNum). */
export function decodeScriptNum(v: Uint8Array, maxLen: number): number | undefined {
  if (v.length > maxLen) return undefined;
  if (v.length === 0) return 0;
  let n = 0;
  for (let i = v.length - 1; i >= 0; i--) n = n * 256 + (i === v.length - 1 ? v[i]! & 0x7f : v[i]!);
  return (v[v.length - 1]! & 0x80) !== 0 ? -n : n;
}

/** Runs `script` on the witness stack; null on success, else the failure. */
export function runTapscript(script: Uint8Array, initialStack: readonly Uint8Array[], ctx: TapscriptContext): ScriptFailure | null {
  const ops = parseTapscript(script);
  if (typeof ops === 'string') return ops;
  if (initialStack.some((e) => e.length > MAX_ELEMENT)) return 'Push value size limit exceeded';
  const stack = [...initialStack];
  for (const o of ops) {
    if ('push' in o) {
      stack.push(o.push);
      continue;
    }
    switch (o.op) {
      case OP.DROP:
        if (stack.pop() === undefined) return 'Operation not valid with the current stack size';
        break;
      case OP.CHECKSIG:
      case OP.CHECKSIGVERIFY: {
        const pub = stack.pop();
        const sig = stack.pop();
        if (pub === undefined || sig === undefined) return 'Operation not valid with the current stack size';
        if (pub.length === 0) return 'Public key is neither compressed or uncompressed';
        // Keys of other lengths are an upgrade hook in BIP342 (they always succeed); we
        // do not build them, so refuse rather than accept anything.
        if (pub.length !== 32) return 'unsupported-script';
        let ok = false;
        if (sig.length > 0) {
          if (!ctx.checkSig(sig, pub)) return 'Invalid Schnorr signature';
          ok = true;
        }
        if (o.op === OP.CHECKSIGVERIFY) {
          if (!ok) return 'Script failed an OP_CHECKSIGVERIFY operation';
        } else stack.push(ok ? Uint8Array.of(1) : new Uint8Array(0));
        break;
      }
      case OP.CHECKLOCKTIMEVERIFY: {
        const top = stack[stack.length - 1];
        if (top === undefined) return 'Operation not valid with the current stack size';
        const n = decodeScriptNum(top, 5);
        if (n === undefined) return 'Locktime requirement not satisfied';
        if (n < 0) return 'Negative locktime';
        if (!lockTimeSatisfied(n, ctx.txLockTime, ctx.inputSequence)) return 'Locktime requirement not satisfied';
        break;
      }
    }
  }
  // Tapscript makes CLEANSTACK a consensus rule.
  if (stack.length !== 1) return 'Stack size must be exactly one after execution';
  if (!castToBool(stack[0]!)) return 'Script evaluated without error but finished with a false/empty top stack element';
  return null;
}
