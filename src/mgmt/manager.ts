// Remote management: wires a ManagedNode to the broker. Outbound flow:
//   1. on every connect: subscribe cmd, publish status (retained), flush the offline
//      queue, publish one metrics sample at once (so a fleet view is fresh at once);
//   2. every metrics interval: a metrics sample (queued while offline, oldest dropped);
//   3. each node event: published on events (queued while offline);
//   4. each payload on cmd: verify (command.ts), run, answer on cmd/result, log.
// Selling never depends on the broker: nothing here blocks or throws into the node;
// every failure is logged and counted.
import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { MgmtConfig } from '../config/schema.js';
import type { Logger } from '../agent/log.js';
import { nodeIdToBech32 } from '../core/wire/node-id.js';
import type { Crypto } from '../crypto/facade.js';
import { CommandReplayCache, verifyCommand, type CommandMeta, type MgmtCommand } from './command.js';
import { MgmtError, type MgmtErrorCode } from './errors.js';
import type { ManagedNode, NodeEvent } from './managed-node.js';
import { metricsToJson } from './metrics.js';
import { MetricsHttpServer } from './metrics-http.js';
import { BrokerConnection, type BrokerDeps } from './mqtt-client.js';
import { OfflineQueue, type OfflineQueueLimits, type QueuedKind } from './offline-queue.js';
import { DEFAULT_BACKOFF, type BackoffOptions } from './reconnect.js';
import { OFFLINE_PAYLOAD, topicFor } from './topics.js';

const MAX_PRICE_MSAT_PER_KIB = 1_000_000_000_000;
const REPLAY_CAPACITY = 1024;
/** Commands waiting to run; more than this are refused rather than piled up. */
const MAX_PENDING_COMMANDS = 16;

export interface MgmtSettings {
  readonly brokerUrl: string;
  readonly username: string;
  readonly password: string;
  /** Paths; empty means not used. */
  readonly tlsCa: string;
  readonly tlsCert: string;
  readonly tlsKey: string;
  /** Operator x-only public keys, 32 bytes each. */
  readonly operators: readonly Uint8Array[];
  readonly metricsIntervalMs: number;
  /** 0 = no HTTP endpoint. */
  readonly metricsPort: number;
  readonly topicPrefix: string;
}

export interface ManagerDeps {
  readonly node: ManagedNode;
  readonly nodeId: Uint8Array;
  readonly crypto: Crypto;
  readonly log: Logger;
  readonly settings: MgmtSettings;
  readonly clock?: () => number;
  readonly backoff?: Partial<BackoffOptions>;
  readonly queueLimits?: OfflineQueueLimits;
  readonly connect?: BrokerDeps['connect'];
}

export interface CommandResult {
  readonly node: string;
  readonly nonce: string | null;
  readonly cmd: string | null;
  readonly ok: boolean;
  readonly code?: MgmtErrorCode;
  readonly message?: string;
  readonly result?: unknown;
  readonly ts: number;
}

export interface MgmtStats {
  readonly broker: string;
  readonly state: string;
  readonly connects: number;
  readonly queued: number;
  readonly dropped: number;
  readonly commandsAccepted: number;
  readonly commandsRejected: Readonly<Record<string, number>>;
  readonly metricsPort: number;
}

const utf8 = new TextEncoder();

export class MgmtManager {
  readonly #d: ManagerDeps;
  readonly #clock: () => number;
  readonly #node: string;
  readonly #queue: OfflineQueue;
  readonly #replay: CommandReplayCache;
  readonly #operators: ReadonlySet<string>;
  #broker: BrokerConnection | undefined;
  #http: MetricsHttpServer | undefined;
  #metricsTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  #pending = 0;
  #chain: Promise<void> = Promise.resolve();
  #accepted = 0;
  readonly #rejected: Record<string, number> = {};
  #stopped = false;

  constructor(deps: ManagerDeps) {
    this.#d = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#node = nodeIdToBech32(deps.nodeId);
    this.#queue = new OfflineQueue(deps.queueLimits);
    this.#replay = new CommandReplayCache(REPLAY_CAPACITY, this.#clock());
    this.#operators = new Set(deps.settings.operators.map((k) => bytesToHex(k)));
  }

  get nodeTopic(): string {
    return `${this.#d.settings.topicPrefix}/${this.#node}`;
  }

  get metricsPort(): number {
    return this.#http?.boundPort ?? 0;
  }

