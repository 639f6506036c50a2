import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Crypto } from '../../crypto/facade.js';
import { WireCodec } from './codec.js';
import { MAX_DATAGRAM_BYTES, MESSAGE_TYPES, SIGNED_TYPES } from './constants.js';
import { encodeMessage, type Signer } from './envelope.js';
import { WireError, WIRE_ERROR_CODES } from './errors.js';
import type { Message } from './messages.js';
import { messageArb } from './arbitrary.test-support.js';

const crypto = new Crypto();
const sk = new Uint8Array(32).fill(7);
// Deterministic aux keeps this suite fast and reproducible; real agents pass randomBytes.
const signer: Signer = { crypto, secretKey: sk, auxRand: () => new Uint8Array(32) };
const codec = new WireCodec();

// Signatures are costly; properties that only exercise the decoder use a fixed fake
// signature (the codec checks its shape, authenticate() checks its validity).
function encodeFast(m: Message): Uint8Array {
  const body = codec.encodeMessageBody(m);
  return codec.encodeEnvelope(m.type, body, SIGNED_TYPES.has(m.type) ? new Uint8Array(64).fill(1) : undefined);
}

function expectTypedOutcome(bytes: Uint8Array): void {
  const r = codec.decode(bytes);
  if (r.ok) {
    expect(MESSAGE_TYPES).toContain(r.value.message.type);
    // Whatever decodes must re-encode to exactly the same bytes: one value, one encoding.
    const { message, sig } = r.value;
    const again = codec.encodeEnvelope(message.type, codec.encodeMessageBody(message), sig);
    expect(Buffer.from(again).toString('hex')).toBe(Buffer.from(bytes).toString('hex'));
  } else {
    expect(r.error).toBeInstanceOf(WireError);
    expect(WIRE_ERROR_CODES).toContain(r.error.code);
  }
}

describe('wire codec', () => {
  it('decode(encode(m)) = m for every message type', () => {
    fc.assert(
      fc.property(messageArb, (m) => {
        const bytes = encodeFast(m);
        expect(bytes.length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
        const r = codec.decode(bytes);
        expect(r.ok).toBe(true);
        if (r.ok) expect(r.value.message).toEqual(m);
      }),
      { numRuns: 2000 },
    );
  });

  it('every message at its largest fits one datagram', () => {
    // All fields at maximum size: the 1200-byte limit holds by construction.
    for (const type of MESSAGE_TYPES) {
      const m = fc.sample(messageArb.filter((x) => x.type === type), 1)[0]!;
      const big = Object.fromEntries(
        Object.entries(m.body).map(([k, v]) => [k, typeof v === 'number' ? Number.MAX_SAFE_INTEGER : typeof v === 'string' ? 'x'.repeat(200) : v]),
      );
      expect(encodeFast({ type, body: big } as Message).length).toBeLessThanOrEqual(MAX_DATAGRAM_BYTES);
    }
  });

  it('signed messages carry a signature that verifies over the body', () => {
    const bytes = encodeMessage(codec, 'HELLO', { sender: crypto.schnorrPublicKey(sk), ts: 1, nonce: new Uint8Array(8), roles: 1, seq: 0 }, signer);
    const r = codec.decode(bytes);
    expect(r.ok).toBe(true);
    if (r.ok) expect(r.value.sig).toHaveLength(64);
  });

  it('every truncation of a valid datagram is a typed error', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), (m, cut) => {
        const bytes = encodeFast(m);
        const r = codec.decode(bytes.subarray(0, cut % bytes.length));
        expect(r.ok).toBe(false);
        if (!r.ok) expect(WIRE_ERROR_CODES).toContain(r.error.code);
      }),
      { numRuns: 3000 },
    );
  });

  it('every bit flip decodes to a valid message or a typed error', () => {
    fc.assert(
      fc.property(messageArb, fc.nat(), fc.nat(7), (m, at, bit) => {
        const bytes = encodeFast(m).slice();
        bytes[at % bytes.length]! ^= 1 << bit;
        expectTypedOutcome(bytes);
      }),
      { numRuns: 5000 },
    );
  });

  it('every splice of two valid datagrams decodes to a valid message or a typed error', () => {
    fc.assert(
      fc.property(messageArb, messageArb, fc.nat(), fc.nat(), (a, b, i, j) => {
        const x = encodeFast(a);
        const y = encodeFast(b);
        const spliced = new Uint8Array([...x.subarray(0, i % (x.length + 1)), ...y.subarray(j % (y.length + 1))]);
        expectTypedOutcome(spliced);
      }),
      { numRuns: 3000 },
    );
  });

  it('random bytes never escape as an exception', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 1400 }), (bytes) => expectTypedOutcome(bytes)),
      { numRuns: 3000 },
    );
  });
});

