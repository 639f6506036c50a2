// In-process nodes (TestNode + MgmtManager, each with its own MQTT connection), an
// observer client, and a TCP relay whose sockets a test can cut to make a node vanish
// without a clean DISCONNECT (so the broker sends its last will).
import { randomBytes } from 'node:crypto';
import { createServer, createConnection, type Server, type Socket } from 'node:net';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { connectAsync, type MqttClient } from 'mqtt';
import { UsageError, type Command, type CommandContext } from '../../src/cli/command.js';
import { loadConfig } from '../../src/config/load.js';
import { BitmeshError } from '../../src/core/errors.js';
import { createLogger, type Logger } from '../../src/agent/log.js';
import { Crypto } from '../../src/crypto/facade.js';
import { nodeIdToBech32 } from '../../src/core/wire/node-id.js';
import { commandBody, signCommand, type MgmtCommand } from '../../src/mgmt/command.js';
import { MgmtManager, type MgmtSettings } from '../../src/mgmt/manager.js';
import { TestNode } from '../../src/mgmt/managed-node.test-support.js';
import type { BackoffOptions } from '../../src/mgmt/reconnect.js';

export const crypto = new Crypto();

export function keyPair(seed: number): { sk: Uint8Array; pub: Uint8Array; bech32: string } {
  const sk = new Uint8Array(32);
  new DataView(sk.buffer).setUint32(28, seed + 1);
  const pub = crypto.schnorrPublicKey(sk);
  return { sk, pub, bech32: nodeIdToBech32(pub) };
}

export const nodePassword = (id: string) => `pw-${id.slice(-8)}`;

export interface RunningNode {
  readonly node: TestNode;
  readonly manager: MgmtManager;
  readonly logs: string[];
  stop(): Promise<void>;
}

export async function startNode(p: {
  seed: number;
  url: string;
  operators: readonly Uint8Array[];
  configFile?: string;
  metricsIntervalMs?: number;
  metricsPort?: number;
  backoff?: Partial<BackoffOptions>;
}): Promise<RunningNode> {
  const k = keyPair(p.seed);
  const logs: string[] = [];
  const log: Logger = createLogger({ level: 'debug', target: 'syslog', write: (l) => logs.push(l) });
  const node = new TestNode(k.pub, { ...(p.configFile && { configFile: p.configFile }), crypto });
  const settings: MgmtSettings = {
    brokerUrl: p.url,
    username: k.bech32,
    password: nodePassword(k.bech32),
    tlsCa: '',
    tlsCert: '',
    tlsKey: '',
    operators: p.operators,
    metricsIntervalMs: p.metricsIntervalMs ?? 1000,
    metricsPort: p.metricsPort ?? 0,
    topicPrefix: 'bitmesh',
  };
  const manager = new MgmtManager({ node, nodeId: k.pub, crypto, log, settings, ...(p.backoff && { backoff: p.backoff }) });
  await manager.start();
  return { node, manager, logs, stop: () => manager.stop() };
}

/** A client that records every message on its subscriptions. */
export class Observer {
  readonly messages: { topic: string; text: string; retain: boolean; at: number }[] = [];
  private constructor(readonly client: MqttClient) {
    client.on('message', (topic, payload, packet) =>
      this.messages.push({ topic, text: payload.toString(), retain: packet.retain, at: Date.now() }),
    );
  }
  static async connect(url: string, username: string, password: string, topics: string[]): Promise<Observer> {
    const client = await connectAsync(url, { username, password, reconnectPeriod: 0, clean: true, connectTimeout: 5000 });
    const o = new Observer(client);
    await client.subscribeAsync(topics, { qos: 1 });
    return o;
  }
  on(topic: string): { text: string; retain: boolean; at: number }[] {
    return this.messages.filter((m) => m.topic === topic);
  }
  async close(): Promise<void> {
    await this.client.endAsync(true);
  }
}

export { waitFor } from '../../scripts/testing/wait-for.js';

export function signed(
  command: MgmtCommand,
  o: { to: Uint8Array; signerSk: Uint8Array; op?: Uint8Array; ts?: number; exp?: number; nonce?: Uint8Array },
): Uint8Array {
  const ts = o.ts ?? Date.now();
  const nonce = o.nonce ?? new Uint8Array(randomBytes(16));
  const op = o.op ?? crypto.schnorrPublicKey(o.signerSk);
  return signCommand(crypto, commandBody(command, { to: o.to, op, ts, exp: o.exp ?? ts + 60_000, nonce }), o.signerSk, new Uint8Array(32));
}

/** A TCP relay to the broker; cut() drops every connection and stops accepting. */
export class Relay {
  readonly #sockets = new Set<Socket>();
  private constructor(
    readonly server: Server,
    readonly port: number,
  ) {}
  static async start(target: number): Promise<Relay> {
    const server = createServer((a) => {
      const b = createConnection({ host: '127.0.0.1', port: target });
      a.pipe(b).pipe(a);
      const close = () => {
        a.destroy();
        b.destroy();
      };
      a.on('error', close).on('close', close);
      b.on('error', close).on('close', close);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const relay = new Relay(server, (server.address() as { port: number }).port);
    server.on('connection', (s) => relay.#sockets.add(s));
    return relay;
  }
  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }
  cut(): void {
    this.server.close();
    for (const s of this.#sockets) s.destroy();
  }
}

/**
 * Run one CLI command as src/cli/main.ts would (common options, exit codes), for
 * commands the lead has not registered in main.ts yet.
 */
export async function runCli(cmd: Command, argv: readonly string[], io: { out: (t: string) => void; err: (t: string) => void }): Promise<number> {
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...argv],
        options: { config: { type: 'string' }, 'state-dir': { type: 'string' }, json: { type: 'boolean' }, ...cmd.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const values = parsed.values as CommandContext['values'];
    const configPath = path.resolve((values['config'] as string | undefined) ?? '/nonexistent/bitmesh');
    const ctx: CommandContext = {
      configPath,
      loadConfig: () => loadConfig(configPath),
      stateDir: (c) => c.agent.stateDir,
      json: values['json'] === true,
      values,
      positionals: parsed.positionals,
      out: io.out,
      err: io.err,
    };
    return await cmd.run(ctx);
  } catch (e) {
    io.err(`bitmesh ${cmd.name}: ${(e as Error).message}`);
    if (e instanceof UsageError) return 2;
    return e instanceof BitmeshError && e.code.startsWith('config') ? 2 : 1;
  }
}
