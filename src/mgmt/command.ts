// Management commands: the canonical encoding, signing, and the strict check a node
// runs on every payload that arrives on bitmesh/<id>/cmd. Pure: `now` and the replay
// cache come in as parameters.
//
// Wire form (UTF-8 JSON, at most MAX_COMMAND_BYTES):
//   {"body": {"v":1,"to":<node hex>,"op":<operator hex>,"ts":<ms>,"exp":<ms>,
//             "nonce":<32 hex>,"cmd":<name>,"args":{…}},
//    "sig": <128 hex>}
// The signature is BIP340 by `op` over taggedHash("bitmesh/cmd", canonicalJson(body)),
// where canonicalJson sorts object keys and writes no whitespace. Only strings,
// non-negative safe integers and objects occur, so the canonical form is unambiguous.
//
// Checks run cheapest first and stop at the first failure:
//   oversize → malformed → unsigned → wrong_target → unknown_operator → bad_signature
//   → expired → replay → unknown_command / bad_args.
// A replay is recorded only once the signature has been verified, so junk cannot fill
// the cache; an authentic command's nonce is spent even if its arguments are bad.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ReplayGuard } from '../core/wire/replay.js';
import type { Crypto } from '../crypto/facade.js';
import { MgmtError } from './errors.js';

export const COMMAND_TAG = 'bitmesh/cmd';
export const COMMAND_VERSION = 1;
export const MAX_COMMAND_BYTES = 4096;
/** exp − ts may not exceed this; it is also how long nonces are remembered. */
export const MAX_COMMAND_LIFETIME_MS = 15 * 60_000;
export const DEFAULT_COMMAND_LIFETIME_MS = 60_000;
const MAX_STRING = 256;
const NONCE_BYTES = 16;

export type MgmtCommand =
  | { readonly name: 'status' }
  | { readonly name: 'set_price'; readonly msatPerKiB: number }
  | { readonly name: 'pause_selling' }
  | { readonly name: 'resume_selling' }
  | { readonly name: 'set_config'; readonly section: string; readonly option: string; readonly value: string }
  | { readonly name: 'close_channel'; readonly channel: string }
  | { readonly name: 'reauction' }
  | { readonly name: 'restart' };
export type CommandName = MgmtCommand['name'];

type ArgKind = 'str' | 'uint';
/** The argument table: a missing entry is `unknown_command`, a mismatch `bad_args`. */
const ARGS: Readonly<Record<CommandName, Readonly<Record<string, ArgKind>>>> = {
  status: {},
  set_price: { msat_per_kib: 'uint' },
  pause_selling: {},
  resume_selling: {},
  set_config: { section: 'str', option: 'str', value: 'str' },
  close_channel: { channel: 'str' },
  reauction: {},
  restart: {},
};
export const COMMAND_NAMES = Object.keys(ARGS) as CommandName[];

export type ArgValue = string | number;

/** The signed part. Hex strings are lowercase. */
export interface CommandBody {
  readonly v: number;
  readonly to: string;
  readonly op: string;
  readonly ts: number;
  readonly exp: number;
  readonly nonce: string;
  readonly cmd: string;
  readonly args: Readonly<Record<string, ArgValue>>;
}

// ---- canonical encoding ----

type Canon = string | number | { readonly [k: string]: Canon };

export function canonicalJson(value: Canon): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isSafeInteger(value) || value < 0) throw new MgmtError('bad_args', `not a non-negative safe integer: ${value}`);
    return String(value);
  }
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k] as Canon)}`).join(',')}}`;
}

const utf8 = new TextEncoder();

export function commandDigest(crypto: Crypto, body: CommandBody): Uint8Array {
  return crypto.taggedHash(COMMAND_TAG, utf8.encode(canonicalJson(body as unknown as Canon)));
}

/** The body of a command, with the arguments written as the wire expects. */
export function commandBody(
  command: MgmtCommand,
  p: { to: Uint8Array; op: Uint8Array; ts: number; exp: number; nonce: Uint8Array },
): CommandBody {
  if (p.nonce.length !== NONCE_BYTES) throw new MgmtError('malformed', `nonce must be ${NONCE_BYTES} bytes`);
  return {
    v: COMMAND_VERSION,
    to: bytesToHex(p.to),
    op: bytesToHex(p.op),
    ts: p.ts,
    exp: p.exp,
    nonce: bytesToHex(p.nonce),
    cmd: command.name,
    args: argsOf(command),
  };
}

function argsOf(c: MgmtCommand): Record<string, ArgValue> {
  switch (c.name) {
    case 'set_price':
      return { msat_per_kib: c.msatPerKiB };
    case 'set_config':
      return { section: c.section, option: c.option, value: c.value };
    case 'close_channel':
      return { channel: c.channel };
    default:
      return {};
  }
}

