import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  addressFromHost,
  addressHost,
  decodeGreeting,
  decodeMethodSelection,
  decodeReply,
  decodeRequest,
  decodeUserPassReply,
  decodeUserPassRequest,
  encodeGreeting,
  encodeMethodSelection,
  encodeReply,
  encodeRequest,
  encodeUserPassReply,
  encodeUserPassRequest,
  replyForRequestError,
  Reply,
  Socks5Error,
  SOCKS5_ERROR_CODES,
} from './socks5.js';
import type { Decoded, ReplyCode, Socks5Address } from './socks5.js';

const DOMAIN_CHARS = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._';
const arbAddress: fc.Arbitrary<Socks5Address> = fc.oneof(
  fc.uint8Array({ minLength: 4, maxLength: 4 }).map((bytes) => ({ kind: 'ipv4' as const, bytes })),
  fc.uint8Array({ minLength: 16, maxLength: 16 }).map((bytes) => ({ kind: 'ipv6' as const, bytes })),
  fc
    .array(fc.constantFrom(...DOMAIN_CHARS), { minLength: 1, maxLength: 255 })
    .map((cs) => ({ kind: 'domain' as const, name: cs.join('') })),
);
const arbPort = fc.integer({ min: 0, max: 0xffff });
const arbField = fc.uint8Array({ minLength: 1, maxLength: 255 });

interface Codec<T> {
  readonly name: string;
  readonly arb: fc.Arbitrary<T>;
  readonly encode: (v: T) => Uint8Array;
  readonly decode: (b: Uint8Array) => Decoded<T>;
}
const codec = <T>(c: Codec<T>): Codec<unknown> => c as Codec<unknown>;

const CODECS: Codec<unknown>[] = [
  codec({
    name: 'greeting',
    arb: fc.array(fc.integer({ min: 0, max: 255 }), { minLength: 1, maxLength: 255 }).map((methods) => ({ methods })),
    encode: encodeGreeting,
    decode: decodeGreeting,
  }),
  codec({ name: 'method selection', arb: fc.integer({ min: 0, max: 255 }).map((method) => ({ method })), encode: encodeMethodSelection, decode: decodeMethodSelection }),
  codec({
    name: 'username/password request',
    arb: fc.record({ username: arbField, password: arbField }),
    encode: encodeUserPassRequest,
    decode: decodeUserPassRequest,
  }),
  codec({ name: 'username/password reply', arb: fc.integer({ min: 0, max: 255 }).map((status) => ({ status })), encode: encodeUserPassReply, decode: decodeUserPassReply }),
  codec({
    name: 'request',
    arb: fc.record({ command: fc.constantFrom('connect' as const, 'bind' as const, 'udp-associate' as const), address: arbAddress, port: arbPort }),
    encode: encodeRequest,
    decode: decodeRequest,
  }),
  codec({
    name: 'reply',
    arb: fc.record({ reply: fc.integer({ min: 0, max: 8 }).map((r) => r as ReplyCode), address: arbAddress, port: arbPort }),
    encode: encodeReply,
    decode: decodeReply,
  }),
];

function expectWellFormed(d: Decoded<unknown>): void {
  expect(['value', 'more', 'error']).toContain(d.kind);
  if (d.kind === 'error') {
    expect(d.error).toBeInstanceOf(Socks5Error);
    expect(SOCKS5_ERROR_CODES).toContain(d.error.code);
    expect(d.error.blame).toBe('remote');
  }
}

describe.each(CODECS)('socks5 $name', ({ arb, encode, decode }) => {
  it('decodes what it encodes, and ignores what follows', () => {
    fc.assert(
      fc.property(arb, fc.uint8Array({ maxLength: 8 }), (v, extra) => {
        const bytes = encode(v);
        expect(decode(bytes)).toEqual({ kind: 'value', value: v, length: bytes.length });
        const more = new Uint8Array([...bytes, ...extra]);
        expect(decode(more)).toEqual({ kind: 'value', value: v, length: bytes.length });
      }),
    );
  });

  it('answers `more` for every proper prefix (so byte-at-a-time equals whole)', () => {
    fc.assert(
      fc.property(arb, (v) => {
        const bytes = encode(v);
        for (let i = 0; i < bytes.length; i++) expect(decode(bytes.subarray(0, i))).toEqual({ kind: 'more' });
      }),
      { numRuns: 50 },
    );
  });

  it('turns any bit flip or truncation into a value, `more`, or a typed error', () => {
    fc.assert(
      fc.property(arb, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.nat(), (v, at, bit, cut) => {
        const bytes = encode(v).slice();
        bytes[at % bytes.length]! ^= 1 << bit;
        expectWellFormed(decode(bytes));
        expectWellFormed(decode(bytes.subarray(0, cut % (bytes.length + 1))));
      }),
    );
  });

  it('never takes back an error when more bytes arrive', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (bytes) => {
        const whole = decode(bytes);
        expectWellFormed(whole);
        for (let i = 0; i <= bytes.length; i++) {
          const d = decode(bytes.subarray(0, i));
          expectWellFormed(d);
          if (d.kind === 'error') {
            expect(whole).toEqual(d);
            break;
          }
          if (d.kind === 'value') {
            expect(whole).toEqual(d);
            break;
          }
        }
      }),
    );
  });
});

