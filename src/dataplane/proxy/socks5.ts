// SOCKS5 wire codec: RFC 1928 (greeting, method selection, request, reply) and RFC 1929
// (username/password sub-negotiation). No I/O.
//
// Every decoder takes the bytes received so far (starting at the message) and answers
// `more` (a valid prefix: wait for more bytes), a value with the number of bytes it
// used, or a typed error as soon as a byte can no longer start a valid message. So a
// decoder fed one byte at a time agrees with one fed the whole message, and a proper
// prefix of a valid message is always `more`. Messages are bounded (at most 513 bytes),
// so callers never buffer more than that while waiting.
import { RemoteError } from '../../core/errors.js';

// ---- spec constants (RFC 1928 §3–§6, RFC 1929 §2) ----
export const SOCKS_VERSION = 0x05;
export const USERPASS_VERSION = 0x01;

export const METHOD_NO_AUTH = 0x00;
export const METHOD_USERPASS = 0x02;
export const METHOD_NO_ACCEPTABLE = 0xff;

export const USERPASS_SUCCESS = 0x00;
export const USERPASS_FAILURE = 0x01;

const CMD_CONNECT = 0x01;
const CMD_BIND = 0x02;
const CMD_UDP_ASSOCIATE = 0x03;

const ATYP_IPV4 = 0x01;
const ATYP_DOMAIN = 0x03;
const ATYP_IPV6 = 0x04;

/** Reply field of a request's answer (RFC 1928 §6). */
export const Reply = {
  succeeded: 0x00,
  generalFailure: 0x01,
  notAllowed: 0x02,
  networkUnreachable: 0x03,
  hostUnreachable: 0x04,
  connectionRefused: 0x05,
  ttlExpired: 0x06,
  commandNotSupported: 0x07,
  addressTypeNotSupported: 0x08,
} as const;
export type ReplyCode = (typeof Reply)[keyof typeof Reply];
const MAX_REPLY_CODE = 0x08;

// ---- values ----
export type Socks5Address =
  | { readonly kind: 'ipv4'; readonly bytes: Uint8Array }
  | { readonly kind: 'ipv6'; readonly bytes: Uint8Array }
  | { readonly kind: 'domain'; readonly name: string };

export type Socks5Command = 'connect' | 'bind' | 'udp-associate';

export interface Greeting {
  /** Offered methods in the client's order (1–255 of them). */
  readonly methods: readonly number[];
}
export interface MethodSelection {
  readonly method: number;
}
export interface UserPassRequest {
  /** 1–255 bytes each (RFC 1929). */
  readonly username: Uint8Array;
  readonly password: Uint8Array;
}
export interface UserPassReply {
  /** 0 = success; anything else = failure. */
  readonly status: number;
}
export interface Socks5Request {
  readonly command: Socks5Command;
  readonly address: Socks5Address;
  readonly port: number;
}
export interface Socks5Reply {
  readonly reply: ReplyCode;
  readonly address: Socks5Address;
  readonly port: number;
}

// ---- errors ----
export const SOCKS5_ERROR_CODES = [
  'socks5_bad_version', // VER is not 5 (or 1 in the RFC 1929 messages)
  'socks5_no_methods', // NMETHODS = 0
  'socks5_empty_field', // a zero-length username, password or domain
  'socks5_bad_command', // CMD not 1, 2 or 3
  'socks5_bad_reserved', // RSV not 0
  'socks5_bad_address_type', // ATYP not 1, 3 or 4
  'socks5_bad_domain', // a domain byte outside letters, digits, '-', '.', '_'
  'socks5_bad_reply', // REP above 8
] as const;
export type Socks5ErrorCode = (typeof SOCKS5_ERROR_CODES)[number];

/** Malformed SOCKS5 input: the peer's fault. `at` is the offending byte's offset. */
export class Socks5Error extends RemoteError {
  declare readonly code: Socks5ErrorCode;
  constructor(
    code: Socks5ErrorCode,
    message: string,
    readonly at: number,
  ) {
    super(code, `${message} (at byte ${at})`);
  }
}

/** The reply a server sends for a request it could not decode (RFC 1928 §6). */
export function replyForRequestError(e: Socks5Error): ReplyCode {
  if (e.code === 'socks5_bad_command') return Reply.commandNotSupported;
  if (e.code === 'socks5_bad_address_type') return Reply.addressTypeNotSupported;
  return Reply.generalFailure;
}

export type Decoded<T> =
  | { readonly kind: 'value'; readonly value: T; readonly length: number }
  | { readonly kind: 'more' }
  | { readonly kind: 'error'; readonly error: Socks5Error };

const MORE = { kind: 'more' } as const;
const fail = (code: Socks5ErrorCode, message: string, at: number): Decoded<never> => ({
  kind: 'error',
  error: new Socks5Error(code, message, at),
});
const value = <T>(v: T, length: number): Decoded<T> => ({ kind: 'value', value: v, length });

