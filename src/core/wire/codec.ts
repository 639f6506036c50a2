// Envelope codec: `[version, type, body, sig?]` as canonical CBOR.
//
// Encoding validates our own bodies against the schema (a bad one is our bug:
// LocalError). Decoding never throws: it returns a typed WireError result, because
// it runs on every datagram the mesh delivers, hostile ones included.
import { Decoder, Encoder } from 'cbor-x';
import { LocalError } from '../errors.js';
import {
  MAX_DATAGRAM_BYTES,
  MESSAGE_TYPES,
  PROTOCOL_VERSION,
  SIGNED_TYPES,
  TYPE_CODE,
  type MessageType,
} from './constants.js';
import { scanTopLevelArray } from './cbor-strict.js';
import { WireError } from './errors.js';
import { BODY_SCHEMAS, MAX_TEXT_CHARS, type Body, type FieldKind, type Message } from './messages.js';

export type Result<T, E = WireError> = { readonly ok: true; readonly value: T } | { readonly ok: false; readonly error: E };

export interface DecodedDatagram {
  readonly version: number;
  readonly message: Message;
  /** The body's exact bytes, which the signature covers. */
  readonly bodyBytes: Uint8Array;
  readonly sig: Uint8Array | undefined;
}

// One encoder/decoder pair per codec instance keeps cbor-x's internal buffers off
// module scope (no shared state between agents in one process).
export class WireCodec {
  readonly #enc = new Encoder({ useRecords: false, tagUint8Array: false, useFloat32: 0 });
  // int64AsNumber is a real cbor-x option missing from its typings; the pre-scan
  // already refused anything above 2^53-1, so numbers are exact.
  readonly #dec = new Decoder({ useRecords: false, int64AsNumber: true } as ConstructorParameters<typeof Decoder>[0]);