/** Sign a body with the operator's secret key; returns the wire payload. */
export function signCommand(crypto: Crypto, body: CommandBody, secretKey: Uint8Array, auxRand: Uint8Array): Uint8Array {
  const sig = crypto.schnorrSign(commandDigest(crypto, body), secretKey, auxRand);
  return utf8.encode(JSON.stringify({ body, sig: bytesToHex(sig) }));
}

// ---- the check ----

/** Remembers (operator, nonce) for MAX_COMMAND_LIFETIME_MS, bounded. */
export class CommandReplayCache {
  readonly #guard: ReplayGuard;
  /** Commands issued before this were possibly seen by an earlier run of the agent. */
  readonly #notBefore: number;
  constructor(capacity: number, startedAt: number) {
    this.#guard = new ReplayGuard({ capacity, skewMs: MAX_COMMAND_LIFETIME_MS });
    this.#notBefore = startedAt;
  }
  get size(): number {
    return this.#guard.size;
  }
  check(op: Uint8Array, nonce: Uint8Array, ts: number, now: number): MgmtError | undefined {
    if (ts < this.#notBefore) return new MgmtError('replay', 'issued before this agent started; cannot vouch it was not seen');
    const e = this.#guard.check(op, nonce, ts, now);
    if (e === undefined) return undefined;
    return e.code === 'stale_timestamp' ? new MgmtError('expired', e.message) : new MgmtError('replay', e.message);
  }
  record(op: Uint8Array, nonce: Uint8Array, ts: number, now: number): void {
    this.#guard.record(op, nonce, ts, now);
  }
}

export interface VerifyContext {
  readonly crypto: Crypto;
  /** Our node id (x-only, 32 bytes). */
  readonly nodeId: Uint8Array;
  /** Operator x-only public keys, lowercase hex. */
  readonly operators: ReadonlySet<string>;
  readonly replay: CommandReplayCache;
  readonly now: number;
}

/** What is known about a payload even when it is refused, for the result message. */
export interface CommandMeta {
  readonly nonce?: string;
  readonly op?: string;
  readonly cmd?: string;
}

export type VerifyResult =
  | { readonly ok: true; readonly command: MgmtCommand; readonly meta: CommandMeta; readonly body: CommandBody }
  | { readonly ok: false; readonly error: MgmtError; readonly meta: CommandMeta };

export function verifyCommand(payload: Uint8Array, ctx: VerifyContext): VerifyResult {
  const fail = (error: MgmtError, meta: CommandMeta = {}): VerifyResult => ({ ok: false, error, meta });
  if (payload.length > MAX_COMMAND_BYTES)
    return fail(new MgmtError('oversize', `${payload.length} bytes, at most ${MAX_COMMAND_BYTES}`));
  const parsed = parseEnvelope(payload);
  if (parsed instanceof MgmtError) return fail(parsed);
  const { body, sig } = parsed;
  const meta: CommandMeta = { nonce: body.nonce, op: body.op, cmd: body.cmd };
  if (sig === undefined) return fail(new MgmtError('unsigned', 'no signature'), meta);
  if (body.to !== bytesToHex(ctx.nodeId)) return fail(new MgmtError('wrong_target', `addressed to ${body.to}`), meta);
  if (!ctx.operators.has(body.op)) return fail(new MgmtError('unknown_operator', `operator ${body.op} is not listed`), meta);
  const op = hexToBytes(body.op);
  let valid = false;
  try {
    valid = ctx.crypto.schnorrVerify(hexToBytes(sig), commandDigest(ctx.crypto, body), op);
  } catch {
    valid = false;
  }
  if (!valid) return fail(new MgmtError('bad_signature', 'signature does not verify'), meta);
  if (body.exp <= ctx.now) return fail(new MgmtError('expired', `expired ${ctx.now - body.exp} ms ago`), meta);
  if (body.exp - body.ts > MAX_COMMAND_LIFETIME_MS || body.exp < body.ts)
    return fail(new MgmtError('expired', `lifetime ${body.exp - body.ts} ms, at most ${MAX_COMMAND_LIFETIME_MS}`), meta);
  const nonce = hexToBytes(body.nonce);
  const stale = ctx.replay.check(op, nonce, body.ts, ctx.now);
  if (stale) return fail(stale, meta);
  ctx.replay.record(op, nonce, body.ts, ctx.now);
  const command = decodeCommand(body.cmd, body.args);
  if (command instanceof MgmtError) return fail(command, meta);
  return { ok: true, command, meta, body };
}

const HEX32 = /^[0-9a-f]{64}$/;
const HEX_NONCE = new RegExp(`^[0-9a-f]{${NONCE_BYTES * 2}}$`);
const HEX_SIG = /^[0-9a-f]{128}$/;
const BODY_KEYS = ['args', 'cmd', 'exp', 'nonce', 'op', 'to', 'ts', 'v'];

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
const isUint = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v >= 0;

/** The envelope shape, or why not. A present-but-empty signature counts as unsigned. */
function parseEnvelope(payload: Uint8Array): { body: CommandBody; sig: string | undefined } | MgmtError {
  let json: unknown;
  try {
    json = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(payload));
  } catch {
    return new MgmtError('malformed', 'not UTF-8 JSON');
  }
  if (!isRecord(json)) return new MgmtError('malformed', 'not a JSON object');
  const extra = Object.keys(json).filter((k) => k !== 'body' && k !== 'sig');
  if (extra.length) return new MgmtError('malformed', `unknown field '${extra[0]}'`);
  const b = json['body'];
  if (!isRecord(b)) return new MgmtError('malformed', "missing 'body' object");
  const keys = Object.keys(b).sort();
  if (keys.join() !== BODY_KEYS.join()) return new MgmtError('malformed', `body fields must be ${BODY_KEYS.join(', ')}`);
  if (b['v'] !== COMMAND_VERSION) return new MgmtError('malformed', `version must be ${COMMAND_VERSION}`);
  if (typeof b['to'] !== 'string' || !HEX32.test(b['to'])) return new MgmtError('malformed', "'to' must be 64 lowercase hex");
  if (typeof b['op'] !== 'string' || !HEX32.test(b['op'])) return new MgmtError('malformed', "'op' must be 64 lowercase hex");
  if (!isUint(b['ts']) || !isUint(b['exp'])) return new MgmtError('malformed', "'ts' and 'exp' must be integers (ms)");
  if (typeof b['nonce'] !== 'string' || !HEX_NONCE.test(b['nonce']))
    return new MgmtError('malformed', `'nonce' must be ${NONCE_BYTES * 2} lowercase hex`);
  if (typeof b['cmd'] !== 'string' || b['cmd'].length > 64) return new MgmtError('malformed', "'cmd' must be a short string");
  const args = b['args'];
  if (!isRecord(args)) return new MgmtError('malformed', "'args' must be an object");
  for (const [k, v] of Object.entries(args)) {
    if (!(typeof v === 'string' && v.length <= MAX_STRING) && !isUint(v))
      return new MgmtError('malformed', `argument '${k}' must be a string of at most ${MAX_STRING} characters or an integer`);
  }
  const sig = json['sig'];
  if (sig !== undefined && sig !== '' && (typeof sig !== 'string' || !HEX_SIG.test(sig)))
    return new MgmtError('bad_signature', "'sig' must be 128 lowercase hex");
  const body: CommandBody = {
    v: COMMAND_VERSION,
    to: b['to'],
    op: b['op'],
    ts: b['ts'],
    exp: b['exp'],
    nonce: b['nonce'],
    cmd: b['cmd'],
    args: args as Record<string, ArgValue>,
  };
  return { body, sig: typeof sig === 'string' && sig !== '' ? sig : undefined };
}

