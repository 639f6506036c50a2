// Our MQTT client (src/mgmt/mqtt/session.ts, the one inside the agent) against MQTT.js,
// the independent reference client, through a real mosquitto: retained messages, last
// wills and QoS 1 in both directions, plus an ACL refusal as the broker reports it.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { connectAsync, type MqttClient } from 'mqtt';
import { MqttSession, type SessionOptions } from '../../src/mgmt/mqtt/session.js';
import { Mosquitto, mosquittoUnavailable } from './mosquitto.js';
import { Relay, waitFor } from './harness.js';

const why = await mosquittoUnavailable();
if (why) console.warn(`hw-test/mqtt/interop: SKIPPED (${why}); CI installs the Debian packages mosquitto and mosquitto-clients`);

const OURS = 'ours';
const REF = 'reference';
const PW = 'pw';
const acl = `user ${OURS}
topic readwrite x/#
user ${REF}
topic readwrite x/#
`;
const text = (b: Uint8Array) => Buffer.from(b).toString();
const bytes = (s: string) => new TextEncoder().encode(s);

interface Ours {
  session: MqttSession;
  messages: { topic: string; text: string; retain: boolean }[];
  payloads: Uint8Array[];
  closed: Promise<string>;
}

async function ours(url: string, extra: Partial<SessionOptions> = {}): Promise<Ours> {
  const messages: Ours['messages'] = [];
  const payloads: Uint8Array[] = [];
  let up: () => void = () => {};
  let fail: (e: Error) => void = () => {};
  let closedWith: (r: string) => void = () => {};
  const connected = new Promise<void>((res, rej) => ((up = res), (fail = rej)));
  const closed = new Promise<string>((r) => (closedWith = r));
  const session = MqttSession.open(
    { url, clientId: `ours-${Math.random().toString(16).slice(2)}`, username: OURS, password: PW, keepaliveS: 30, connectTimeoutMs: 3000, ...extra },
    {
      connected: () => up(),
      message: (topic, payload, retain) => {
        messages.push({ topic, text: text(payload), retain });
        payloads.push(payload);
      },
      closed: (r) => {
        closedWith(r);
        fail(new Error(r));
      },
    },
  );
  await connected;
  return { session, messages, payloads, closed };
}

async function reference(url: string, topics: string[]): Promise<{ client: MqttClient; messages: { topic: string; text: string; retain: boolean; qos: number }[] }> {
  const client = await connectAsync(url, { username: REF, password: PW, reconnectPeriod: 0, clean: true, connectTimeout: 5000 });
  const messages: { topic: string; text: string; retain: boolean; qos: number }[] = [];
  client.on('message', (topic, payload, packet) => messages.push({ topic, text: payload.toString(), retain: packet.retain, qos: packet.qos }));
  if (topics.length > 0) await client.subscribeAsync(topics, { qos: 1 });
  return { client, messages };
}