describe('hostile datagrams', () => {
  const hello = encodeFast({
    type: 'TICK',
    body: { channelId: new Uint8Array(32), index: 5, preimage: new Uint8Array(32) },
  });
  const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s/g, ''), 'hex'));
  const b32 = '5820' + '00'.repeat(32);
  const cases: [string, Uint8Array, string][] = [
    ['empty', new Uint8Array(0), 'malformed_cbor'],
    ['oversize', new Uint8Array(1201), 'oversize'],
    ['not an array', hex('01'), 'bad_envelope'],
    ['two-item envelope', hex('820109'), 'bad_envelope'],
    ['unknown version', hex('8302 09 83' + b32 + '05' + b32), 'unknown_version'],
    ['unknown type', hex('8301 18 63 80'), 'unknown_type'],
    ['type zero', hex('8301 00 80'), 'unknown_type'],
    ['non-canonical integer (5 as 0x18 0x05)', hex('8301 09 83' + b32 + '1805' + b32), 'non_canonical'],
    ['non-canonical length', hex('8301 09 83 58 20' + '00'.repeat(32) + '05' + '5900 20' + '00'.repeat(32)), 'non_canonical'],
    ['indefinite-length array', hex('8301 09 9f ff'), 'malformed_cbor'],
    ['float field', hex('8301 09 83' + b32 + 'f93c00' + b32), 'malformed_cbor'],
    ['map body', hex('8301 09 a0'), 'malformed_cbor'],
    ['tagged value', hex('8301 09 c0 80'), 'malformed_cbor'],
    ['negative integer', hex('8301 09 83' + b32 + '20' + b32), 'malformed_cbor'],
    ['integer above 2^53', hex('8301 09 83' + b32 + '1b0020000000000000' + b32), 'malformed_cbor'],
    ['missing field', hex('8301 09 82' + b32 + '05'), 'bad_body'],
    ['extra field', hex('8301 09 84' + b32 + '05' + b32 + '00'), 'bad_body'],
    ['short key', hex('8301 09 83 581f' + '00'.repeat(31) + '05' + b32), 'bad_body'],
    ['text where bytes expected', hex('8301 09 83 6161 05' + b32), 'bad_body'],
    ['trailing bytes', new Uint8Array([...hello, 0]), 'trailing_bytes'],
    ['signature on unsigned TICK', hex('8401 09 83' + b32 + '05' + b32 + '5840' + '00'.repeat(64)), 'unexpected_signature'],
    ['signed type without signature', hex('8301 01 85' + b32 + '01 48' + '00'.repeat(8) + '01 00'), 'missing_signature'],
    ['invalid UTF-8', hex('8301 0c 83 40 01 62 c328'), 'malformed_cbor'],
    ['array bomb', hex('8301 09 9a ffffffff'), 'malformed_cbor'],
    ['deep nesting', hex('8301 09 81818181818180'), 'malformed_cbor'],
  ];
  it.each(cases.map(([n, b, c]) => [n, c, b] as const))('%s → %s', (_name, code, bytes) => {
    const r = codec.decode(bytes);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.code).toBe(code);
  });

  it('a valid TICK still decodes (the table is not vacuous)', () => {
    expect(codec.decode(hex('8301 09 83' + b32 + '05' + b32)).ok).toBe(true);
  });
});
