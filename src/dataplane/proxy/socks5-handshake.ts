// The two ends of a SOCKS5 handshake as sans-I/O machines: bytes in, events out.
//
// Server (the gateway relay, and the client's local endpoint):
//   greeting → [auth → (await the caller's decision)] → request → done
// One phase at a time; bytes that arrive early (a client that pipelines its auth and
// request, or sends data before our reply) are kept and parsed when their phase comes.
// After the request, whatever followed it is handed back as `rest` (early data).
//
// Client (the local endpoint dialling the relay): greeting, auth and request are sent
// in one write (our relay always offers username/password), then the three answers are
// parsed in turn; `rest` is whatever the relay sent after its reply.
//
// Any malformed byte ends the machine in `failed` with a typed error; what to send back
// (if anything) is part of the event. Buffers are capped.
import {
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
  METHOD_NO_ACCEPTABLE,
  METHOD_NO_AUTH,
  METHOD_USERPASS,
  Reply,
  replyForRequestError,
  USERPASS_FAILURE,
  USERPASS_SUCCESS,
} from './socks5.js';
import type { Decoded, ReplyCode, Socks5Reply, Socks5Request } from './socks5.js';
import { RemoteError } from '../../core/errors.js';

/** Bytes a handshake may hold while waiting (a pipelined handshake plus one read chunk). */
export const MAX_HANDSHAKE_BUFFER = 128 * 1024;

/** A refusal that is not a malformed byte (method, auth, request refused; buffer cap). */
export class Socks5RefusedError extends RemoteError {}

const NO_ADDRESS = { kind: 'ipv4', bytes: new Uint8Array(4) } as const;

/** The reply a server sends for a refused request (zero bind address). */
export function refusalReply(reply: ReplyCode): Uint8Array {
  return encodeReply({ reply, address: NO_ADDRESS, port: 0 });
}

export type ServerEvent =
  /** Write these bytes to the client. */
  | { readonly type: 'send'; readonly bytes: Uint8Array }
  /** Username/password received: call `authorized(ok)` with the decision. */
  | { readonly type: 'credentials'; readonly username: Uint8Array; readonly password: Uint8Array }
  /** The request; `rest` is what followed it. Reply with `encodeReply` once connected. */
  | { readonly type: 'request'; readonly request: Socks5Request; readonly rest: Uint8Array }
  /** Handshake failed; `send` (if any) goes out before closing. */
  | { readonly type: 'failed'; readonly error: RemoteError; readonly send?: Uint8Array };

type ServerPhase = 'greeting' | 'auth' | 'auth-pending' | 'request' | 'done' | 'failed';

export class ServerHandshake {
  #phase: ServerPhase = 'greeting';
  #buf: Uint8Array = new Uint8Array(0);
  readonly #method: number;

  constructor(auth: 'none' | 'userpass') {
    this.#method = auth === 'userpass' ? METHOD_USERPASS : METHOD_NO_AUTH;
  }

  get phase(): ServerPhase {
    return this.#phase;
  }

