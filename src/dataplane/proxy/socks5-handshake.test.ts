import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ClientHandshake, MAX_HANDSHAKE_BUFFER, ServerHandshake } from './socks5-handshake.js';
import type { ClientEvent, ServerEvent } from './socks5-handshake.js';
import {
  encodeGreeting,
  encodeMethodSelection,
  encodeReply,
  encodeRequest,
  encodeUserPassReply,
  encodeUserPassRequest,
  Reply,
} from './socks5.js';
import type { Socks5Request } from './socks5.js';

const REQ: Socks5Request = { command: 'connect', address: { kind: 'domain', name: 'example.org' }, port: 443 };
const cat = (...parts: Uint8Array[]): Uint8Array => Uint8Array.from(parts.flatMap((p) => [...p]));

/** Plays the caller: answers credentials with `ok`, and after the request keeps what follows. */
function runServer(auth: 'none' | 'userpass', chunks: Uint8Array[], ok = true): { events: ServerEvent[] } {
  const m = new ServerHandshake(auth);
  const events: ServerEvent[] = [];
  const after: number[] = [];
  for (const c of chunks) {
    if (m.phase === 'done') {
      after.push(...c);
      continue;
    }
    for (const e of m.receive(c)) {
      events.push(e);
      if (e.type === 'credentials') events.push(...m.authorized(ok));
    }
  }
  // Normalise: the request's early data plus what came after it.
  const norm = events.map((e) => (e.type === 'request' ? { ...e, rest: Uint8Array.from([...e.rest, ...after]) } : e));
  return { events: norm };
}

function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

const userpassHandshake = (early: Uint8Array): Uint8Array =>
  cat(
    encodeGreeting({ methods: [0, 2] }),
    encodeUserPassRequest({ username: new TextEncoder().encode('a'.repeat(64)), password: Uint8Array.from([1, 2, 3]) }),
    encodeRequest(REQ),
    early,
  );

describe('ServerHandshake', () => {
  it('gives the same events fed whole, byte by byte, or in any split', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.array(fc.nat(), { maxLength: 8 }), fc.boolean(), (early, cuts, ok) => {
        const bytes = userpassHandshake(early);
        const whole = runServer('userpass', [bytes], ok);
        const oneByOne = runServer('userpass', Array.from(bytes, (b) => Uint8Array.of(b)), ok);
        const anySplit = runServer('userpass', split(bytes, cuts), ok);
        expect(oneByOne).toEqual(whole);
        expect(anySplit).toEqual(whole);
      }),
    );
  });

  it('walks greeting → auth → request and hands back early data', () => {
    const early = Uint8Array.from([9, 9, 9]);
    const { events } = runServer('userpass', [userpassHandshake(early)]);
    expect(events.map((e) => e.type)).toEqual(['send', 'credentials', 'send', 'request']);
    expect(events[0]).toEqual({ type: 'send', bytes: encodeMethodSelection({ method: 2 }) });
    expect(events[2]).toEqual({ type: 'send', bytes: encodeUserPassReply({ status: 0 }) });
    expect(events[3]).toEqual({ type: 'request', request: REQ, rest: early });
  });

  it('refuses bad credentials with status 1 and parses nothing after', () => {
    const { events } = runServer('userpass', [userpassHandshake(new Uint8Array(0))], false);
    const last = events.at(-1);
    expect(last?.type).toBe('failed');
    if (last?.type === 'failed') {
      expect(last.error.code).toBe('socks5_auth_refused');
      expect(last.send).toEqual(encodeUserPassReply({ status: 1 }));
    }
  });

  it('answers 0xFF when the wanted method is not offered', () => {
    const { events } = runServer('userpass', [encodeGreeting({ methods: [0] })]);
    expect(events).toMatchObject([{ type: 'failed', send: Uint8Array.of(5, 0xff) }]);
    expect(runServer('none', [encodeGreeting({ methods: [2] })]).events).toMatchObject([{ type: 'failed', send: Uint8Array.of(5, 0xff) }]);
  });

  it('answers a bad request with its RFC 1928 reply code', () => {
    const bytes = cat(encodeGreeting({ methods: [0] }), Uint8Array.of(5, 1, 0, 9));
    const { events } = runServer('none', [bytes]);
    expect(events.at(-1)).toMatchObject({ type: 'failed', send: encodeReply({ reply: Reply.addressTypeNotSupported, address: { kind: 'ipv4', bytes: new Uint8Array(4) }, port: 0 }) });
  });

  it('caps what it buffers while waiting for an auth decision', () => {
    const m = new ServerHandshake('userpass');
    const events = m.receive(userpassHandshake(new Uint8Array(0)).subarray(0, 4 + 70));
    expect(events.map((e) => e.type)).toEqual(['send', 'credentials']);
    expect(m.receive(new Uint8Array(MAX_HANDSHAKE_BUFFER + 1))).toMatchObject([{ type: 'failed' }]);
    expect(m.phase).toBe('failed');
    expect(m.authorized(true)).toEqual([]);
  });

  it('never throws on hostile input, and ends failed, done or waiting', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 32 }), { maxLength: 10 }), fc.constantFrom('none' as const, 'userpass' as const), (chunks, auth) => {
        const m = new ServerHandshake(auth);
        for (const c of chunks) {
          for (const e of m.receive(c)) {
            if (e.type === 'credentials') m.authorized(true);
            if (e.type === 'failed') expect(e.error.blame).toBe('remote');
          }
        }
        expect(['greeting', 'auth', 'request', 'done', 'failed']).toContain(m.phase);
      }),
    );
  });
});