// ---- decoders ----
export function decodeGreeting(b: Uint8Array): Decoded<Greeting> {
  if (b.length < 1) return MORE;
  if (b[0] !== SOCKS_VERSION) return fail('socks5_bad_version', `greeting version ${b[0]}, expected 5`, 0);
  if (b.length < 2) return MORE;
  const n = b[1]!;
  if (n === 0) return fail('socks5_no_methods', 'greeting offers no method', 1);
  if (b.length < 2 + n) return MORE;
  return value({ methods: Array.from(b.subarray(2, 2 + n)) }, 2 + n);
}

export function decodeMethodSelection(b: Uint8Array): Decoded<MethodSelection> {
  if (b.length < 1) return MORE;
  if (b[0] !== SOCKS_VERSION) return fail('socks5_bad_version', `method selection version ${b[0]}, expected 5`, 0);
  if (b.length < 2) return MORE;
  return value({ method: b[1]! }, 2);
}

export function decodeUserPassRequest(b: Uint8Array): Decoded<UserPassRequest> {
  if (b.length < 1) return MORE;
  if (b[0] !== USERPASS_VERSION) return fail('socks5_bad_version', `auth version ${b[0]}, expected 1`, 0);
  if (b.length < 2) return MORE;
  const ulen = b[1]!;
  if (ulen === 0) return fail('socks5_empty_field', 'empty username', 1);
  if (b.length < 3 + ulen) return MORE;
  const plen = b[2 + ulen]!;
  if (plen === 0) return fail('socks5_empty_field', 'empty password', 2 + ulen);
  const end = 3 + ulen + plen;
  if (b.length < end) return MORE;
  return value({ username: b.slice(2, 2 + ulen), password: b.slice(3 + ulen, end) }, end);
}

export function decodeUserPassReply(b: Uint8Array): Decoded<UserPassReply> {
  if (b.length < 1) return MORE;
  if (b[0] !== USERPASS_VERSION) return fail('socks5_bad_version', `auth reply version ${b[0]}, expected 1`, 0);
  if (b.length < 2) return MORE;
  return value({ status: b[1]! }, 2);
}

export function decodeRequest(b: Uint8Array): Decoded<Socks5Request> {
  if (b.length < 1) return MORE;
  if (b[0] !== SOCKS_VERSION) return fail('socks5_bad_version', `request version ${b[0]}, expected 5`, 0);
  if (b.length < 2) return MORE;
  const cmd = b[1]!;
  const command: Socks5Command | undefined =
    cmd === CMD_CONNECT ? 'connect' : cmd === CMD_BIND ? 'bind' : cmd === CMD_UDP_ASSOCIATE ? 'udp-associate' : undefined;
  if (command === undefined) return fail('socks5_bad_command', `command ${cmd}`, 1);
  const tail = decodeAddressPort(b, 2);
  if (tail.kind !== 'value') return tail;
  return value({ command, address: tail.value.address, port: tail.value.port }, tail.length);
}

export function decodeReply(b: Uint8Array): Decoded<Socks5Reply> {
  if (b.length < 1) return MORE;
  if (b[0] !== SOCKS_VERSION) return fail('socks5_bad_version', `reply version ${b[0]}, expected 5`, 0);
  if (b.length < 2) return MORE;
  const rep = b[1]!;
  if (rep > MAX_REPLY_CODE) return fail('socks5_bad_reply', `reply code ${rep}`, 1);
  const tail = decodeAddressPort(b, 2);
  if (tail.kind !== 'value') return tail;
  return value({ reply: rep as ReplyCode, address: tail.value.address, port: tail.value.port }, tail.length);
}

/** RSV, ATYP, DST.ADDR, DST.PORT starting at `at`; `length` is the end offset. */
function decodeAddressPort(b: Uint8Array, at: number): Decoded<{ address: Socks5Address; port: number }> {
  if (b.length < at + 1) return MORE;
  if (b[at] !== 0) return fail('socks5_bad_reserved', `reserved byte ${b[at]}`, at);
  if (b.length < at + 2) return MORE;
  const atyp = b[at + 1]!;
  let p = at + 2;
  let address: Socks5Address;
  if (atyp === ATYP_IPV4 || atyp === ATYP_IPV6) {
    const n = atyp === ATYP_IPV4 ? 4 : 16;
    if (b.length < p + n) return MORE;
    address = { kind: atyp === ATYP_IPV4 ? 'ipv4' : 'ipv6', bytes: b.slice(p, p + n) };
    p += n;
  } else if (atyp === ATYP_DOMAIN) {
    if (b.length < p + 1) return MORE;
    const n = b[p]!;
    if (n === 0) return fail('socks5_empty_field', 'empty domain name', p);
    p += 1;
    const end = Math.min(b.length, p + n);
    for (let i = p; i < end; i++) {
      if (!isDomainByte(b[i]!)) return fail('socks5_bad_domain', `domain byte 0x${b[i]!.toString(16)}`, i);
    }
    if (b.length < p + n) return MORE;
    address = { kind: 'domain', name: String.fromCharCode(...b.subarray(p, p + n)) };
    p += n;
  } else {
    return fail('socks5_bad_address_type', `address type ${atyp}`, at + 1);
  }
  if (b.length < p + 2) return MORE;
  return value({ address, port: (b[p]! << 8) | b[p + 1]! }, p + 2);
}