  receive(chunk: Uint8Array): ServerEvent[] {
    if (this.#phase === 'done' || this.#phase === 'failed') return [];
    if (this.#buf.length + chunk.length > MAX_HANDSHAKE_BUFFER) {
      return this.#fail(new Socks5RefusedError('socks5_buffer_full', `over ${MAX_HANDSHAKE_BUFFER} bytes during the handshake`));
    }
    this.#buf = concat(this.#buf, chunk);
    return this.#run([]);
  }

  /** The caller's answer to a `credentials` event. */
  authorized(ok: boolean): ServerEvent[] {
    if (this.#phase !== 'auth-pending') return [];
    if (!ok) {
      return this.#fail(new Socks5RefusedError('socks5_auth_refused', 'credentials refused'), encodeUserPassReply({ status: USERPASS_FAILURE }));
    }
    this.#phase = 'request';
    return this.#run([{ type: 'send', bytes: encodeUserPassReply({ status: USERPASS_SUCCESS }) }]);
  }

  #run(out: ServerEvent[]): ServerEvent[] {
    for (;;) {
      switch (this.#phase) {
        case 'greeting': {
          const d = decodeGreeting(this.#buf);
          if (d.kind !== 'value') return this.#stop(out, d);
          this.#consume(d.length);
          if (!d.value.methods.includes(this.#method)) {
            out.push(...this.#fail(new Socks5RefusedError('socks5_no_acceptable_method', `method ${this.#method} not offered`), encodeMethodSelection({ method: METHOD_NO_ACCEPTABLE })));
            return out;
          }
          out.push({ type: 'send', bytes: encodeMethodSelection({ method: this.#method }) });
          this.#phase = this.#method === METHOD_USERPASS ? 'auth' : 'request';
          break;
        }
        case 'auth': {
          const d = decodeUserPassRequest(this.#buf);
          if (d.kind !== 'value') return this.#stop(out, d, encodeUserPassReply({ status: USERPASS_FAILURE }));
          this.#consume(d.length);
          this.#phase = 'auth-pending';
          out.push({ type: 'credentials', username: d.value.username, password: d.value.password });
          return out;
        }
        case 'request': {
          const d = decodeRequest(this.#buf);
          if (d.kind === 'error') return this.#stop(out, d, refusalReply(replyForRequestError(d.error)));
          if (d.kind === 'more') return out;
          this.#consume(d.length);
          this.#phase = 'done';
          const rest = this.#buf;
          this.#buf = new Uint8Array(0);
          out.push({ type: 'request', request: d.value, rest });
          return out;
        }
        default:
          return out;
      }
    }
  }

  #stop(out: ServerEvent[], d: Decoded<unknown>, send?: Uint8Array): ServerEvent[] {
    if (d.kind === 'error') out.push(...this.#fail(d.error, send));
    return out;
  }

  #fail(error: RemoteError, send?: Uint8Array): ServerEvent[] {
    this.#phase = 'failed';
    this.#buf = new Uint8Array(0);
    return [send ? { type: 'failed', error, send } : { type: 'failed', error }];
  }

  #consume(n: number): void {
    this.#buf = this.#buf.subarray(n);
  }
}

export type ClientEvent =
  | { readonly type: 'established'; readonly reply: Socks5Reply; readonly rest: Uint8Array }
  | { readonly type: 'failed'; readonly error: RemoteError; readonly reply?: ReplyCode };

type ClientPhase = 'method' | 'auth' | 'reply' | 'done' | 'failed';

export class ClientHandshake {
  #phase: ClientPhase = 'method';
  #buf: Uint8Array = new Uint8Array(0);

  constructor(
    private readonly credentials: { readonly username: Uint8Array; readonly password: Uint8Array },
    private readonly request: Socks5Request,
  ) {}

  get phase(): ClientPhase {
    return this.#phase;
  }

  /** Greeting, auth and request in one write. */
  start(): Uint8Array {
    return concat(
      concat(encodeGreeting({ methods: [METHOD_USERPASS] }), encodeUserPassRequest(this.credentials)),
      encodeRequest(this.request),
    );
  }

  receive(chunk: Uint8Array): ClientEvent[] {
    if (this.#phase === 'done' || this.#phase === 'failed') return [];
    if (this.#buf.length + chunk.length > MAX_HANDSHAKE_BUFFER) {
      return this.#fail(new Socks5RefusedError('socks5_buffer_full', `over ${MAX_HANDSHAKE_BUFFER} bytes during the handshake`));
    }
    this.#buf = concat(this.#buf, chunk);
    for (;;) {
      if (this.#phase === 'method') {
        const d = decodeMethodSelection(this.#buf);
        if (d.kind === 'error') return this.#fail(d.error);
        if (d.kind === 'more') return [];
        if (d.value.method !== METHOD_USERPASS) {
          return this.#fail(new Socks5RefusedError('socks5_no_acceptable_method', `relay chose method ${d.value.method}`));
        }
        this.#buf = this.#buf.subarray(d.length);
        this.#phase = 'auth';
      } else if (this.#phase === 'auth') {
        const d = decodeUserPassReply(this.#buf);
        if (d.kind === 'error') return this.#fail(d.error);
        if (d.kind === 'more') return [];
        if (d.value.status !== USERPASS_SUCCESS) return this.#fail(new Socks5RefusedError('socks5_auth_refused', 'relay refused the credentials'));
        this.#buf = this.#buf.subarray(d.length);
        this.#phase = 'reply';
      } else {
        const d = decodeReply(this.#buf);
        if (d.kind === 'error') return this.#fail(d.error);
        if (d.kind === 'more') return [];
        if (d.value.reply !== Reply.succeeded) {
          return this.#fail(new Socks5RefusedError('socks5_request_refused', `relay replied ${d.value.reply}`), d.value.reply);
        }
        const rest = this.#buf.subarray(d.length);
        this.#buf = new Uint8Array(0);
        this.#phase = 'done';
        return [{ type: 'established', reply: d.value, rest }];
      }
    }
  }

  #fail(error: RemoteError, reply?: ReplyCode): ClientEvent[] {
    this.#phase = 'failed';
    this.#buf = new Uint8Array(0);
    return [reply === undefined ? { type: 'failed', error } : { type: 'failed', error, reply }];
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  if (a.length === 0) return b;
  if (b.length === 0) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}
