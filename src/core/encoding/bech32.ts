// Bech32 (BIP173) and bech32m (BIP350) strings: node ids (`bm1…`) and segwit
// addresses. Pure; the decoder says which checksum constant matched, and the caller
// decides which one its format allows.
const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
const CONSTANTS = { bech32: 1, bech32m: 0x2bc830a3 } as const;

export type Bech32Variant = keyof typeof CONSTANTS;

export interface Bech32Decoded {
  readonly hrp: string;
  /** 5-bit groups, checksum removed. */
  readonly words: readonly number[];
  readonly variant: Bech32Variant;
}

export class Bech32Error extends Error {}

function polymod(values: readonly number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= GENERATORS[i]!;
  }
  return chk >>> 0;
}

function hrpExpand(hrp: string): number[] {
  const codes = [...hrp].map((c) => c.charCodeAt(0));
  return [...codes.map((c) => c >> 5), 0, ...codes.map((c) => c & 31)];
}

export function bech32Encode(hrp: string, words: readonly number[], variant: Bech32Variant, limit = 90): string {
  const values = [...hrpExpand(hrp), ...words];
  const mod = polymod([...values, 0, 0, 0, 0, 0, 0]) ^ CONSTANTS[variant];
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >>> (5 * (5 - i))) & 31);
  const out = `${hrp}1${[...words, ...checksum].map((w) => CHARSET[w]).join('')}`;
  if (out.length > limit) throw new Bech32Error(`longer than ${limit} characters`);
  return out;
}

/** Parse a bech32 or bech32m string (either case, never mixed). */
export function bech32Decode(text: string, limit = 90): Bech32Decoded {
  if (typeof text !== 'string' || text.length > limit) throw new Bech32Error(`expected at most ${limit} characters`);
  if (!/^[\x21-\x7e]+$/.test(text)) throw new Bech32Error('characters outside US-ASCII 33..126');
  const lower = text.toLowerCase();
  if (text !== lower && text !== text.toUpperCase()) throw new Bech32Error('mixed case');
  const sep = lower.lastIndexOf('1');
  if (sep < 1 || sep > 83 || lower.length - sep - 1 < 6) throw new Bech32Error('no prefix, or data shorter than the checksum');
  const hrp = lower.slice(0, sep);
  const data = [...lower.slice(sep + 1)].map((c) => {
    const w = CHARSET.indexOf(c);
    if (w < 0) throw new Bech32Error(`'${c}' is not a bech32 character`);
    return w;
  });
  const mod = polymod([...hrpExpand(hrp), ...data]);
  const variant = mod === CONSTANTS.bech32 ? 'bech32' : mod === CONSTANTS.bech32m ? 'bech32m' : undefined;
  if (variant === undefined) throw new Bech32Error('bad checksum');
  return { hrp, words: data.slice(0, -6), variant };
}

/** Bytes → 5-bit words, the last one zero-padded. */
export function toWords(bytes: Uint8Array): number[] {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const b of bytes) {
    acc = (acc << 8) | b;
    bits += 8;
    while (bits >= 5) out.push((acc >>> (bits -= 5)) & 31);
    acc &= (1 << bits) - 1;
  }
  if (bits > 0) out.push((acc << (5 - bits)) & 31);
  return out;
}

/** 5-bit words → bytes; padding must be under 5 bits and zero (BIP173). */
export function fromWords(words: readonly number[]): Uint8Array {
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words) {
    if (!Number.isInteger(w) || w < 0 || w > 31) throw new Bech32Error(`word ${w} out of range`);
    acc = (acc << 5) | w;
    bits += 5;
    if (bits >= 8) out.push((acc >>> (bits -= 8)) & 0xff);
    acc &= (1 << bits) - 1;
  }
  if (bits >= 5 || acc !== 0) throw new Bech32Error('non-zero or excess padding');
  return Uint8Array.from(out);
}
