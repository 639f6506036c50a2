// Test support (not shipped) for the helper-vs-noble differential suites: a seeded
// generator, so a failing run can be replayed with BITMESH_DIFF_SEED, and the scale knob.

/** Multiplies the signature-operation counts (noble signs/verifies at ~100-1000/s here). */
export function diffScale(): number {
  const s = Number(process.env.BITMESH_DIFF_SCALE ?? '1');
  return Number.isFinite(s) && s > 0 ? s : 1;
}

export function diffSeed(): number {
  const env = process.env.BITMESH_DIFF_SEED;
  return env !== undefined ? Number(env) >>> 0 : (Date.now() ^ (process.pid << 16)) >>> 0;
}

/** xorshift32: fast, deterministic, not for keys outside tests. */
export class SeededBytes {
  #s: number;
  constructor(seed: number) {
    this.#s = seed >>> 0 || 0x9e3779b9;
  }
  u32(): number {
    let x = this.#s;
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    this.#s = x >>> 0;
    return this.#s;
  }
  /** Integer in [0, n). */
  below(n: number): number {
    return this.u32() % n;
  }
  bytes(n: number): Uint8Array {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = this.u32() & 0xff;
    return out;
  }
  /** A copy of `b` with one random bit flipped. */
  flipBit(b: Uint8Array): Uint8Array {
    const out = Uint8Array.from(b); // not b.slice(): on a Buffer that is a view
    const i = this.below(out.length * 8);
    out[i >> 3]! ^= 1 << (i & 7);
    return out;
  }
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
}

/** A plain Uint8Array (never a pooled Buffer, whose slice() aliases). */
export function unhex(s: string): Uint8Array {
  return Uint8Array.from(Buffer.from(s, 'hex'));
}

/** Settles a call into a comparable string: the answer, or "throws". */
export async function outcome(p: Promise<Uint8Array | boolean | number | null>): Promise<string> {
  try {
    const v = await p;
    return v instanceof Uint8Array ? hex(v) : String(v);
  } catch {
    return 'throws';
  }
}

export function syncOutcome(fn: () => Uint8Array | boolean | number | null): string {
  try {
    const v = fn();
    return v instanceof Uint8Array ? hex(v) : String(v);
  } catch {
    return 'throws';
  }
}

/** First index where the two answer lists differ, for a readable failure. */
export function firstMismatch(a: readonly string[], b: readonly string[]): { index: number; helper: string; noble: string } | null {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) return { index: i, helper: a[i] ?? '<missing>', noble: b[i] ?? '<missing>' };
  }
  return null;
}
