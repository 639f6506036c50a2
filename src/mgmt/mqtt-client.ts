// The one place that touches the `mqtt` package. MQTT.js reconnects on a fixed period
// with no jitter, so its own reconnect is off (reconnectPeriod: 0) and every connection
// attempt is a fresh client driven by our ReconnectMachine, with one real timer armed
// from the machine's pollTimeout().
//
// Contract for the owner: up() is called after each successful connect (subscribe and
// republish there); down() after each lost connection or failed attempt; message() for
// each incoming publish. None of them is called after stop().
import { connect as mqttConnect, type IClientOptions, type MqttClient } from 'mqtt';
import { ReconnectMachine, type BackoffOptions } from './reconnect.js';

export interface Will {
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly retain: boolean;
  readonly qos: 0 | 1;
}

export interface BrokerOptions {
  /** mqtt://host:port or mqtts://host:port. */
  readonly url: string;
  readonly clientId: string;
  readonly username?: string;
  readonly password?: string;
  /** PEM contents (already read from the configured paths). */
  readonly ca?: Uint8Array;
  readonly cert?: Uint8Array;
  readonly key?: Uint8Array;
  readonly will?: Will;
  readonly keepaliveS?: number;
  readonly connectTimeoutMs?: number;
}

export interface BrokerHandlers {
  up(): void;
  down(reason: string): void;
  message(topic: string, payload: Uint8Array): void;
}

export interface BrokerDeps {
  readonly clock: () => number;
  readonly backoff: BackoffOptions;
  /** Injected for tests; defaults to mqtt.connect. */
  readonly connect?: (url: string, opts: IClientOptions) => MqttClient;
}

export class BrokerConnection {
  readonly #machine: ReconnectMachine;
  #client: MqttClient | undefined;
  #timer: NodeJS.Timeout | undefined;
  #connects = 0;

  constructor(
    private readonly opts: BrokerOptions,
    private readonly handlers: BrokerHandlers,
    private readonly deps: BrokerDeps,
  ) {
    this.#machine = new ReconnectMachine(deps.backoff);
  }

  get connected(): boolean {
    return this.#machine.state === 'connected' && this.#client?.connected === true;
  }
  /** Successful connects since start (the first one included). */
  get connects(): number {
    return this.#connects;
  }
  get state(): string {
    return this.#machine.state;
  }

  start(): void {
    this.#machine.start();
    this.#drive();
  }

  /** Publish now; false when not connected (the caller queues or drops). Never throws. */
  publish(topic: string, payload: Uint8Array, qos: 0 | 1, retain: boolean): boolean {
    const c = this.#client;
    if (!this.connected || !c) return false;
    c.publish(topic, Buffer.from(payload), { qos, retain }, () => {
      // A failed QoS 1 publish shows up as a dropped connection; nothing to do here.
    });
    return true;
  }

  /** Resolves when the broker acknowledged (true) or refused or could not be asked (false). */
  subscribe(topic: string, qos: 0 | 1): Promise<boolean> {
    const c = this.#client;
    if (!c) return Promise.resolve(false);
    return new Promise((resolve) => {
      c.subscribe(topic, { qos }, (err, granted) => resolve(!err && (granted ?? []).every((g) => g.qos !== 128)));
    });
  }

  /**
   * Close. With `last`, publish it first (the retained 'offline' on a clean stop, which
   * the broker would not send as a will for a clean DISCONNECT).
   */
  async stop(last?: { topic: string; payload: Uint8Array; retain: boolean }): Promise<void> {
    this.#machine.stop();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const c = this.#client;
    this.#client = undefined;
    if (!c) return;
    if (last && c.connected) {
      await Promise.race([
        c.publishAsync(last.topic, Buffer.from(last.payload), { qos: 1, retain: last.retain }).catch(() => undefined),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
    }
    await c.endAsync(true).catch(() => undefined);
  }

  // ---- the machine's effects ----

  #drive(): void {
    if (this.#machine.pollConnect()) this.#open();
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    const due = this.#machine.pollTimeout();
    if (due !== undefined) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#machine.handleTimeout(this.deps.clock());
        this.#drive();
      }, Math.max(0, due - this.deps.clock()));
    }
  }

  #open(): void {
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      reconnectPeriod: 0,
      connectTimeout: o.connectTimeoutMs ?? 5_000,
      keepalive: o.keepaliveS ?? 30,
      clean: true,
      // Our OfflineQueue decides what waits; MQTT.js must not queue on its own.
      queueQoSZero: false,
      resubscribe: false,
      ...(o.username !== undefined && { username: o.username }),
      ...(o.password !== undefined && { password: o.password }),
      ...(o.ca && { ca: Buffer.from(o.ca) }),
      ...(o.cert && { cert: Buffer.from(o.cert) }),
      ...(o.key && { key: Buffer.from(o.key) }),
      ...(o.will && {
        will: { topic: o.will.topic, payload: Buffer.from(o.will.payload), qos: o.will.qos, retain: o.will.retain },
      }),
    };
    const connect = this.deps.connect ?? mqttConnect;
    let client: MqttClient;
    try {
      client = connect(o.url, options);
    } catch (e) {
      this.#lost(undefined, `connect: ${(e as Error).message}`);
      return;
    }
    this.#client = client;
    let lastError = '';
    client.on('connect', () => {
      if (this.#client !== client) return;
      this.#machine.connected();
      this.#connects += 1;
      this.#drive();
      this.handlers.up();
    });
    client.on('message', (topic, payload) => {
      if (this.#client === client) this.handlers.message(topic, new Uint8Array(payload));
    });
    client.on('error', (e) => {
      lastError = e.message;
    });
    client.on('close', () => this.#lost(client, lastError || 'connection closed'));
  }

  #lost(client: MqttClient | undefined, reason: string): void {
    if (client !== undefined && this.#client !== client) return; // an old attempt's late close
    const wasUp = this.#machine.state === 'connected';
    this.#client = undefined;
    client?.removeAllListeners('close');
    client?.on('error', () => {}); // late errors from a discarded client must not crash us
    client?.end(true);
    this.#machine.failed(this.deps.clock());
    this.#drive();
    this.handlers.down(wasUp ? `lost: ${reason}` : `connect failed: ${reason}`);
  }
}
