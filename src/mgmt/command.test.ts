import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { bytesToHex } from '@noble/hashes/utils.js';
import { Crypto } from '../crypto/facade.js';
import {
  COMMAND_NAMES,
  CommandReplayCache,
  MAX_COMMAND_BYTES,
  MAX_COMMAND_LIFETIME_MS,
  canonicalJson,
  commandBody,
  signCommand,
  verifyCommand,
  type MgmtCommand,
  type VerifyResult,
} from './command.js';
import { MGMT_ERROR_CODES } from './errors.js';

const crypto = new Crypto();
const sk = (b: number) => new Uint8Array(32).fill(b);
const OP_SK = sk(7);
const OP = crypto.schnorrPublicKey(OP_SK);
const OTHER_SK = sk(8);
const OTHER = crypto.schnorrPublicKey(OTHER_SK);
const NODE = crypto.schnorrPublicKey(sk(9));
const NODE_B = crypto.schnorrPublicKey(sk(10));
const NOW = 1_800_000_000_000;
const enc = new TextEncoder();
const dec = new TextDecoder();

let nonceSeq = 0;
function nonce(): Uint8Array {
  const n = new Uint8Array(16);
  new DataView(n.buffer).setUint32(12, ++nonceSeq);
  return n;
}

function make(
  command: MgmtCommand,
  o: { to?: Uint8Array; signer?: Uint8Array; op?: Uint8Array; ts?: number; exp?: number; nonce?: Uint8Array } = {},
): Uint8Array {
  const ts = o.ts ?? NOW - 1000;
  const body = commandBody(command, { to: o.to ?? NODE, op: o.op ?? OP, ts, exp: o.exp ?? ts + 60_000, nonce: o.nonce ?? nonce() });
  return signCommand(crypto, body, o.signer ?? OP_SK, new Uint8Array(32));
}

function check(payload: Uint8Array, replay = new CommandReplayCache(64, 0), now = NOW): VerifyResult {
  return verifyCommand(payload, { crypto, nodeId: NODE, operators: new Set([bytesToHex(OP)]), replay, now });
}

function codeOf(r: VerifyResult): string {
  return r.ok ? 'ok' : r.error.code;
}