  encodeBody<T extends MessageType>(type: T, body: Body<T>): Uint8Array {
    const schema = BODY_SCHEMAS[type];
    const fields: unknown[] = [];
    const record = body as Record<string, unknown>;
    for (const [name, kind] of schema) {
      const v = record[name];
      const problem = checkField(kind, v);
      if (problem) throw new LocalError('bad_body', `${type}.${name}: ${problem}`);
      // cbor-x writes numbers above 2^32-1 as floats; bigints become canonical uint64.
      fields.push(typeof v === 'number' && v > 0xffffffff ? BigInt(v) : v);
    }
    return new Uint8Array(this.#enc.encode(fields));
  }

  /** encodeBody for a message whose type is only known at run time. */
  encodeMessageBody(m: Message): Uint8Array {
    return this.encodeBody(m.type, m.body as Body<typeof m.type>);
  }

  /** Assembles the envelope around already-encoded body bytes. */
  encodeEnvelope(type: MessageType, bodyBytes: Uint8Array, sig?: Uint8Array): Uint8Array {
    if (SIGNED_TYPES.has(type) !== (sig !== undefined)) {
      throw new LocalError('bad_envelope', `${type} ${sig ? 'must not' : 'must'} carry a signature`);
    }
    if (sig && sig.length !== 64) throw new LocalError('bad_envelope', 'signature must be 64 bytes');
    const head = [sig ? 0x84 : 0x83, PROTOCOL_VERSION, TYPE_CODE[type]];
    const sigHead = sig ? [0x58, 0x40] : [];
    const out = new Uint8Array(head.length + bodyBytes.length + sigHead.length + (sig?.length ?? 0));
    out.set(head, 0);
    out.set(bodyBytes, head.length);
    if (sig) {
      out.set(sigHead, head.length + bodyBytes.length);
      out.set(sig, head.length + bodyBytes.length + 2);
    }
    if (out.length > MAX_DATAGRAM_BYTES) {
      throw new LocalError('oversize', `${type} encodes to ${out.length} bytes > ${MAX_DATAGRAM_BYTES}`);
    }
    return out;
  }

  decode(datagram: Uint8Array): Result<DecodedDatagram> {
    try {
      return { ok: true, value: this.#decodeOrThrow(datagram) };
    } catch (e) {
      if (e instanceof WireError) return { ok: false, error: e };
      // cbor-x rejected something the pre-scan let through: still the peer's fault.
      return { ok: false, error: new WireError('malformed_cbor', e instanceof Error ? e.message : String(e)) };
    }
  }

  #decodeOrThrow(datagram: Uint8Array): DecodedDatagram {
    if (datagram.length > MAX_DATAGRAM_BYTES) {
      throw new WireError('oversize', `${datagram.length} bytes > ${MAX_DATAGRAM_BYTES}`);
    }
    const spans = scanTopLevelArray(datagram);
    if (spans.length !== 3 && spans.length !== 4) {
      throw new WireError('bad_envelope', `envelope has ${spans.length} items, expected 3 or 4`);
    }
    const env: unknown = this.#dec.decode(datagram);
    if (!Array.isArray(env)) throw new WireError('bad_envelope', 'envelope is not an array');
    const [version, typeCode, body, sig] = env as unknown[];
    if (typeof version !== 'number') throw new WireError('bad_envelope', 'version is not an integer');
    if (version !== PROTOCOL_VERSION) throw new WireError('unknown_version', `version ${version}`);
    if (typeof typeCode !== 'number') throw new WireError('bad_envelope', 'type is not an integer');
    const type = MESSAGE_TYPES[typeCode - 1];
    if (type === undefined) throw new WireError('unknown_type', `type ${typeCode}`);
    const signed = SIGNED_TYPES.has(type);
    if (signed && spans.length === 3) throw new WireError('missing_signature', `${type} is unsigned`);
    if (!signed && spans.length === 4) throw new WireError('unexpected_signature', `${type} carries a signature`);
    if (signed && !(sig instanceof Uint8Array && sig.length === 64)) {
      throw new WireError('bad_envelope', 'signature is not 64 bytes');
    }
    const span = spans[2]!;
    return {
      version,
      message: { type, body: decodeBody(type, body) } as Message,
      bodyBytes: datagram.subarray(span.start, span.end),
      sig: signed ? new Uint8Array(sig as Uint8Array) : undefined,
    };
  }
}

function decodeBody<T extends MessageType>(type: T, raw: unknown): Body<T> {
  const schema = BODY_SCHEMAS[type];
  if (!Array.isArray(raw)) throw new WireError('bad_body', `${type} body is not an array`);
  if (raw.length !== schema.length) {
    throw new WireError('bad_body', `${type} body has ${raw.length} fields, expected ${schema.length}`);
  }
  const out: Record<string, unknown> = {};
  schema.forEach(([name, kind], i) => {
    let v: unknown = raw[i];
    // Copy byte strings out of the datagram buffer so the message outlives it.
    if (v instanceof Uint8Array) v = new Uint8Array(v);
    const problem = checkField(kind, v);
    if (problem) throw new WireError('bad_body', `${type}.${name}: ${problem}`);
    out[name] = v;
  });
  return out as Body<T>;
}

const BYTE_LENGTHS: Partial<Record<FieldKind, readonly number[]>> = {
  bytes8: [8],
  bytes32: [32],
  bytes64: [64],
  bytes0or32: [0, 32],
};

/** Returns what is wrong with a field value, or undefined when it fits. */
function checkField(kind: FieldKind, v: unknown): string | undefined {
  if (kind === 'uint') {
    return typeof v === 'number' && Number.isSafeInteger(v) && v >= 0 ? undefined : 'expected an unsigned integer';
  }
  if (kind === 'text') {
    if (typeof v !== 'string') return 'expected text';
    return v.length <= MAX_TEXT_CHARS ? undefined : `text longer than ${MAX_TEXT_CHARS}`;
  }
  const lengths = BYTE_LENGTHS[kind]!;
  if (!(v instanceof Uint8Array)) return 'expected a byte string';
  return lengths.includes(v.length) ? undefined : `expected ${lengths.join(' or ')} bytes, got ${v.length}`;
}
