// One MQTT 3.1.1 connection over node:net or node:tls: CONNECT/CONNACK, publish at
// QoS 0 and 1, subscribe, keepalive pings, a clean DISCONNECT. No reconnect and no
// queue: a session lives for one TCP connection, and its owner (BrokerConnection)
// decides when to try again and what waits meanwhile.
//
// Flow: open() → socket connects → CONNECT sent → CONNACK 0 within connectTimeoutMs →
// handlers.connected(). From then on, inbound PUBLISH → PUBACK (QoS 1) → handlers.message;
// PUBACK/SUBACK settle the promise of the packet id they name. Anything that ends the
// connection (socket error or close, a malformed or unexpected packet, a refused
// CONNACK, a missed PINGRESP, end()) calls handlers.closed(reason) exactly once and
// settles every pending promise with "not done".
import net from 'node:net';
import tls from 'node:tls';
import { encode, FrameReader, MqttPacketError, type Packet, type QoS } from './packet.js';

export interface SessionOptions {
  /** mqtt://host[:1883] or mqtts://host[:8883]. */
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM contents. */
  readonly ca?: Uint8Array;
  readonly cert?: Uint8Array;
  readonly key?: Uint8Array;
  readonly will?: { readonly topic: string; readonly payload: Uint8Array; readonly qos: QoS; readonly retain: boolean };
  readonly keepaliveS: number;
  readonly connectTimeoutMs: number;
  /** Inbound packets larger than this close the connection. */
  readonly maxPacketBytes?: number;
}

export interface SessionHandlers {
  connected(): void;
  message(topic: string, payload: Uint8Array, retain: boolean): void;
  closed(reason: string): void;
}

/** Management payloads are small JSON; a broker sending more is misbehaving. */
export const DEFAULT_MAX_PACKET_BYTES = 256 * 1024;
/** How long end() waits for the socket to close after DISCONNECT. */
const END_GRACE_MS = 1_000;

const CONNACK_REASONS = ['accepted', 'unacceptable protocol version', 'identifier rejected', 'server unavailable', 'bad user name or password', 'not authorized'];

type SessionState = 'opening' | 'connecting' | 'connected' | 'closed';

export class MqttSession {
  #state: SessionState = 'opening';
  readonly #socket: net.Socket;
  readonly #reader: FrameReader;
  #nextId = 1;
  /** Packet id → settle(ok) for PUBACK; SUBACK settles with the granted codes. */
  readonly #pubacks = new Map<number, (ok: boolean) => void>();
  readonly #subacks = new Map<number, (granted: readonly number[] | undefined) => void>();
  #pingTimer: NodeJS.Timeout | undefined;
  #connectTimer: NodeJS.Timeout | undefined;
  #awaitingPong = false;
  #closeReason = '';
  #closedWaiters: (() => void)[] = [];

  private constructor(
    private readonly opts: SessionOptions,
    private readonly handlers: SessionHandlers,
  ) {
    this.#reader = new FrameReader(opts.maxPacketBytes ?? DEFAULT_MAX_PACKET_BYTES);
    const url = new URL(opts.url);
    const secure = url.protocol === 'mqtts:';
    if (!secure && url.protocol !== 'mqtt:') throw new RangeError(`broker URL ${opts.url}: expected mqtt:// or mqtts://`);
    const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
    const port = url.port === '' ? (secure ? 8883 : 1883) : Number(url.port);
    this.#socket = secure
      ? tls.connect({
          host,
          port,
          ...(net.isIP(host) === 0 && { servername: host }),
          ...(opts.ca && { ca: Buffer.from(opts.ca) }),
          ...(opts.cert && { cert: Buffer.from(opts.cert) }),
          ...(opts.key && { key: Buffer.from(opts.key) }),
        })
      : net.connect({ host, port });
    this.#socket.setNoDelay(true);
    this.#socket.once(secure ? 'secureConnect' : 'connect', () => this.#sendConnect());
    this.#socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    this.#socket.on('error', (e) => (this.#closeReason ||= e.message));
    this.#socket.on('close', () => this.#closed(this.#closeReason || 'connection closed'));
    this.#connectTimer = setTimeout(() => this.#fail(`no CONNACK within ${opts.connectTimeoutMs} ms`), opts.connectTimeoutMs);
  }

  /** Starts connecting; the outcome arrives through the handlers. Throws only on a bad URL. */
  static open(opts: SessionOptions, handlers: SessionHandlers): MqttSession {
    return new MqttSession(opts, handlers);
  }

  get connected(): boolean {
    return this.#state === 'connected';
  }