  stats(): MgmtStats {
    return {
      broker: this.#d.settings.brokerUrl,
      state: this.#broker?.state ?? 'off',
      connects: this.#broker?.connects ?? 0,
      queued: this.#queue.size,
      dropped: this.#queue.dropped,
      commandsAccepted: this.#accepted,
      commandsRejected: { ...this.#rejected },
      metricsPort: this.metricsPort,
    };
  }

  /** Never throws: a broken mgmt setup is logged and the node runs on without it. */
  async start(): Promise<void> {
    const { settings: s, log } = this.#d;
    try {
      if (s.metricsPort > 0) {
        const http = new MetricsHttpServer(s.metricsPort, () => this.#d.node.metrics());
        try {
          await http.start();
          this.#http = http;
        } catch (e) {
          log.warn('mgmt: metrics endpoint not started', { port: s.metricsPort, error: (e as Error).message });
        }
      }
      if (s.brokerUrl === '') return;
      const [ca, cert, key] = await Promise.all([s.tlsCa, s.tlsCert, s.tlsKey].map((p) => (p ? readFile(p) : undefined)));
      if (this.#stopped) return;
      this.#unsubscribe = this.#d.node.onEvent((e) => this.#onEvent(e));
      const status = topicFor(s.topicPrefix, this.#node, 'status');
      this.#broker = new BrokerConnection(
        {
          url: s.brokerUrl,
          clientId: `bitmesh-${this.#node.slice(0, 23)}-${randomBytes(3).toString('hex')}`,
          ...(s.username !== '' && { username: s.username }),
          ...(s.password !== '' && { password: s.password }),
          ...(ca && { ca }),
          ...(cert && { cert }),
          ...(key && { key }),
          will: { topic: status, payload: utf8.encode(OFFLINE_PAYLOAD), retain: true, qos: 1 },
        },
        {
          up: () => this.#onUp(),
          down: (reason) => log.info('mgmt: broker down', { broker: s.brokerUrl, reason }),
          message: (topic, payload) => this.#onMessage(topic, payload),
        },
        {
          clock: this.#clock,
          backoff: { ...DEFAULT_BACKOFF, random: Math.random, ...this.#d.backoff },
          ...(this.#d.connect && { connect: this.#d.connect }),
        },
      );
      this.#broker.start();
      this.#metricsTimer = setInterval(() => this.#publishMetrics(), s.metricsIntervalMs);
      this.#metricsTimer.unref();
    } catch (e) {
      log.error('mgmt: not started', { error: (e as Error).message });
    }
  }

  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    if (this.#metricsTimer) clearInterval(this.#metricsTimer);
    this.#unsubscribe?.();
    const status = topicFor(this.#d.settings.topicPrefix, this.#node, 'status');
    await this.#broker?.stop({ topic: status, payload: utf8.encode(OFFLINE_PAYLOAD), retain: true });
    await this.#http?.close();
  }

  /** Publish status again now (after a change the operator should see). */
  publishStatus(): void {
    this.#safely('status', () => {
      const payload = JSON.stringify({ state: 'online', ts: this.#clock(), ...this.#d.node.status() });
      this.#broker?.publish(this.#topic('status'), utf8.encode(payload), 1, true);
    });
  }

  // ---- events in ----

  #onUp(): void {
    const log = this.#d.log;
    log.info('mgmt: broker up', { broker: this.#d.settings.brokerUrl, topic: this.nodeTopic });
    void this.#broker?.subscribe(this.#topic('cmd'), 1).then((ok) => {
      if (!ok) log.warn('mgmt: broker refused the cmd subscription (ACL?)', { topic: this.#topic('cmd') });
    });
    this.publishStatus();
    // Whatever cannot go out now (the connection dropped again) goes back in the queue.
    for (const m of this.#queue.drain()) if (!this.#broker?.publish(m.topic, m.payload, m.qos, false)) this.#queue.push(m);
    this.#publishMetrics();
  }

  #onEvent(e: NodeEvent): void {
    this.#send('event', 'events', JSON.stringify({ node: this.#node, ...e }), 1);
    if (e.kind === 'price_changed' || e.kind === 'selling_paused' || e.kind === 'selling_resumed' || e.kind === 'config_changed')
      this.publishStatus();
  }

  #onMessage(topic: string, payload: Uint8Array): void {
    if (topic !== this.#topic('cmd')) return;
    const now = this.#clock();
    const v = verifyCommand(payload, {
      crypto: this.#d.crypto,
      nodeId: this.#d.nodeId,
      operators: this.#operators,
      replay: this.#replay,
      now,
    });
    if (!v.ok) {
      this.#reject(v.error, v.meta);
      return;
    }
    if (this.#pending >= MAX_PENDING_COMMANDS) {
      this.#reject(new MgmtError('refused', 'too many commands waiting'), v.meta);
      return;
    }
    this.#pending += 1;
    const { command, meta } = v;
    this.#d.log.info('mgmt: command accepted', { cmd: command.name, op: meta.op, nonce: meta.nonce });
    this.#chain = this.#chain.then(() => this.#run(command, meta)).finally(() => (this.#pending -= 1));
  }

  async #run(command: MgmtCommand, meta: CommandMeta): Promise<void> {
    let result: unknown;
    try {
      result = await this.#execute(command);
    } catch (e) {
      const err = e instanceof MgmtError ? e : new MgmtError('failed', (e as Error).message);
      this.#reject(err, meta);
      return;
    }
    this.#accepted += 1;
    this.#result({ ok: true, ...(result !== undefined && { result }) }, meta);
    if (command.name === 'restart') {
      // Answer first, then go down: give the result a moment to leave.
      setTimeout(() => void this.#d.node.restart().catch((e: Error) => this.#d.log.error('mgmt: restart failed', { error: e.message })), 200);
    }
  }

  async #execute(c: MgmtCommand): Promise<unknown> {
    const node = this.#d.node;
    switch (c.name) {
      case 'status':
        return node.status();
      case 'set_price':
        if (c.msatPerKiB > MAX_PRICE_MSAT_PER_KIB) throw new MgmtError('bad_args', `price above ${MAX_PRICE_MSAT_PER_KIB} msat/KiB`);
        node.setPrice(c.msatPerKiB);
        this.publishStatus();
        return { priceMsatPerKiB: node.status().priceMsatPerKiB };
      case 'pause_selling':
        node.pauseSelling();
        this.publishStatus();
        return { selling: node.status().selling };
      case 'resume_selling':
        node.resumeSelling();
        this.publishStatus();
        return { selling: node.status().selling };
      case 'set_config':
        await node.setConfigOption(c.section, c.option, c.value);
        this.publishStatus();
        return { section: c.section, option: c.option, value: c.value };
      case 'close_channel':
        await node.closeChannel(c.channel);
        return { channel: c.channel };
      case 'reauction':
        await node.reauction();
        return undefined;
      case 'restart':
        return { restarting: true };
    }
  }

  // ---- effects out ----

  #reject(error: MgmtError, meta: CommandMeta): void {
    this.#rejected[error.code] = (this.#rejected[error.code] ?? 0) + 1;
    this.#d.log.warn('mgmt: command rejected', { code: error.code, reason: error.message, cmd: meta.cmd?.slice(0, 64), op: meta.op, nonce: meta.nonce });
    this.#result({ ok: false, code: error.code, message: error.message }, meta);
  }

  #result(r: Pick<CommandResult, 'ok' | 'code' | 'message' | 'result'>, meta: CommandMeta): void {
    const full: CommandResult = { node: this.#node, nonce: meta.nonce ?? null, cmd: meta.cmd ?? null, ...r, ts: this.#clock() };
    this.#send('result', 'cmd/result', JSON.stringify(full), 1);
  }

  #publishMetrics(): void {
    this.#safely('metrics', () => this.#send('metrics', 'metrics', metricsToJson(this.#d.node.metrics()), 0));
  }

  #send(kind: QueuedKind, sub: 'metrics' | 'events' | 'cmd/result', text: string, qos: 0 | 1): void {
    if (this.#stopped) return;
    const topic = this.#topic(sub);
    const payload = utf8.encode(text);
    if (!this.#broker?.publish(topic, payload, qos, false)) this.#queue.push({ kind, topic, payload, qos });
  }

  #topic(kind: 'status' | 'metrics' | 'events' | 'cmd' | 'cmd/result'): string {
    return topicFor(this.#d.settings.topicPrefix, this.#node, kind);
  }

  #safely(what: string, f: () => void): void {
    try {
      f();
    } catch (e) {
      this.#d.log.warn(`mgmt: ${what} not published`, { error: (e as Error).message });
    }
  }
}

/** The manager's settings from the validated `mgmt` config section. */
export function mgmtSettingsFromConfig(c: MgmtConfig): MgmtSettings {
  return {
    brokerUrl: c.brokerUrl,
    username: c.username,
    password: c.password,
    tlsCa: c.tlsCa,
    tlsCert: c.tlsCert,
    tlsKey: c.tlsKey,
    operators: c.operator.map((h) => hexToBytes(h)),
    metricsIntervalMs: c.metricsIntervalMs,
    metricsPort: c.metricsPort,
    topicPrefix: c.topicPrefix,
  };
}