describe('ClientHandshake', () => {
  const creds = { username: new TextEncoder().encode('b'.repeat(64)), password: Uint8Array.of(7) };
  const answers = (rep: number, early: Uint8Array): Uint8Array =>
    cat(encodeMethodSelection({ method: 2 }), encodeUserPassReply({ status: 0 }), encodeReply({ reply: rep as 0, address: { kind: 'ipv4', bytes: Uint8Array.of(10, 0, 0, 1) }, port: 5000 }), early);

  function run(chunks: Uint8Array[]): ClientEvent[] {
    const m = new ClientHandshake(creds, REQ);
    return chunks.flatMap((c) => m.receive(c));
  }

  it('pipelines greeting, auth and request in one write that a server accepts', () => {
    const m = new ClientHandshake(creds, REQ);
    const { events } = runServer('userpass', [m.start()]);
    expect(events.map((e) => e.type)).toEqual(['send', 'credentials', 'send', 'request']);
    expect(events[1]).toMatchObject({ username: creds.username, password: creds.password });
  });

  it('is established the same way whole or byte by byte, with the relay’s early bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), (early) => {
        const bytes = answers(0, early);
        const whole = run([bytes]);
        expect(whole).toHaveLength(1);
        expect(whole[0]).toMatchObject({ type: 'established', rest: early });
        const single = new ClientHandshake(creds, REQ);
        const events: ClientEvent[] = [];
        const after: number[] = [];
        for (const b of bytes) {
          if (single.phase === 'done') after.push(b);
          else events.push(...single.receive(Uint8Array.of(b)));
        }
        expect(events).toHaveLength(1);
        expect(Uint8Array.from([...(events[0]?.type === 'established' ? events[0].rest : []), ...after])).toEqual(early);
      }),
      { numRuns: 30 },
    );
  });

  it('reports a refused request with its code, and refused credentials', () => {
    expect(run([answers(Reply.connectionRefused, new Uint8Array(0))])).toMatchObject([{ type: 'failed', reply: Reply.connectionRefused }]);
    expect(run([cat(encodeMethodSelection({ method: 2 }), encodeUserPassReply({ status: 1 }))])).toMatchObject([{ type: 'failed', error: { code: 'socks5_auth_refused' } }]);
    expect(run([encodeMethodSelection({ method: 0 })])).toMatchObject([{ type: 'failed', error: { code: 'socks5_no_acceptable_method' } }]);
  });
});
