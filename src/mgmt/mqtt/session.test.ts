// MqttSession against a scripted broker on loopback that speaks through the same
// packet codec (the real-broker and MQTT.js interop runs are in hw-test/mqtt).
import { describe, it, expect, afterEach } from 'vitest';
import { createServer, type Server, type Socket } from 'node:net';
import { decode, encode, FrameReader, type Packet } from './packet.js';
import { MqttSession, type SessionOptions } from './session.js';

interface FakeBroker {
  url: string;
  received: Packet[];
  sockets: Socket[];
  close(): Promise<void>;
}

async function fakeBroker(onPacket: (p: Packet, send: (p: Packet | Uint8Array) => void, sock: Socket) => void): Promise<FakeBroker> {
  const received: Packet[] = [];
  const sockets: Socket[] = [];
  const server: Server = createServer((sock) => {
    sockets.push(sock);
    const r = new FrameReader(1 << 20);
    const send = (p: Packet | Uint8Array) => sock.write(p instanceof Uint8Array ? p : encode(p));
    sock.on('error', () => {});
    sock.on('data', (d) => {
      r.push(new Uint8Array(d));
      for (let p = r.next(); p !== undefined; p = r.next()) {
        if (p instanceof Error) throw p;
        received.push(p);
        onPacket(p, send, sock);
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as { port: number }).port;
  return {
    url: `mqtt://127.0.0.1:${port}`,
    received,
    sockets,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise((r) => server.close(() => r()));
    },
  };
}

/** A broker that accepts everyone and acks everything. */
const polite = (p: Packet, send: (p: Packet) => void) => {
  if (p.type === 'connect') send({ type: 'connack', sessionPresent: false, returnCode: 0 });
  if (p.type === 'publish' && p.qos === 1) send({ type: 'puback', packetId: p.packetId! });
  if (p.type === 'subscribe') send({ type: 'suback', packetId: p.packetId, granted: p.subscriptions.map((s) => s.qos) });
  if (p.type === 'pingreq') send({ type: 'pingresp' });
};

function open(opts: Partial<SessionOptions> & { url: string }) {
  const events: string[] = [];
  const messages: { topic: string; payload: string; retain: boolean }[] = [];
  let resolveClosed: (r: string) => void = () => {};
  const closed = new Promise<string>((r) => (resolveClosed = r));
  let resolveUp: () => void = () => {};
  const up = new Promise<void>((r) => (resolveUp = r));
  const s = MqttSession.open(
    { clientId: 'c1', keepaliveS: 30, connectTimeoutMs: 2000, ...opts },
    {
      connected: () => {
        events.push('connected');
        resolveUp();
      },
      message: (topic, payload, retain) => messages.push({ topic, payload: Buffer.from(payload).toString(), retain }),
      closed: (reason) => {
        events.push(`closed: ${reason}`);
        resolveClosed(reason);
      },
    },
  );
  return { s, events, messages, closed, up };
}

const brokers: FakeBroker[] = [];
afterEach(async () => {
  for (const b of brokers.splice(0)) await b.close();
});

describe('MqttSession', () => {
  it('connects with user, password and will, publishes QoS 0/1, subscribes and ends cleanly', async () => {
    const b = await fakeBroker(polite);
    brokers.push(b);
    const will = { topic: 'n/status', payload: new TextEncoder().encode('offline'), qos: 1 as const, retain: true };
    const c = open({ url: b.url, username: 'node', password: 'pw', will });
    await c.up;
    expect(b.received[0]).toEqual({ type: 'connect', clientId: 'c1', keepaliveS: 30, clean: true, username: 'node', password: new TextEncoder().encode('pw'), will });
    expect(await c.s.subscribe('n/cmd', 1)).toBe(1);
    expect(await c.s.publish('n/status', new TextEncoder().encode('online'), 1, true)).toBe(true);
    expect(await c.s.publish('n/metrics', new TextEncoder().encode('{}'), 0, false)).toBe(true);
    await c.s.end();
    expect(await c.closed).toBe('ended by us');
    expect(b.received.map((p) => p.type)).toEqual(['connect', 'subscribe', 'publish', 'publish', 'disconnect']);
    expect(c.events).toEqual(['connected', 'closed: ended by us']);
  });

  it('acks an inbound QoS 1 publish and hands it over', async () => {
    const b = await fakeBroker((p, send) => {
      polite(p, send);
      if (p.type === 'subscribe') send({ type: 'publish', topic: 'n/cmd', payload: new TextEncoder().encode('go'), qos: 1, retain: true, dup: false, packetId: 7 });
    });
    brokers.push(b);
    const c = open({ url: b.url });
    await c.up;
    await c.s.subscribe('n/cmd', 1);
    await expect.poll(() => b.received.at(-1)).toEqual({ type: 'puback', packetId: 7 });
    expect(c.messages).toEqual([{ topic: 'n/cmd', payload: 'go', retain: true }]);
    await c.s.end();
  });

  it('reports a refused CONNACK, with the reason, and never connects', async () => {
    const b = await fakeBroker((p, send) => p.type === 'connect' && send({ type: 'connack', sessionPresent: false, returnCode: 5 }));
    brokers.push(b);
    const c = open({ url: b.url });
    expect(await c.closed).toBe('broker refused: not authorized');
    expect(c.events).toEqual(['closed: broker refused: not authorized']);
  });

  it('drops a broker that sends garbage, settling what was pending', async () => {
    const b = await fakeBroker((p, send) => {
      if (p.type === 'connect') send({ type: 'connack', sessionPresent: false, returnCode: 0 });
      if (p.type === 'publish') send(Uint8Array.of(0x30, 0x03, 0x00, 0x01, 0x23)); // '#' in a topic name
    });
    brokers.push(b);
    const c = open({ url: b.url });
    await c.up;
    expect(await c.s.publish('t', new Uint8Array(1), 1, false)).toBe(false);
    expect(await c.closed).toMatch(/^bad packet from broker: mqtt_bad_string/);
  });

  it('gives up on a broker that never answers CONNECT', async () => {
    const b = await fakeBroker(() => {});
    brokers.push(b);
    const c = open({ url: b.url, connectTimeoutMs: 200 });
    expect(await c.closed).toBe('no CONNACK within 200 ms');
  });

  it('pings when idle and drops a broker that stops answering pings', async () => {
    let answer = true;
    const b = await fakeBroker((p, send) => {
      if (p.type === 'pingreq' && !answer) return;
      polite(p, send);
    });
    brokers.push(b);
    const c = open({ url: b.url, keepaliveS: 1 });
    await c.up;
    await expect.poll(() => b.received.filter((p) => p.type === 'pingreq').length, { timeout: 3000 }).toBe(1);
    answer = false;
    expect(await c.closed).toBe('no PINGRESP within the keepalive period');
    expect(b.received.filter((p) => p.type === 'pingreq').length).toBe(2);
  });

  it('says why when nothing listens', async () => {
    const b = await fakeBroker(() => {});
    const url = b.url;
    await b.close();
    const c = open({ url });
    expect(await c.closed).toMatch(/ECONNREFUSED/);
  });

  it('refuses a URL that is not mqtt:// or mqtts://', () => {
    expect(() => open({ url: 'ws://127.0.0.1:1' })).toThrow(/mqtt:\/\/ or mqtts:\/\//);
  });

  it('its CONNECT decodes as what it asked for', () => {
    // Guards the session and the codec against drifting apart on optional fields.
    const bytes = encode({ type: 'connect', clientId: 'x', keepaliveS: 5, clean: true });
    expect(decode(bytes)).toEqual({ type: 'connect', clientId: 'x', keepaliveS: 5, clean: true });
  });
});
