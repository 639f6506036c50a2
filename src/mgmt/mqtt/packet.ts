// MQTT 3.1.1 packets (OASIS standard, 2014), the subset a management client needs:
// CONNECT, CONNACK, PUBLISH (QoS 0/1), PUBACK, SUBSCRIBE, SUBACK, PINGREQ, PINGRESP,
// DISCONNECT. QoS 2 and UNSUBSCRIBE are not spoken: we never ask for them, and a broker
// that sends them anyway gets a typed error (and the connection is dropped).
//
// Rules: encode() checks its input (a bad value is our bug: LocalError); decode() takes
// one whole packet and returns a typed packet or an MqttPacketError, never throws. It is
// strict: reserved flag bits, a remaining length that disagrees with the bytes, invalid
// UTF-8 or U+0000 in a string, wildcards in a PUBLISH topic, packet id 0 and trailing
// bytes are all errors. FrameReader splits a TCP byte stream into packets, capped.
import { LocalError, RemoteError } from '../../core/errors.js';

export const PROTOCOL_LEVEL_311 = 4;
/** The largest remaining length four length bytes can say (spec 2.2.3). */
export const MAX_REMAINING_LENGTH = 268_435_455;

export const PacketType = {
  CONNECT: 1,
  CONNACK: 2,
  PUBLISH: 3,
  PUBACK: 4,
  SUBSCRIBE: 8,
  SUBACK: 9,
  PINGREQ: 12,
  PINGRESP: 13,
  DISCONNECT: 14,
} as const;

export type QoS = 0 | 1;

export interface ConnectPacket {
  readonly type: 'connect';
  readonly clientId: string;
  readonly keepaliveS: number;
  readonly clean: boolean;
  readonly username?: string;
  readonly password?: Uint8Array;
  readonly will?: { readonly topic: string; readonly payload: Uint8Array; readonly qos: QoS; readonly retain: boolean };
}
export interface ConnackPacket {
  readonly type: 'connack';
  readonly sessionPresent: boolean;
  /** 0 accepted; 1–5 refused (spec table 3.1). */
  readonly returnCode: number;
}
export interface PublishPacket {
  readonly type: 'publish';
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: QoS;
  readonly retain: boolean;
  readonly dup: boolean;
  /** Present iff qos > 0. */
  readonly packetId?: number;
}
export interface PubackPacket {
  readonly type: 'puback';
  readonly packetId: number;
}
export interface SubscribePacket {
  readonly type: 'subscribe';
  readonly packetId: number;
  readonly subscriptions: readonly { readonly filter: string; readonly qos: QoS }[];
}
export interface SubackPacket {
  readonly type: 'suback';
  readonly packetId: number;
  /** Granted QoS per filter, or 0x80 for a refused one. */
  readonly granted: readonly number[];
}
export interface EmptyPacket {
  readonly type: 'pingreq' | 'pingresp' | 'disconnect';
}
export type Packet = ConnectPacket | ConnackPacket | PublishPacket | PubackPacket | SubscribePacket | SubackPacket | EmptyPacket;

export type MqttPacketErrorCode =
  | 'mqtt_truncated' // fewer bytes than the header or a field says
  | 'mqtt_trailing' // bytes left over after the last field
  | 'mqtt_bad_length' // remaining length longer than four bytes, or not in its shortest form
  | 'mqtt_oversize' // larger than the reader's cap
  | 'mqtt_bad_flags' // reserved bits set, or QoS 3
  | 'mqtt_unsupported' // a packet type this client does not speak
  | 'mqtt_bad_string' // invalid UTF-8, U+0000, or a wildcard where none may be
  | 'mqtt_bad_field'; // a value out of range (packet id 0, return code, protocol name)

/** The broker (or whatever is on the socket) sent bytes that are not a packet we accept. */
export class MqttPacketError extends RemoteError {
  declare readonly code: MqttPacketErrorCode;
  constructor(code: MqttPacketErrorCode, message: string) {
    super(code, message);
  }
}

// ---------------------------------------------------------------- encode

