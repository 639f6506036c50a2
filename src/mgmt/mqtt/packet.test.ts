import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { decode, encode, FrameReader, MqttPacketError, type Packet } from './packet.js';

const hex = (s: string) => Uint8Array.from(Buffer.from(s.replace(/\s+/g, ''), 'hex'));

// A topic name: no wildcards, no U+0000, non-empty, at most a few hundred bytes.
const topic = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((t) => !/[+#\u0000]/.test(t));
const filter = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((t) => !t.includes('\u0000'));
const str = fc.string({ unit: 'grapheme', maxLength: 40 }).filter((t) => !t.includes('\u0000'));
const bytes = fc.uint8Array({ maxLength: 300 });
const packetId = fc.integer({ min: 1, max: 0xffff });
const qos = fc.constantFrom(0 as const, 1 as const);

const packetArb: fc.Arbitrary<Packet> = fc.oneof(
  fc.record(
    {
      type: fc.constant('connect' as const),
      clientId: str,
      keepaliveS: fc.integer({ min: 0, max: 0xffff }),
      clean: fc.boolean(),
      will: fc.record({ topic, payload: bytes, qos, retain: fc.boolean() }),
      username: str,
      password: bytes,
    },
    { requiredKeys: ['type', 'clientId', 'keepaliveS', 'clean'] },
  ).filter((p) => p.password === undefined || p.username !== undefined),
  fc.integer({ min: 0, max: 5 }).chain((returnCode) =>
    fc.record({ type: fc.constant('connack' as const), returnCode: fc.constant(returnCode), sessionPresent: returnCode === 0 ? fc.boolean() : fc.constant(false) }),
  ),
  fc.record({ type: fc.constant('publish' as const), topic, payload: bytes, qos: fc.constant(0 as const), retain: fc.boolean(), dup: fc.constant(false) }),
  fc.record({ type: fc.constant('publish' as const), topic, payload: bytes, qos: fc.constant(1 as const), retain: fc.boolean(), dup: fc.boolean(), packetId }),
  fc.record({ type: fc.constant('puback' as const), packetId }),
  fc.record({ type: fc.constant('subscribe' as const), packetId, subscriptions: fc.array(fc.record({ filter, qos }), { minLength: 1, maxLength: 4 }) }),
  fc.record({ type: fc.constant('suback' as const), packetId, granted: fc.array(fc.constantFrom(0, 1, 2, 0x80), { minLength: 1, maxLength: 4 }) }),
  fc.constantFrom<Packet>({ type: 'pingreq' }, { type: 'pingresp' }, { type: 'disconnect' }),
);

describe('MQTT 3.1.1 packets', () => {
  it('encodes the spec examples byte for byte', () => {
    expect(encode({ type: 'pingreq' })).toEqual(hex('c000'));
    expect(encode({ type: 'disconnect' })).toEqual(hex('e000'));
    expect(encode({ type: 'puback', packetId: 10 })).toEqual(hex('4002000a'));
    // CONNECT, client id "a", keepalive 30, clean, user "u", password "p".
    expect(encode({ type: 'connect', clientId: 'a', keepaliveS: 30, clean: true, username: 'u', password: hex('70') })).toEqual(
      hex('10 13 0004 4d515454 04 c2 001e 0001 61 0001 75 0001 70'),
    );
    // Retained QoS 1 publish of "hi" on a/b, packet id 1.
    expect(encode({ type: 'publish', topic: 'a/b', payload: hex('6869'), qos: 1, retain: true, dup: false, packetId: 1 })).toEqual(hex('33 09 0003 612f62 0001 6869'));
  });

  it('writes a multi-byte remaining length (spec 2.2.3)', () => {
    const p = encode({ type: 'publish', topic: 't', payload: new Uint8Array(321), qos: 0, retain: false, dup: false });
    // 3 + 321 = 324 = 0xc4 0x02
    expect([...p.subarray(0, 3)]).toEqual([0x30, 0xc4, 0x02]);
  });

  it('round-trips every packet it can encode', () => {
    fc.assert(
      fc.property(packetArb, (p) => {
        expect(decode(encode(p))).toEqual(p);
      }),
      { numRuns: 2000 },
    );
  });

  it('reads a stream split anywhere into the same packets', () => {
    fc.assert(
      fc.property(fc.array(packetArb, { minLength: 1, maxLength: 5 }), fc.array(fc.integer({ min: 1, max: 7 }), { minLength: 1 }), (ps, cuts) => {
        const all = Buffer.concat(ps.map(encode));
        const r = new FrameReader(1 << 20);
        const got: unknown[] = [];
        let o = 0;
        for (let i = 0; o < all.length; i++) {
          const n = cuts[i % cuts.length]!;
          r.push(new Uint8Array(all.subarray(o, o + n)));
          o += n;
          for (let p = r.next(); p !== undefined; p = r.next()) got.push(p);
        }
        expect(got).toEqual(ps);
      }),
      { numRuns: 300 },
    );
  });

  it('never throws on a truncated, bit-flipped or spliced packet: a packet or a typed error', () => {
    const mutated = fc.tuple(packetArb, packetArb, fc.nat(), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.constantFrom('truncate', 'flip', 'splice', 'append')).map(
      ([p, q, i, j, bit, how]) => {
        const a = encode(p);
        const b = encode(q);
        if (how === 'truncate') return a.subarray(0, i % a.length);
        if (how === 'append') return Buffer.concat([a, b.subarray(0, 1 + (j % b.length))]);
        if (how === 'splice') return Buffer.concat([a.subarray(0, i % a.length), b.subarray(j % b.length)]);
        const c = a.slice();
        c[i % c.length]! ^= 1 << bit;
        return c;
      },
    );
    fc.assert(
      fc.property(fc.oneof(mutated, fc.uint8Array({ maxLength: 64 })), (b) => {
        const r = decode(new Uint8Array(b));
        if (r instanceof MqttPacketError) {
          expect(r.blame).toBe('remote');
          expect(r.code).toMatch(/^mqtt_/);
        } else {
          // Whatever decodes is a packet we can write again, to the same bytes.
          expect(encode(r)).toEqual(new Uint8Array(b));
        }
      }),
      { numRuns: 5000 },
    );
  });

  it('refuses hostile inputs with the right code', () => {
    const cases: [string, string][] = [
      ['c0', 'mqtt_truncated'], // no length byte
      ['c001', 'mqtt_truncated'], // says 1 byte, has none
      ['c00100', 'mqtt_trailing'], // PINGREQ has no body
      ['c0ffffffff7f', 'mqtt_bad_length'], // five length bytes
      ['c08000', 'mqtt_bad_length'], // length 0 in two bytes (found by the property below in CI)
      ['d0808000', 'mqtt_bad_length'], // PINGRESP, length 0 in three bytes
      ['c100', 'mqtt_bad_flags'], // PINGREQ with a reserved flag
      ['8006 0001 0001 61 00', 'mqtt_bad_flags'], // SUBSCRIBE without its 0b0010 flags
      ['34050001 61 0001', 'mqtt_unsupported'], // QoS 2 publish
      ['3e050001 61 0001', 'mqtt_bad_flags'], // QoS 3
      ['3803 0001 61', 'mqtt_bad_flags'], // DUP on QoS 0
      ['3205 0001 61 0000', 'mqtt_bad_field'], // packet id 0
      ['3003 0001 23', 'mqtt_bad_string'], // '#' in a topic name
      ['3003 0001 00', 'mqtt_bad_string'], // U+0000
      ['3004 0002 c328', 'mqtt_bad_string'], // invalid UTF-8
      ['2002 0006', 'mqtt_bad_field'], // CONNACK return code 6
      ['2002 0105', 'mqtt_bad_field'], // session present on a refusal
      ['9003 0001 03', 'mqtt_bad_field'], // SUBACK code 3
      ['a002 0001', 'mqtt_unsupported'], // UNSUBSCRIBE
      ['5002 0001', 'mqtt_unsupported'], // PUBREC
      ['00 00', 'mqtt_unsupported'], // reserved type 0
    ];
    for (const [h, code] of cases) {
      const r = decode(hex(h));
      expect(r, h).toBeInstanceOf(MqttPacketError);
      expect((r as MqttPacketError).code, h).toBe(code);
    }
  });

  it('caps a packet by its announced size before the bytes arrive', () => {
    const r = new FrameReader(100);
    r.push(hex('30 e807')); // PUBLISH announcing 1000 bytes
    const e = r.next();
    expect(e).toBeInstanceOf(MqttPacketError);
    expect((e as MqttPacketError).code).toBe('mqtt_oversize');
    r.push(hex('c000'));
    expect(r.next()).toBe(e); // no resynchronising after an error
  });

  it('refuses to encode what MQTT cannot carry', () => {
    expect(() => encode({ type: 'publish', topic: 'a/+', payload: new Uint8Array(), qos: 0, retain: false, dup: false })).toThrow(/wildcard/);
    expect(() => encode({ type: 'publish', topic: 'a', payload: new Uint8Array(), qos: 1, retain: false, dup: false })).toThrow(/packet id/);
    expect(() => encode({ type: 'connect', clientId: '\ud800', keepaliveS: 1, clean: true })).toThrow(/valid MQTT string/);
    expect(() => encode({ type: 'connect', clientId: 'x', keepaliveS: 1, clean: true, password: new Uint8Array(1) })).toThrow(/user name/);
  });
});
