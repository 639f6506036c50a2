// The broker connection the agent and the CLI use: our own MQTT 3.1.1 session
// (src/mgmt/mqtt/session.ts, a few KB instead of MQTT.js's ~140 KB of bundle) driven by
// our ReconnectMachine, with one real timer armed from the machine's pollTimeout().
// Every connection attempt is a fresh session. (The `mqtt` package stays as the
// independent reference client in hw-test/mqtt; docs/deviations.md says why.)
//
// Contract for the owner: up() is called after each successful connect (subscribe and
// republish there); down() after each lost connection or failed attempt; message() for
// each incoming publish. None of them is called after stop().
import { MqttSession, type SessionHandlers, type SessionOptions } from './mqtt/session.js';
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
  /** Injected for tests; defaults to MqttSession.open. */
  readonly connect?: (opts: SessionOptions, handlers: SessionHandlers) => MqttSession;
}

export class BrokerConnection {
  readonly #machine: ReconnectMachine;
  #client: MqttSession | undefined;
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
    // A failed QoS 1 publish shows up as a dropped connection; nothing to do here.
    void c.publish(topic, payload, qos, retain);
    return true;
  }

  /** Resolves when the broker acknowledged (true) or refused or could not be asked (false). */
  subscribe(topic: string, qos: 0 | 1): Promise<boolean> {
    const c = this.#client;
    if (!c) return Promise.resolve(false);
    return c.subscribe(topic, qos).then((granted) => granted !== undefined && granted !== 0x80);
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
        c.publish(last.topic, last.payload, 1, last.retain),
        new Promise((r) => setTimeout(r, 1000)),
      ]);
    }
    await c.end();
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
    const options: SessionOptions = {
      url: o.url,
      clientId: o.clientId,
      connectTimeoutMs: o.connectTimeoutMs ?? 5_000,
      keepaliveS: o.keepaliveS ?? 30,
      ...(o.username !== undefined && { username: o.username }),
      ...(o.password !== undefined && { password: o.password }),
      ...(o.ca && { ca: o.ca }),
      ...(o.cert && { cert: o.cert }),
      ...(o.key && { key: o.key }),
      ...(o.will && { will: o.will }),
    };
    const connect = this.deps.connect ?? MqttSession.open;
    // The handlers refer to the session through this box: it is filled right after
    // open() returns, before any socket event can fire.
    const box: { s?: MqttSession } = {};
    try {
      box.s = connect(options, {
        connected: () => {
          if (box.s === undefined || this.#client !== box.s) return;
          this.#machine.connected();
          this.#connects += 1;
          this.#drive();
          this.handlers.up();
        },
        message: (topic, payload) => {
          if (box.s !== undefined && this.#client === box.s) this.handlers.message(topic, payload);
        },
        closed: (reason) => {
          if (box.s !== undefined) this.#lost(box.s, reason);
        },
      });
    } catch (e) {
      this.#lost(undefined, `connect: ${(e as Error).message}`);
      return;
    }
    this.#client = box.s;
  }

  #lost(client: MqttSession | undefined, reason: string): void {
    if (client !== undefined && this.#client !== client) return; // an old attempt's late close
    const wasUp = this.#machine.state === 'connected';
    this.#client = undefined;
    void client?.end();
    this.#machine.failed(this.deps.clock());
    this.#drive();
    this.handlers.down(wasUp ? `lost: ${reason}` : `connect failed: ${reason}`);
  }
}