describe.runIf(!why)('our MQTT client and MQTT.js through mosquitto', () => {
  let broker: Mosquitto;

  beforeAll(async () => {
    broker = await Mosquitto.start(new Map([[OURS, PW], [REF, PW]]), acl);
  });
  afterAll(async () => {
    await broker?.stop();
  });

  it('retained QoS 1 from ours reaches a later MQTT.js subscriber, flagged retained', async () => {
    const a = await ours(broker.url);
    expect(await a.session.publish('x/retained/1', bytes('kept'), 1, true)).toBe(true); // PUBACKed
    await a.session.end();
    const r = await reference(broker.url, ['x/retained/1']);
    try {
      const m = await waitFor(() => r.messages[0], 3000, 'retained message');
      expect(m).toEqual({ topic: 'x/retained/1', text: 'kept', retain: true, qos: 1 });
    } finally {
      await r.client.endAsync();
    }
  });

  it('retained QoS 1 from MQTT.js reaches ours; live messages arrive unflagged, in order', async () => {
    const r = await reference(broker.url, []);
    await r.client.publishAsync('x/retained/2', 'from-ref', { qos: 1, retain: true });
    const a = await ours(broker.url);
    try {
      expect(await a.session.subscribe('x/retained/2', 1)).toBe(1);
      await waitFor(() => a.messages[0], 3000, 'retained message');
      for (let i = 0; i < 20; i++) await r.client.publishAsync('x/retained/2', `live-${i}`, { qos: 1 });
      await waitFor(() => a.messages.length === 21 || undefined, 3000, '20 live messages');
      expect(a.messages[0]).toEqual({ topic: 'x/retained/2', text: 'from-ref', retain: true });
      expect(a.messages.slice(1)).toEqual(Array.from({ length: 20 }, (_, i) => ({ topic: 'x/retained/2', text: `live-${i}`, retain: false })));
    } finally {
      await a.session.end();
      await r.client.endAsync();
    }
  });

  it('QoS 1 both ways between the two clients, payloads byte for byte', async () => {
    const r = await reference(broker.url, ['x/to-ref']);
    const a = await ours(broker.url);
    try {
      await a.session.subscribe('x/to-ours', 1);
      const blob = new Uint8Array(70_000).map((_, i) => (i * 31) & 0xff); // a 3-byte remaining length
      expect(await a.session.publish('x/to-ref', blob, 1, false)).toBe(true);
      await r.client.publishAsync('x/to-ours', Buffer.from(blob), { qos: 1 });
      expect((await waitFor(() => r.messages[0], 3000, 'blob at MQTT.js')).qos).toBe(1);
      expect((await waitFor(() => a.payloads[0], 3000, 'blob at ours'))).toEqual(blob);
      // Compare bytes, not text: MQTT.js hands the payload over as a Buffer.
      const refPayload = await new Promise<Buffer>((res) => {
        r.client.once('message', (_t, p) => res(p));
        void a.session.publish('x/to-ref', blob, 1, false);
      });
      expect(new Uint8Array(refPayload)).toEqual(blob);
    } finally {
      await a.session.end();
      await r.client.endAsync();
    }
  });

  it('the broker sends our will when our connection vanishes, and not after a clean end', async () => {
    const r = await reference(broker.url, ['x/will/#']);
    const relay = await Relay.start(broker.port);
    try {
      const will = { topic: 'x/will/cut', payload: bytes('offline'), qos: 1 as const, retain: true };
      const a = await ours(relay.url, { will });
      await a.session.publish('x/will/cut', bytes('online'), 1, true);
      await waitFor(() => r.messages.find((m) => m.text === 'online'), 3000, 'online');
      relay.cut(); // no DISCONNECT reaches the broker
      await a.closed;
      const w = await waitFor(() => r.messages.find((m) => m.text === 'offline'), 5000, 'will');
      expect(w).toMatchObject({ topic: 'x/will/cut', qos: 1 });

      const b = await ours(broker.url, { will: { ...will, topic: 'x/will/clean' } });
      await b.session.end(); // DISCONNECT: the broker must drop the will
      const marker = await ours(broker.url);
      await marker.session.publish('x/will/marker', bytes('after'), 1, false);
      await waitFor(() => r.messages.find((m) => m.topic === 'x/will/marker'), 3000, 'marker');
      expect(r.messages.filter((m) => m.topic === 'x/will/clean')).toEqual([]);
      await marker.session.end();
    } finally {
      await relay.cut();
      await r.client.endAsync();
    }
  });

  it('reports the QoS the broker granted, and a refused login with its reason', async () => {
    const a = await ours(broker.url);
    try {
      expect(await a.session.subscribe('x/q1', 1)).toBe(1);
      expect(await a.session.subscribe('x/q0', 0)).toBe(0);
    } finally {
      await a.session.end();
    }
    await expect(ours(broker.url, { password: 'wrong' })).rejects.toThrow(/not authorized|bad user name or password/);
  });
});
