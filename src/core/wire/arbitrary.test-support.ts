// fast-check arbitraries for every message type, derived from the schema tables so a
// new field is covered by the property tests without touching them.
import fc from 'fast-check';
import { MESSAGE_TYPES, type MessageType } from './constants.js';
import { BODY_SCHEMAS, MAX_TEXT_CHARS, type Body, type FieldKind, type Message } from './messages.js';

const fieldArb: Record<FieldKind, fc.Arbitrary<unknown>> = {
  uint: fc.oneof(fc.nat(30), fc.nat(0xffff), fc.nat(0xffffffff), fc.maxSafeNat()),
  bytes8: fc.uint8Array({ minLength: 8, maxLength: 8 }),
  bytes32: fc.uint8Array({ minLength: 32, maxLength: 32 }),
  bytes64: fc.uint8Array({ minLength: 64, maxLength: 64 }),
  bytes0or32: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ minLength: 32, maxLength: 32 })),
  text: fc.string({ maxLength: MAX_TEXT_CHARS, unit: 'grapheme-ascii' }),
};

export function bodyArb<T extends MessageType>(type: T): fc.Arbitrary<Body<T>> {
  const rec: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, kind] of BODY_SCHEMAS[type]) rec[name] = fieldArb[kind];
  return fc.record(rec) as unknown as fc.Arbitrary<Body<T>>;
}

export const messageArb: fc.Arbitrary<Message> = fc.oneof(
  ...MESSAGE_TYPES.map((t) => bodyArb(t).map((body) => ({ type: t, body }) as Message)),
);