/** Host names only: letters, digits, '-', '.', '_' (no spaces, controls or NULs). */
export function isDomainByte(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || c === 0x2d || c === 0x2e || c === 0x5f
  );
}

// ---- encoders (they check their input: a bad value is our bug, so they throw) ----
export function encodeGreeting(g: Greeting): Uint8Array {
  if (g.methods.length < 1 || g.methods.length > 255) throw new RangeError(`greeting needs 1–255 methods, got ${g.methods.length}`);
  return Uint8Array.from([SOCKS_VERSION, g.methods.length, ...g.methods.map((m) => byte(m, 'method'))]);
}

export function encodeMethodSelection(m: MethodSelection): Uint8Array {
  return Uint8Array.from([SOCKS_VERSION, byte(m.method, 'method')]);
}

export function encodeUserPassRequest(r: UserPassRequest): Uint8Array {
  const u = field(r.username, 'username');
  const p = field(r.password, 'password');
  const out = new Uint8Array(3 + u.length + p.length);
  out[0] = USERPASS_VERSION;
  out[1] = u.length;
  out.set(u, 2);
  out[2 + u.length] = p.length;
  out.set(p, 3 + u.length);
  return out;
}

export function encodeUserPassReply(r: UserPassReply): Uint8Array {
  return Uint8Array.from([USERPASS_VERSION, byte(r.status, 'status')]);
}

export function encodeRequest(r: Socks5Request): Uint8Array {
  const cmd = r.command === 'connect' ? CMD_CONNECT : r.command === 'bind' ? CMD_BIND : CMD_UDP_ASSOCIATE;
  return withAddressPort([SOCKS_VERSION, cmd], r.address, r.port);
}

export function encodeReply(r: Socks5Reply): Uint8Array {
  if (!Number.isInteger(r.reply) || r.reply < 0 || r.reply > MAX_REPLY_CODE) throw new RangeError(`reply code ${r.reply}`);
  return withAddressPort([SOCKS_VERSION, r.reply], r.address, r.port);
}

function withAddressPort(head: number[], a: Socks5Address, port: number): Uint8Array {
  if (!Number.isInteger(port) || port < 0 || port > 0xffff) throw new RangeError(`port ${port}`);
  let addr: number[];
  if (a.kind === 'domain') {
    const bytes = Array.from(a.name, (ch) => ch.charCodeAt(0));
    if (bytes.length < 1 || bytes.length > 255 || !bytes.every(isDomainByte)) throw new RangeError(`domain ${JSON.stringify(a.name)}`);
    addr = [ATYP_DOMAIN, bytes.length, ...bytes];
  } else {
    const n = a.kind === 'ipv4' ? 4 : 16;
    if (a.bytes.length !== n) throw new RangeError(`${a.kind} address of ${a.bytes.length} bytes`);
    addr = [a.kind === 'ipv4' ? ATYP_IPV4 : ATYP_IPV6, ...a.bytes];
  }
  return Uint8Array.from([...head, 0, ...addr, port >> 8, port & 0xff]);
}

function byte(v: number, what: string): number {
  if (!Number.isInteger(v) || v < 0 || v > 255) throw new RangeError(`${what} ${v} is not a byte`);
  return v;
}

function field(v: Uint8Array, what: string): Uint8Array {
  if (v.length < 1 || v.length > 255) throw new RangeError(`${what} must be 1–255 bytes, got ${v.length}`);
  return v;
}

// ---- addresses as hosts ----
/** The host string to dial (`net.connect`): dotted quad, full IPv6, or the name. */
export function addressHost(a: Socks5Address): string {
  if (a.kind === 'domain') return a.name;
  if (a.kind === 'ipv4') return a.bytes.join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((a.bytes[i]! << 8) | a.bytes[i + 1]!).toString(16));
  return groups.join(':');
}

/**
 * An address for a host string: IPv4 dotted quad, IPv6 (with `::`, no zone), or a
 * domain name. Undefined when it is none of these.
 */
export function addressFromHost(host: string): Socks5Address | undefined {
  const v4 = parseIpv4(host);
  if (v4) return { kind: 'ipv4', bytes: v4 };
  if (host.includes(':')) {
    const v6 = parseIpv6(host);
    return v6 ? { kind: 'ipv6', bytes: v6 } : undefined;
  }
  if (host.length < 1 || host.length > 255) return undefined;
  for (let i = 0; i < host.length; i++) if (!isDomainByte(host.charCodeAt(i))) return undefined;
  return { kind: 'domain', name: host };
}

function parseIpv4(s: string): Uint8Array | undefined {
  const parts = s.split('.');
  if (parts.length !== 4) return undefined;
  const out = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const p = parts[i]!;
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p) || Number(p) > 255) return undefined;
    out[i] = Number(p);
  }
  return out;
}

function parseIpv6(s: string): Uint8Array | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const out = new Uint8Array(16);
  all.forEach((g, i) => {
    out[2 * i] = g >> 8;
    out[2 * i + 1] = g & 0xff;
  });
  return out;
}
