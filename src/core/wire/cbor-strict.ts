// A strict pre-check of untrusted CBOR before cbor-x decodes it.
//
// cbor-x is a general decoder: it accepts tags, maps, floats, indefinite lengths and
// record definitions, and it does not insist on shortest encodings. A datagram from
// the mesh is allowed only the small canonical subset BitMesh sends:
//   unsigned integers (major 0) up to 2^53-1, byte strings (2), UTF-8 text (3),
//   arrays (4) of definite length, and false/true (0xf4/0xf5);
//   every argument in its shortest form; nesting and array lengths capped.
// Anything else is refused here, so the decoder never sees it and one value has
// exactly one encoding (which is what makes signatures over bodies unambiguous).
import { WireError } from './errors.js';
import { MAX_CBOR_ARRAY_LEN, MAX_CBOR_DEPTH } from './constants.js';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export interface Span {
  readonly start: number;
  readonly end: number;
}

interface Cursor {
  pos: number;
}

function readArgument(buf: Uint8Array, c: Cursor, info: number): number {
  if (info < 24) return info;
  let len: number;
  if (info === 24) len = 1;
  else if (info === 25) len = 2;
  else if (info === 26) len = 4;
  else if (info === 27) len = 8;
  else throw new WireError('malformed_cbor', `indefinite or reserved length at byte ${c.pos - 1}`);
  if (c.pos + len > buf.length) throw new WireError('malformed_cbor', `truncated argument at byte ${c.pos}`);
  let v = 0;
  for (let i = 0; i < len; i++) v = v * 256 + buf[c.pos + i]!;
  if (len === 8 && !Number.isSafeInteger(v)) {
    throw new WireError('malformed_cbor', `integer above 2^53-1 at byte ${c.pos - 1}`);
  }
  c.pos += len;
  const min = len === 1 ? 24 : len === 2 ? 0x100 : len === 4 ? 0x10000 : 0x100000000;
  if (v < min) throw new WireError('non_canonical', `argument ${v} not in shortest form`);
  return v;
}

function skipItem(buf: Uint8Array, c: Cursor, depth: number): void {
  if (c.pos >= buf.length) throw new WireError('malformed_cbor', 'truncated: item expected');
  const start = c.pos;
  const initial = buf[c.pos++]!;
  const major = initial >> 5;
  const info = initial & 0x1f;
  switch (major) {
    case 0:
      readArgument(buf, c, info);
      return;
    case 2:
    case 3: {
      const n = readArgument(buf, c, info);
      if (c.pos + n > buf.length) throw new WireError('malformed_cbor', `truncated string at byte ${start}`);
      if (major === 3) {
        try {
          utf8.decode(buf.subarray(c.pos, c.pos + n));
        } catch {
          throw new WireError('malformed_cbor', `invalid UTF-8 at byte ${start}`);
        }
      }
      c.pos += n;
      return;
    }
    case 4: {
      if (depth >= MAX_CBOR_DEPTH) throw new WireError('malformed_cbor', 'nested too deep');
      const n = readArgument(buf, c, info);
      if (n > MAX_CBOR_ARRAY_LEN) throw new WireError('malformed_cbor', `array of ${n} items`);
      for (let i = 0; i < n; i++) skipItem(buf, c, depth + 1);
      return;
    }
    case 7:
      if (initial === 0xf4 || initial === 0xf5) return;
      throw new WireError('malformed_cbor', `simple value or float 0x${initial.toString(16)} at byte ${start}`);
    default:
      throw new WireError('malformed_cbor', `major type ${major} at byte ${start}`);
  }
}

/**
 * Checks that `buf` is exactly one top-level array in the allowed subset and
 * returns the byte span of each of its items (so a signature can cover the body's
 * exact bytes). Throws WireError; callers turn it into a result.
 */
export function scanTopLevelArray(buf: Uint8Array): Span[] {
  const c: Cursor = { pos: 0 };
  if (buf.length === 0) throw new WireError('malformed_cbor', 'empty datagram');
  const initial = buf[c.pos++]!;
  if (initial >> 5 !== 4) throw new WireError('bad_envelope', 'envelope is not an array');
  const n = readArgument(buf, c, initial & 0x1f);
  if (n > MAX_CBOR_ARRAY_LEN) throw new WireError('malformed_cbor', `array of ${n} items`);
  const spans: Span[] = [];
  for (let i = 0; i < n; i++) {
    const start = c.pos;
    skipItem(buf, c, 1);
    spans.push({ start, end: c.pos });
  }
  if (c.pos !== buf.length) throw new WireError('trailing_bytes', `${buf.length - c.pos} bytes after the envelope`);
  return spans;
}
