// fast-check arbitraries that damage recorded tool output: truncation, and bytes
// inserted, deleted or replaced. Used by the parser tests only.

import fc from 'fast-check';

const NASTY = ['', '"', ':', '\t', '\n', '-', '[', ']', '{', '}', ',', '0', '9', 'e', 'null', 'NaN', '\u0000', ' dBm', 'ESTAB'];

/** `base` damaged in one of several ways; roughly half keep most of the text intact. */
export function mutatedText(base: string): fc.Arbitrary<string> {
  const pos = fc.nat({ max: base.length });
  const piece = fc.oneof(fc.constantFrom(...NASTY), fc.string({ maxLength: 8 }));
  return fc.oneof(
    pos.map((p) => base.slice(0, p)),
    fc.tuple(pos, piece).map(([p, s]) => base.slice(0, p) + s + base.slice(p)),
    fc.tuple(pos, fc.nat({ max: 16 })).map(([p, n]) => base.slice(0, p) + base.slice(p + n)),
    fc.tuple(pos, piece, fc.nat({ max: 4 })).map(([p, s, n]) => base.slice(0, p) + s + base.slice(p + n)),
  );
}