/** Canonical JSON without the value checks, to sign bodies the decoder must refuse. */
function loose(v: unknown): string {
  if (typeof v !== 'object' || v === null) return JSON.stringify(v);
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o).sort().map((k) => `${JSON.stringify(k)}:${loose(o[k])}`).join(',')}}`;
}

/** Re-sign an edited body, so only the edit is wrong. */
function edit(payload: Uint8Array, f: (j: { body: Record<string, unknown>; sig?: string }) => void, resign = false): Uint8Array {
  const j = JSON.parse(dec.decode(payload)) as { body: Record<string, unknown>; sig?: string };
  f(j);
  if (resign) {
    const sig = crypto.schnorrSign(
      crypto.taggedHash('bitmesh/cmd', enc.encode(loose(j.body))),
      OP_SK,
      new Uint8Array(32),
    );
    j.sig = bytesToHex(sig);
  }
  return enc.encode(JSON.stringify(j));
}

const ALL: MgmtCommand[] = [
  { name: 'status' },
  { name: 'set_price', msatPerKiB: 250 },
  { name: 'pause_selling' },
  { name: 'resume_selling' },
  { name: 'set_config', section: 'market', option: 'price_msat_per_kib', value: '120' },
  { name: 'close_channel', channel: 'abc' },
  { name: 'reauction' },
  { name: 'restart' },
];

describe('management commands', () => {
  it('round-trips every command, signed by a listed operator', () => {
    expect(ALL.map((c) => c.name).sort()).toEqual([...COMMAND_NAMES].sort());
    for (const c of ALL) {
      const r = check(make(c));
      expect(r.ok && r.command).toEqual(c);
    }
  });

  it('signs the canonical form: key order and whitespace do not matter', () => {
    const p = make({ name: 'set_price', msatPerKiB: 5 });
    const j = JSON.parse(dec.decode(p)) as { body: Record<string, unknown>; sig: string };
    const reordered = Object.fromEntries(Object.entries(j.body).reverse());
    expect(codeOf(check(enc.encode(JSON.stringify({ sig: j.sig, body: reordered }, null, 2))))).toBe('ok');
    expect(canonicalJson({ b: 1, a: { d: 'x', c: 2 } })).toBe('{"a":{"c":2,"d":"x"},"b":1}');
  });

  // Each kind of bad command the issue lists, and the ones the decoder adds.
  const hostile: [string, () => Uint8Array | [Uint8Array, CommandReplayCache], string][] = [
    ['oversize', () => enc.encode(' '.repeat(MAX_COMMAND_BYTES + 1)), 'oversize'],
    ['not JSON', () => enc.encode('{"body":'), 'malformed'],
    ['invalid UTF-8', () => new Uint8Array([0x7b, 0xff, 0x7d]), 'malformed'],
    ['an array', () => enc.encode('[]'), 'malformed'],
    ['extra envelope field', () => edit(make({ name: 'status' }), (j) => Object.assign(j, { x: 1 })), 'malformed'],
    ['extra body field', () => edit(make({ name: 'status' }), (j) => (j.body['x'] = 1), true), 'malformed'],
    ['uppercase hex target', () => edit(make({ name: 'status' }), (j) => (j.body['to'] = String(j.body['to']).toUpperCase())), 'malformed'],
    ['float timestamp', () => edit(make({ name: 'status' }), (j) => (j.body['ts'] = 1.5), true), 'malformed'],
    ['short nonce', () => edit(make({ name: 'status' }), (j) => (j.body['nonce'] = 'ab'), true), 'malformed'],
    ['no signature', () => edit(make({ name: 'status' }), (j) => delete j.sig), 'unsigned'],
    ['empty signature', () => edit(make({ name: 'status' }), (j) => (j.sig = '')), 'unsigned'],
    ['short signature', () => edit(make({ name: 'status' }), (j) => (j.sig = 'ab')), 'bad_signature'],
    ['another node', () => make({ name: 'status' }, { to: NODE_B }), 'wrong_target'],
    ['unlisted operator', () => make({ name: 'status' }, { signer: OTHER_SK, op: OTHER }), 'unknown_operator'],
    ['signed by someone else', () => make({ name: 'status' }, { signer: OTHER_SK }), 'bad_signature'],
    ['edited after signing', () => edit(make({ name: 'set_price', msatPerKiB: 1 }), (j) => ((j.body['args'] as Record<string, number>)['msat_per_kib'] = 0)), 'bad_signature'],
    ['expired', () => make({ name: 'status' }, { ts: NOW - 60_000, exp: NOW - 1 }), 'expired'],
    ['expiring now', () => make({ name: 'status' }, { ts: NOW - 60_000, exp: NOW }), 'expired'],
    ['lifetime too long', () => make({ name: 'status' }, { ts: NOW - 1, exp: NOW + MAX_COMMAND_LIFETIME_MS }), 'expired'],
    ['issued in the future', () => make({ name: 'status' }, { ts: NOW + MAX_COMMAND_LIFETIME_MS + 1, exp: NOW + MAX_COMMAND_LIFETIME_MS + 2 }), 'expired'],
    ['unknown command', () => edit(make({ name: 'status' }), (j) => (j.body['cmd'] = 'rm_rf'), true), 'unknown_command'],
    ['missing argument', () => edit(make({ name: 'set_price', msatPerKiB: 1 }), (j) => (j.body['args'] = {}), true), 'bad_args'],
    ['extra argument', () => edit(make({ name: 'status' }), (j) => (j.body['args'] = { x: 'y' }), true), 'bad_args'],
    ['string price', () => edit(make({ name: 'set_price', msatPerKiB: 1 }), (j) => (j.body['args'] = { msat_per_kib: '5' }), true), 'bad_args'],
    ['negative price', () => edit(make({ name: 'set_price', msatPerKiB: 1 }), (j) => (j.body['args'] = { msat_per_kib: -5 }), true), 'malformed'],
    ['issued before the agent started', () => [make({ name: 'status' }, { ts: NOW - 5000 }), new CommandReplayCache(64, NOW - 1000)], 'replay'],
  ];
  for (const [name, build, code] of hostile) {
    it(`refuses ${name} as ${code}`, () => {
      const b = build();
      const r = Array.isArray(b) ? check(b[0], b[1]) : check(b);
      expect(codeOf(r)).toBe(code);
    });
  }

  it('refuses a replay, also after the arguments were found bad', () => {
    const replay = new CommandReplayCache(64, 0);
    const p = make({ name: 'pause_selling' });
    expect(codeOf(check(p, replay))).toBe('ok');
    expect(codeOf(check(p, replay, NOW + 1000))).toBe('replay');
    const bad = edit(make({ name: 'status' }), (j) => (j.body['args'] = { x: 'y' }), true);
    expect(codeOf(check(bad, replay))).toBe('bad_args');
    expect(codeOf(check(bad, replay))).toBe('replay');
  });

  it('does not let junk fill the replay cache', () => {
    const replay = new CommandReplayCache(64, 0);
    for (let i = 0; i < 20; i++) check(make({ name: 'status' }, { signer: OTHER_SK }), replay);
    expect(replay.size).toBe(0);
  });

  it('never accepts a replay when the cache is full (it refuses old ones instead)', () => {
    const replay = new CommandReplayCache(4, 0);
    const first = make({ name: 'status' }, { ts: NOW - 10_000 });
    expect(codeOf(check(first, replay))).toBe('ok');
    for (let i = 0; i < 10; i++) expect(codeOf(check(make({ name: 'status' }, { ts: NOW - 5000 + i }), replay))).toBe('ok');
    expect(replay.size).toBeLessThanOrEqual(4);
    expect(codeOf(check(first, replay))).toBe('replay');
  });

  it('fuzz: any bytes give a command or a typed refusal, never a throw', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 600 }), (bytes) => {
        const r = check(bytes);
        expect(r.ok ? 'ok' : MGMT_ERROR_CODES.includes(r.error.code)).toBeTruthy();
      }),
      { numRuns: 500 },
    );
  });

  it('fuzz: a changed byte in a signed command never yields a different accepted command', () => {
    const original = make({ name: 'set_price', msatPerKiB: 777 });
    const want = check(original);
    expect(want.ok).toBe(true);
    fc.assert(
      fc.property(fc.nat(original.length - 1), fc.integer({ min: 1, max: 255 }), (i, x) => {
        const p = original.slice();
        p[i] = p[i]! ^ x;
        const r = check(p);
        if (r.ok && want.ok) expect(canonicalJson(r.body as never)).toBe(canonicalJson(want.body as never));
      }),
      { numRuns: 400 },
    );
  });

  it('fuzz: JSON-shaped junk is refused with a typed code', () => {
    const value = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.boolean(), fc.constant(null));
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom('v', 'to', 'op', 'ts', 'exp', 'nonce', 'cmd', 'args', 'x'), value), fc.option(fc.string()), (body, sig) => {
        const r = check(enc.encode(JSON.stringify({ body, ...(sig !== null && { sig }) })));
        expect(r.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