describe('socks5 hostile input', () => {
  const cases: [string, (b: Uint8Array) => Decoded<unknown>, number[], string, number][] = [
    ['SOCKS4 greeting', decodeGreeting, [4, 1, 0, 80, 127, 0, 0, 1, 0], 'socks5_bad_version', 0],
    ['greeting without methods', decodeGreeting, [5, 0], 'socks5_no_methods', 1],
    ['auth version 5', decodeUserPassRequest, [5, 1, 97, 1, 97], 'socks5_bad_version', 0],
    ['empty username', decodeUserPassRequest, [1, 0, 1, 97], 'socks5_empty_field', 1],
    ['empty password', decodeUserPassRequest, [1, 1, 97, 0], 'socks5_empty_field', 3],
    ['command 9', decodeRequest, [5, 9, 0, 1, 1, 2, 3, 4, 0, 80], 'socks5_bad_command', 1],
    ['reserved 1', decodeRequest, [5, 1, 1, 1, 1, 2, 3, 4, 0, 80], 'socks5_bad_reserved', 2],
    ['address type 2', decodeRequest, [5, 1, 0, 2, 1, 2, 3, 4, 0, 80], 'socks5_bad_address_type', 3],
    ['empty domain', decodeRequest, [5, 1, 0, 3, 0, 0, 80], 'socks5_empty_field', 4],
    ['NUL in a domain (caught before the name is complete)', decodeRequest, [5, 1, 0, 3, 9, 97, 0], 'socks5_bad_domain', 6],
    ['space in a domain', decodeRequest, [5, 1, 0, 3, 3, 97, 32, 98, 0, 80], 'socks5_bad_domain', 6],
    ['reply code 9', decodeReply, [5, 9, 0, 1, 0, 0, 0, 0, 0, 0], 'socks5_bad_reply', 1],
    ['method selection version 4', decodeMethodSelection, [4, 0], 'socks5_bad_version', 0],
  ];
  it.each(cases)('%s', (_, decode, bytes, code, at) => {
    const d = decode(Uint8Array.from(bytes));
    expect(d.kind).toBe('error');
    if (d.kind === 'error') {
      expect(d.error.code).toBe(code);
      expect(d.error.at).toBe(at);
    }
  });

  it('maps request errors to the RFC 1928 reply codes', () => {
    const err = (b: number[]): Socks5Error => {
      const d = decodeRequest(Uint8Array.from(b));
      if (d.kind !== 'error') throw new Error('expected an error');
      return d.error;
    };
    expect(replyForRequestError(err([5, 9]))).toBe(Reply.commandNotSupported);
    expect(replyForRequestError(err([5, 1, 0, 7]))).toBe(Reply.addressTypeNotSupported);
    expect(replyForRequestError(err([5, 1, 3]))).toBe(Reply.generalFailure);
  });

  it('encoders refuse values the wire cannot carry', () => {
    expect(() => encodeGreeting({ methods: [] })).toThrow(RangeError);
    expect(() => encodeUserPassRequest({ username: new Uint8Array(256), password: new Uint8Array(1) })).toThrow(RangeError);
    expect(() => encodeRequest({ command: 'connect', address: { kind: 'domain', name: 'a b' }, port: 1 })).toThrow(RangeError);
    expect(() => encodeRequest({ command: 'connect', address: { kind: 'ipv4', bytes: new Uint8Array(5) }, port: 1 })).toThrow(RangeError);
    expect(() => encodeRequest({ command: 'connect', address: { kind: 'domain', name: 'a' }, port: 65536 })).toThrow(RangeError);
  });
});

describe('socks5 addresses as hosts', () => {
  it('reads dotted quads, IPv6 (with ::) and names; refuses the rest', () => {
    expect(addressFromHost('127.0.0.1')).toEqual({ kind: 'ipv4', bytes: Uint8Array.from([127, 0, 0, 1]) });
    expect(addressFromHost('::1')).toEqual({ kind: 'ipv6', bytes: Uint8Array.from([...new Array(15).fill(0), 1]) });
    expect(addressFromHost('2001:db8::8:800:200c:417a')?.kind).toBe('ipv6');
    expect(addressFromHost('example.org')).toEqual({ kind: 'domain', name: 'example.org' });
    for (const bad of ['1:2:3:4:5:6:7:8:9', '1::2::3', '::g', '', 'a b', '1:2:3:4:5:6:7::8']) expect(addressFromHost(bad)).toBeUndefined();
    expect(addressFromHost('256.1.1.1')).toEqual({ kind: 'domain', name: '256.1.1.1' });
  });

  it('round-trips IP addresses through the host string', () => {
    fc.assert(
      fc.property(arbAddress, (a) => {
        fc.pre(a.kind !== 'domain');
        expect(addressFromHost(addressHost(a))).toEqual(a);
      }),
    );
  });
});