  /** QoS 0: true once written. QoS 1: true when PUBACKed, false if the connection ends first. */
  publish(topic: string, payload: Uint8Array, qos: QoS, retain: boolean): Promise<boolean> {
    if (this.#state !== 'connected') return Promise.resolve(false);
    if (qos === 0) {
      this.#send({ type: 'publish', topic, payload, qos, retain, dup: false });
      return Promise.resolve(true);
    }
    const packetId = this.#allocateId();
    if (packetId === undefined) return Promise.resolve(false);
    return new Promise((resolve) => {
      this.#pubacks.set(packetId, resolve);
      this.#send({ type: 'publish', topic, payload, qos, retain, dup: false, packetId });
    });
  }

  /** The granted QoS (or 0x80 when refused), undefined if the connection ends first. */
  async subscribe(filter: string, qos: QoS): Promise<number | undefined> {
    if (this.#state !== 'connected') return undefined;
    const packetId = this.#allocateId();
    if (packetId === undefined) return undefined;
    const granted = await new Promise<readonly number[] | undefined>((resolve) => {
      this.#subacks.set(packetId, resolve);
      this.#send({ type: 'subscribe', packetId, subscriptions: [{ filter, qos }] });
    });
    return granted?.[0];
  }

  /** DISCONNECT (when connected) and close; resolves once the socket is closed. */
  end(): Promise<void> {
    if (this.#state === 'closed') return Promise.resolve();
    const done = new Promise<void>((r) => this.#closedWaiters.push(r));
    this.#closeReason ||= 'ended by us';
    if (this.#state === 'connected') this.#send({ type: 'disconnect' });
    this.#socket.end();
    const t = setTimeout(() => this.#socket.destroy(), END_GRACE_MS);
    void done.then(() => clearTimeout(t));
    return done;
  }

  // ---- inbound ----

  #onData(chunk: Buffer): void {
    this.#reader.push(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.length));
    for (;;) {
      if (this.#state === 'closed') return;
      const p = this.#reader.next();
      if (p === undefined) return;
      if (p instanceof MqttPacketError) return this.#fail(`bad packet from broker: ${p.code}: ${p.message}`);
      this.#onPacket(p);
    }
  }

  #onPacket(p: Packet): void {
    if (this.#state === 'connecting') {
      if (p.type !== 'connack') return this.#fail(`expected CONNACK, got ${p.type.toUpperCase()}`);
      if (p.returnCode !== 0) return this.#fail(`broker refused: ${CONNACK_REASONS[p.returnCode] ?? p.returnCode}`);
      clearTimeout(this.#connectTimer);
      this.#state = 'connected';
      this.#armPing();
      this.handlers.connected();
      return;
    }
    switch (p.type) {
      case 'publish':
        if (p.qos === 1 && p.packetId !== undefined) this.#send({ type: 'puback', packetId: p.packetId });
        this.handlers.message(p.topic, p.payload, p.retain);
        return;
      case 'puback':
        return this.#settle(this.#pubacks, p.packetId, true);
      case 'suback':
        return this.#settle(this.#subacks, p.packetId, p.granted);
      case 'pingresp':
        this.#awaitingPong = false;
        return;
      default:
        return this.#fail(`unexpected ${p.type.toUpperCase()} from broker`);
    }
  }

  #settle<T>(pending: Map<number, (v: T) => void>, id: number, v: T): void {
    const settle = pending.get(id);
    // An ack for an id we are not waiting on is a broker bug; harmless, so ignored.
    pending.delete(id);
    settle?.(v);
  }

  // ---- outbound ----

  #sendConnect(): void {
    if (this.#state !== 'opening') return;
    this.#state = 'connecting';
    const o = this.opts;
    this.#send({
      type: 'connect',
      clientId: o.clientId,
      keepaliveS: o.keepaliveS,
      clean: true,
      ...(o.will && { will: o.will }),
      ...(o.username !== undefined && { username: o.username }),
      ...(o.password !== undefined && { password: new TextEncoder().encode(o.password) }),
    });
  }

  #send(p: Packet): void {
    this.#socket.write(encode(p));
    if (this.#state === 'connected') this.#armPing();
  }

  #allocateId(): number | undefined {
    for (let i = 0; i < 0xffff; i++) {
      const id = this.#nextId;
      this.#nextId = id === 0xffff ? 1 : id + 1;
      if (!this.#pubacks.has(id) && !this.#subacks.has(id)) return id;
    }
    return undefined; // 65535 packets in flight: the broker stopped acking
  }

  /**
   * The client must send something within each keepalive period (spec 3.1.2.10): a
   * PINGREQ after a quiet period, and a broker that has not answered the previous one
   * by the next period is gone.
   */
  #armPing(): void {
    if (this.opts.keepaliveS === 0) return;
    clearTimeout(this.#pingTimer);
    this.#pingTimer = setTimeout(() => this.#keepaliveExpired(), this.opts.keepaliveS * 1000);
  }

  #keepaliveExpired(): void {
    if (this.#awaitingPong) return this.#fail('no PINGRESP within the keepalive period');
    this.#awaitingPong = true;
    this.#send({ type: 'pingreq' });
  }

  // ---- the end ----

  #fail(reason: string): void {
    this.#closeReason ||= reason;
    this.#socket.destroy();
  }

  #closed(reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#pingTimer);
    clearTimeout(this.#connectTimer);
    for (const settle of this.#pubacks.values()) settle(false);
    for (const settle of this.#subacks.values()) settle(undefined);
    this.#pubacks.clear();
    this.#subacks.clear();
    for (const w of this.#closedWaiters.splice(0)) w();
    this.handlers.closed(reason);
  }
}