const utf8 = new TextEncoder();
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function checkString(what: string, s: string): Uint8Array {
  // Lone surrogates would be replaced silently by TextEncoder: refuse them instead.
  if (s.includes('\u0000') || LONE_SURROGATE.test(s)) throw new LocalError('mqtt_bad_string', `${what}: not a valid MQTT string`);
  const b = utf8.encode(s);
  if (b.length > 0xffff) throw new LocalError('mqtt_bad_string', `${what}: ${b.length} bytes, at most 65535`);
  return b;
}
function checkBinary(what: string, b: Uint8Array): Uint8Array {
  if (b.length > 0xffff) throw new LocalError('mqtt_bad_field', `${what}: ${b.length} bytes, at most 65535`);
  return b;
}
function checkPacketId(id: number): number {
  if (!Number.isInteger(id) || id < 1 || id > 0xffff) throw new LocalError('mqtt_bad_field', `packet id ${id}: expected 1..65535`);
  return id;
}

/** Collects fields, then prefixes the fixed header. */
class Writer {
  readonly parts: Uint8Array[] = [];
  length = 0;
  bytes(b: Uint8Array): void {
    this.parts.push(b);
    this.length += b.length;
  }
  u8(n: number): void {
    this.bytes(Uint8Array.of(n));
  }
  u16(n: number): void {
    this.bytes(Uint8Array.of(n >> 8, n & 0xff));
  }
  prefixed(b: Uint8Array): void {
    this.u16(b.length);
    this.bytes(b);
  }
  finish(first: number): Uint8Array {
    if (this.length > MAX_REMAINING_LENGTH) throw new LocalError('mqtt_oversize', `packet of ${this.length} bytes`);
    const len: number[] = [];
    let n = this.length;
    do {
      let d = n % 128;
      n = Math.floor(n / 128);
      if (n > 0) d |= 0x80;
      len.push(d);
    } while (n > 0);
    const out = new Uint8Array(1 + len.length + this.length);
    out[0] = first;
    out.set(len, 1);
    let o = 1 + len.length;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

function checkTopicName(topic: string): Uint8Array {
  if (topic.length === 0 || /[+#]/.test(topic)) throw new LocalError('mqtt_bad_string', `topic '${topic}': empty or has a wildcard`);
  return checkString('topic', topic);
}

/** One packet as bytes on the wire. Throws LocalError on a value MQTT cannot carry. */
export function encode(p: Packet): Uint8Array {
  const w = new Writer();
  switch (p.type) {
    case 'connect': {
      if (!Number.isInteger(p.keepaliveS) || p.keepaliveS < 0 || p.keepaliveS > 0xffff) throw new LocalError('mqtt_bad_field', `keepalive ${p.keepaliveS}`);
      if (p.password !== undefined && p.username === undefined) throw new LocalError('mqtt_bad_field', 'a password needs a user name (3.1.2.9)');
      let flags = p.clean ? 0x02 : 0;
      if (p.will) flags |= 0x04 | (p.will.qos << 3) | (p.will.retain ? 0x20 : 0);
      if (p.password !== undefined) flags |= 0x40;
      if (p.username !== undefined) flags |= 0x80;
      w.prefixed(utf8.encode('MQTT'));
      w.u8(PROTOCOL_LEVEL_311);
      w.u8(flags);
      w.u16(p.keepaliveS);
      w.prefixed(checkString('client id', p.clientId));
      if (p.will) {
        w.prefixed(checkTopicName(p.will.topic));
        w.prefixed(checkBinary('will payload', p.will.payload));
      }
      if (p.username !== undefined) w.prefixed(checkString('user name', p.username));
      if (p.password !== undefined) w.prefixed(checkBinary('password', p.password));
      return w.finish(PacketType.CONNECT << 4);
    }
    case 'connack':
      if (p.returnCode < 0 || p.returnCode > 5 || (p.sessionPresent && p.returnCode !== 0)) throw new LocalError('mqtt_bad_field', 'connack');
      w.u8(p.sessionPresent ? 1 : 0);
      w.u8(p.returnCode);
      return w.finish(PacketType.CONNACK << 4);
    case 'publish': {
      w.prefixed(checkTopicName(p.topic));
      if (p.qos > 0) w.u16(checkPacketId(p.packetId ?? 0));
      else if (p.packetId !== undefined || p.dup) throw new LocalError('mqtt_bad_field', 'QoS 0 publish has no packet id and no DUP');
      w.bytes(p.payload);
      return w.finish((PacketType.PUBLISH << 4) | (p.dup ? 0x08 : 0) | (p.qos << 1) | (p.retain ? 1 : 0));
    }
    case 'puback':
      w.u16(checkPacketId(p.packetId));
      return w.finish(PacketType.PUBACK << 4);
    case 'subscribe':
      if (p.subscriptions.length === 0) throw new LocalError('mqtt_bad_field', 'subscribe needs a filter (3.8.3)');
      w.u16(checkPacketId(p.packetId));
      for (const s of p.subscriptions) {
        if (s.filter.length === 0) throw new LocalError('mqtt_bad_string', 'empty topic filter');
        w.prefixed(checkString('topic filter', s.filter));
        w.u8(s.qos);
      }
      return w.finish((PacketType.SUBSCRIBE << 4) | 0x02);
    case 'suback':
      w.u16(checkPacketId(p.packetId));
      if (p.granted.length === 0) throw new LocalError('mqtt_bad_field', 'suback needs a return code');
      for (const g of p.granted) {
        if (!isSubackCode(g)) throw new LocalError('mqtt_bad_field', `suback return code ${g}`);
        w.u8(g);
      }
      return w.finish(PacketType.SUBACK << 4);
    case 'pingreq':
      return w.finish(PacketType.PINGREQ << 4);
    case 'pingresp':
      return w.finish(PacketType.PINGRESP << 4);
    case 'disconnect':
      return w.finish(PacketType.DISCONNECT << 4);
  }
}

function isSubackCode(g: number): boolean {
  return g === 0 || g === 1 || g === 2 || g === 0x80;
}

// ---------------------------------------------------------------- decode

const utf8Strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

class Reader {
  o = 0;
  constructor(readonly b: Uint8Array) {}
  need(n: number, what: string): void {
    if (this.b.length - this.o < n) throw new MqttPacketError('mqtt_truncated', `${what}: needs ${n} bytes, ${this.b.length - this.o} left`);
  }
  u8(what: string): number {
    this.need(1, what);
    return this.b[this.o++]!;
  }
  u16(what: string): number {
    this.need(2, what);
    const v = (this.b[this.o]! << 8) | this.b[this.o + 1]!;
    this.o += 2;
    return v;
  }
  binary(what: string): Uint8Array {
    const n = this.u16(what);
    this.need(n, what);
    const v = this.b.slice(this.o, this.o + n);
    this.o += n;
    return v;
  }
  string(what: string): string {
    const raw = this.binary(what);
    let s: string;
    try {
      s = utf8Strict.decode(raw);
    } catch {
      throw new MqttPacketError('mqtt_bad_string', `${what}: invalid UTF-8`);
    }
    if (s.includes('\u0000')) throw new MqttPacketError('mqtt_bad_string', `${what}: contains U+0000`);
    return s;
  }
  packetId(what: string): number {
    const id = this.u16(what);
    if (id === 0) throw new MqttPacketError('mqtt_bad_field', `${what}: packet id 0`);
    return id;
  }
  rest(): Uint8Array {
    const v = this.b.slice(this.o);
    this.o = this.b.length;
    return v;
  }
  end(what: string): void {
    if (this.o !== this.b.length) throw new MqttPacketError('mqtt_trailing', `${what}: ${this.b.length - this.o} bytes after the last field`);
  }
}

/**
 * The fixed header at the start of `b`: how many bytes the whole packet takes, or
 * undefined when more bytes are needed to tell. Throws MqttPacketError.
 */
function frameLength(b: Uint8Array): { headerLength: number; remaining: number } | undefined {
  let remaining = 0;
  let mult = 1;
  for (let i = 1; i <= 4; i++) {
    if (i >= b.length) return undefined;
    const d = b[i]!;
    remaining += (d & 0x7f) * mult;
    if ((d & 0x80) === 0) {
      // A last byte of 0 after others says the length in more bytes than it needs: one
      // packet, two spellings (MQTT 5 §1.5.5 forbids it; a 3.1.1 broker never sends it).
      if (d === 0 && i > 1) throw new MqttPacketError('mqtt_bad_length', 'remaining length not in its shortest form');
      return { headerLength: i + 1, remaining };
    }
    mult *= 128;
  }
  throw new MqttPacketError('mqtt_bad_length', 'remaining length longer than four bytes');
}

function decodeOrThrow(b: Uint8Array): Packet {
  const f = frameLength(b);
  if (f === undefined) throw new MqttPacketError('mqtt_truncated', 'fixed header cut short');
  if (b.length - f.headerLength < f.remaining) throw new MqttPacketError('mqtt_truncated', `remaining length ${f.remaining}, ${b.length - f.headerLength} bytes present`);
  if (b.length - f.headerLength > f.remaining) throw new MqttPacketError('mqtt_trailing', `remaining length ${f.remaining}, ${b.length - f.headerLength} bytes present`);
  const type = b[0]! >> 4;
  const flags = b[0]! & 0x0f;
  const r = new Reader(b.subarray(f.headerLength));
  const noFlags = (name: string, want = 0): void => {
    if (flags !== want) throw new MqttPacketError('mqtt_bad_flags', `${name}: flags ${flags}, expected ${want}`);
  };
  switch (type) {
    case PacketType.CONNECT: {
      noFlags('CONNECT');
      const proto = r.string('protocol name');
      const level = r.u8('protocol level');
      if (proto !== 'MQTT' || level !== PROTOCOL_LEVEL_311) throw new MqttPacketError('mqtt_bad_field', `protocol ${proto} level ${level}, expected MQTT 4`);
      const cf = r.u8('connect flags');
      const willQos = (cf >> 3) & 3;
      const hasWill = (cf & 0x04) !== 0;
      if ((cf & 0x01) !== 0) throw new MqttPacketError('mqtt_bad_flags', 'CONNECT: reserved flag set');
      if (willQos > 1 || (!hasWill && (willQos !== 0 || (cf & 0x20) !== 0))) throw new MqttPacketError('mqtt_bad_flags', 'CONNECT: will flags');
      if ((cf & 0x40) !== 0 && (cf & 0x80) === 0) throw new MqttPacketError('mqtt_bad_flags', 'CONNECT: password without user name');
      const keepaliveS = r.u16('keepalive');
      const clientId = r.string('client id');
      let will: ConnectPacket['will'];
      if (hasWill) {
        const topic = topicName(r.string('will topic'));
        will = { topic, payload: r.binary('will payload'), qos: willQos as QoS, retain: (cf & 0x20) !== 0 };
      }
      const username = (cf & 0x80) !== 0 ? r.string('user name') : undefined;
      const password = (cf & 0x40) !== 0 ? r.binary('password') : undefined;
      r.end('CONNECT');
      return {
        type: 'connect',
        clientId,
        keepaliveS,
        clean: (cf & 0x02) !== 0,
        ...(will && { will }),
        ...(username !== undefined && { username }),
        ...(password !== undefined && { password }),
      };
    }
    case PacketType.CONNACK: {
      noFlags('CONNACK');
      const ack = r.u8('connack flags');
      const returnCode = r.u8('connack return code');
      r.end('CONNACK');
      if ((ack & 0xfe) !== 0) throw new MqttPacketError('mqtt_bad_flags', 'CONNACK: reserved flag set');
      if (returnCode > 5 || (ack !== 0 && returnCode !== 0)) throw new MqttPacketError('mqtt_bad_field', `CONNACK: return code ${returnCode}`);
      return { type: 'connack', sessionPresent: ack === 1, returnCode };
    }
    case PacketType.PUBLISH: {
      const qos = (flags >> 1) & 3;
      if (qos === 3) throw new MqttPacketError('mqtt_bad_flags', 'PUBLISH: QoS 3');
      if (qos === 2) throw new MqttPacketError('mqtt_unsupported', 'PUBLISH: QoS 2 not spoken here');
      const dup = (flags & 0x08) !== 0;
      if (qos === 0 && dup) throw new MqttPacketError('mqtt_bad_flags', 'PUBLISH: DUP on QoS 0');
      const topic = topicName(r.string('topic'));
      const packetId = qos > 0 ? r.packetId('PUBLISH') : undefined;
      return {
        type: 'publish',
        topic,
        qos: qos as QoS,
        retain: (flags & 1) !== 0,
        dup,
        ...(packetId !== undefined && { packetId }),
        payload: r.rest(),
      };
    }
    case PacketType.PUBACK: {
      noFlags('PUBACK');
      const packetId = r.packetId('PUBACK');
      r.end('PUBACK');
      return { type: 'puback', packetId };
    }
    case PacketType.SUBSCRIBE: {
      noFlags('SUBSCRIBE', 0x02);
      const packetId = r.packetId('SUBSCRIBE');
      const subscriptions: { filter: string; qos: QoS }[] = [];
      do {
        const filter = r.string('topic filter');
        if (filter.length === 0) throw new MqttPacketError('mqtt_bad_string', 'empty topic filter');
        const q = r.u8('requested QoS');
        if (q > 1) throw new MqttPacketError(q > 2 ? 'mqtt_bad_flags' : 'mqtt_unsupported', `requested QoS byte ${q}`);
        subscriptions.push({ filter, qos: q as QoS });
      } while (r.o < r.b.length);
      return { type: 'subscribe', packetId, subscriptions };
    }
    case PacketType.SUBACK: {
      noFlags('SUBACK');
      const packetId = r.packetId('SUBACK');
      const granted: number[] = [];
      do {
        const g = r.u8('suback return code');
        if (!isSubackCode(g)) throw new MqttPacketError('mqtt_bad_field', `SUBACK: return code ${g}`);
        granted.push(g);
      } while (r.o < r.b.length);
      return { type: 'suback', packetId, granted };
    }
    case PacketType.PINGREQ:
    case PacketType.PINGRESP:
    case PacketType.DISCONNECT: {
      const name = type === PacketType.PINGREQ ? 'pingreq' : type === PacketType.PINGRESP ? 'pingresp' : 'disconnect';
      noFlags(name.toUpperCase());
      r.end(name.toUpperCase());
      return { type: name };
    }
    default:
      throw new MqttPacketError('mqtt_unsupported', `packet type ${type}`);
  }
}

function topicName(t: string): string {
  if (t.length === 0 || /[+#]/.test(t)) throw new MqttPacketError('mqtt_bad_string', 'topic name empty or with a wildcard');
  return t;
}

/** One whole packet (fixed header included) into a typed packet, or a typed error. */
export function decode(b: Uint8Array): Packet | MqttPacketError {
  try {
    return decodeOrThrow(b);
  } catch (e) {
    if (e instanceof MqttPacketError) return e;
    throw e;
  }
}

/**
 * Splits a byte stream into packets. push() bytes as they arrive, then call next()
 * until it returns undefined. After an error the stream is unusable (MQTT has no way to
 * resynchronise); the owner closes the connection.
 */
export class FrameReader {
  #buf: Uint8Array = new Uint8Array(0);
  #failed: MqttPacketError | undefined;

  /** maxPacket: the largest whole packet accepted, bytes. */
  constructor(private readonly maxPacket: number) {}

  push(chunk: Uint8Array): void {
    if (this.#failed) return;
    if (this.#buf.length === 0) {
      this.#buf = chunk;
      return;
    }
    const b = new Uint8Array(this.#buf.length + chunk.length);
    b.set(this.#buf);
    b.set(chunk, this.#buf.length);
    this.#buf = b;
  }

  /** The next whole packet, a typed error, or undefined when more bytes are needed. */
  next(): Packet | MqttPacketError | undefined {
    if (this.#failed) return this.#failed;
    let f;
    try {
      f = frameLength(this.#buf);
    } catch (e) {
      return (this.#failed = e as MqttPacketError);
    }
    if (f === undefined) return undefined;
    const total = f.headerLength + f.remaining;
    if (total > this.maxPacket) return (this.#failed = new MqttPacketError('mqtt_oversize', `packet of ${total} bytes, at most ${this.maxPacket}`));
    if (this.#buf.length < total) return undefined;
    const one = this.#buf.subarray(0, total);
    this.#buf = this.#buf.subarray(total);
    const p = decode(one);
    if (p instanceof MqttPacketError) this.#failed = p;
    return p;
  }
}