function isCommandName(name: string): name is CommandName {
  return Object.hasOwn(ARGS, name);
}

/** Typed command from name and arguments, by the ARGS table. */
export function decodeCommand(name: string, args: Readonly<Record<string, ArgValue>>): MgmtCommand | MgmtError {
  if (!isCommandName(name)) return new MgmtError('unknown_command', `unknown command '${name.slice(0, 64)}'`);
  const want = ARGS[name];
  for (const k of Object.keys(args)) if (!Object.hasOwn(want, k)) return new MgmtError('bad_args', `${name}: unexpected argument '${k}'`);
  for (const [k, kind] of Object.entries(want)) {
    const v = args[k];
    if (v === undefined) return new MgmtError('bad_args', `${name}: missing argument '${k}'`);
    if (kind === 'uint' ? !isUint(v) : typeof v !== 'string')
      return new MgmtError('bad_args', `${name}: '${k}' must be ${kind === 'uint' ? 'a non-negative integer' : 'a string'}`);
  }
  const s = (k: string): string => String(args[k]);
  switch (name) {
    case 'set_price':
      return { name, msatPerKiB: Number(args['msat_per_kib']) };
    case 'set_config':
      return { name, section: s('section'), option: s('option'), value: s('value') };
    case 'close_channel':
      return { name, channel: s('channel') };
    case 'status':
      return { name };
    case 'pause_selling':
      return { name };
    case 'resume_selling':
      return { name };
    case 'reauction':
      return { name };
    case 'restart':
      return { name };
  }
}
