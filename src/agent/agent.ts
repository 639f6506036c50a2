// The composition root: wires the pure core to its adapters (UDP, control socket,
// clock, randomness) and owns the agent's lifecycle. Nothing here decides protocol
// questions; it moves events in and effects out.
//
// Timers (one real timer, re-armed after every event, as quinn's drive_timer):
//   helloDue        — time to beacon HELLO (interval ± 10 % jitter, so nodes that
//                     booted together do not beacon in lockstep)
//   neighbourExpiry — the least recently heard neighbour passes neighbour_expiry_ms
import { randomBytes } from 'node:crypto';
import type { BitmeshConfig } from '../config/schema.js';
import { ROLE_CLIENT, ROLE_GATEWAY, type Message } from '../core/wire/messages.js';
import { Crypto } from '../crypto/facade.js';
import { ControlPlane } from '../mesh/control-plane.js';
import { NeighbourTable } from '../mesh/neighbour-table.js';
import { UdpTransport, type Endpoint } from '../mesh/udp-transport.js';
import { nodeIdToBech32 } from '../core/wire/node-id.js';
import { ControlServer } from './control-server.js';
import type { Identity } from './identity.js';
import type { Logger } from './log.js';
import { RemoteError } from '../core/errors.js';
import { AGENT_VERSION } from './version.js';
import { LinkMonitor } from './link-monitor.js';
import { createLinkQualitySource } from '../mesh/linkquality/select.js';

export interface AgentDeps {
  /** Validated config; `agent.stateDir` and `agent.controlSocket` are final paths. */
  readonly config: BitmeshConfig;
  readonly identity: Identity;
  readonly crypto: Crypto;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly random?: (n: number) => Uint8Array;
}

const GARBAGE_WINDOW_MS = 10_000;

export class Agent {
  readonly #deps: AgentDeps;
  readonly #clock: () => number;
  readonly #random: (n: number) => Uint8Array;
  readonly #plane: ControlPlane;
  readonly #neighbours: NeighbourTable;
  readonly #transport: UdpTransport;
  readonly #control: ControlServer;
  readonly #links: LinkMonitor | undefined;
  readonly #roles: number;
  readonly #startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #helloDue = 0;
  #helloSeq = 0;
  #firstHelloAt: number | undefined;
  #stopping = false;

  constructor(deps: AgentDeps) {
    this.#deps = deps;
    this.#clock = deps.clock ?? Date.now;
    this.#random = deps.random ?? ((n) => new Uint8Array(randomBytes(n)));
    this.#startedAt = this.#clock();
    const { mesh, agent } = deps.config;
    this.#roles = agent.role === 'gateway' ? ROLE_GATEWAY : agent.role === 'client' ? ROLE_CLIENT : ROLE_GATEWAY | ROLE_CLIENT;
    this.#plane = new ControlPlane(
      deps.crypto,
      { crypto: deps.crypto, secretKey: deps.identity.secretKey, auxRand: () => this.#random(32) },
      {
        guard: {
          ratePerSec: mesh.peerRatePerS,
          burst: mesh.peerBurst,
          garbageThreshold: mesh.garbageBanThreshold,
          garbageWindowMs: GARBAGE_WINDOW_MS,
          banMs: mesh.banMs,
          maxPeers: Math.max(64, mesh.maxNeighbours * 4),
        },
        replayCapacity: mesh.replayCacheSize,
        clockSkewMs: mesh.clockSkewMs,
      },
    );
    this.#neighbours = new NeighbourTable({ expiryMs: mesh.neighbourExpiryMs, maxEntries: mesh.maxNeighbours });
    this.#transport = new UdpTransport(
      {
        port: mesh.port,
        bindAddress: mesh.bindAddress,
        interfaces: mesh.interface,
        multicastGroup: mesh.multicastGroup,
        ipv4Broadcast: mesh.ipv4Broadcast,
        peers: mesh.peer.map((p) => ({ address: p.host, port: p.port })),
      },
      (data, from) => this.#onDatagram(data, from),
      (err) => deps.log.warn('udp socket error', { error: err.message }),
    );
    this.#control = new ControlServer(this.controlSocketPath, (cmd, args) => this.#onControl(cmd, args));
    if (mesh.linkQuality !== 'none') {
      const source = createLinkQualitySource(mesh.linkQuality, {
        meshIface: mesh.interface[0] ?? 'bat0',
        ...(mesh.linkQualityIface ? { iface: mesh.linkQualityIface } : {}),
      });
      this.#links = new LinkMonitor(source, this.#neighbours, mesh.linkQualityIntervalMs, this.#clock, deps.log);
    }
  }

  get controlSocketPath(): string {
    return this.#deps.config.agent.controlSocket;
  }

  async start(): Promise<void> {
    const { log, identity, config } = this.#deps;
    await this.#control.start();
    try {
      await this.#transport.start();
    } catch (e) {
      await this.#control.close();
      throw e;
    }
    log.info('agent started', {
      node: identity.idBech32,
      role: config.agent.role,
      port: this.#transport.port,
      bind: config.mesh.bindAddress || 'any',
      crypto: this.#deps.crypto.choice.name,
    });
    this.#sendHello(this.#clock());
    this.#arm();
    this.#links?.start();
  }

  /** SIGTERM path: stop timers, close sockets, flush state. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#links?.stop();
    await this.#transport.close();
    await this.#control.close();
    this.#deps.log.info('agent stopped');
  }

  // ---- events in ----

  #onDatagram(data: Uint8Array, from: Endpoint): void {
    if (this.#stopping) return;
    const now = this.#clock();
    const msg = this.#plane.receive(data, from, now);
    if (msg) this.#dispatch(msg, from, now);
  }

  #dispatch(msg: Message, from: Endpoint, now: number): void {
    switch (msg.type) {
      case 'HELLO': {
        const b = msg.body;
        if (Buffer.compare(b.sender, this.#deps.identity.id) === 0) return; // our own beacon, looped back
        const isNew = this.#neighbours.heard(b.sender, from.address, from.port, b.roles, b.seq, now);
        if (isNew) {
          this.#deps.log.info('neighbour up', { peer: nodeIdToBech32(b.sender), addr: `${from.address}:${from.port}` });
          // Answer a newcomer at once so discovery takes one round trip, not one interval.
          this.#transport.send(this.#helloBytes(now), from);
          this.#arm();
        }
        return;
      }
      default:
        // Market and channel messages are handled once those machines are wired in.
        return;
    }
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#stopping) return;
    const now = this.#clock();
    if (now >= this.#helloDue) this.#sendHello(now);
    for (const n of this.#neighbours.expire(now)) {
      this.#deps.log.info('neighbour down', { peer: nodeIdToBech32(n.idBytes), silentMs: now - n.lastSeen });
    }
    this.#arm();
  }

  #arm(): void {
    if (this.#stopping) return;
    if (this.#timer) clearTimeout(this.#timer);
    const now = this.#clock();
    const expiry = this.#neighbours.nextExpiry();
    const next = Math.min(this.#helloDue, expiry ?? Infinity);
    this.#timer = setTimeout(() => this.#onTimer(), Math.max(0, next - now));
  }

  // ---- effects out ----

  #helloBytes(now: number): Uint8Array {
    return this.#plane.encode('HELLO', {
      sender: this.#deps.identity.id,
      ts: now,
      nonce: this.#random(8),
      roles: this.#roles,
      seq: this.#helloSeq++,
    });
  }

  #sendHello(now: number): void {
    this.#transport.broadcast(this.#helloBytes(now));
    this.#firstHelloAt ??= now;
    const interval = this.#deps.config.mesh.helloIntervalMs;
    const jitter = ((this.#random(1)[0]! / 255) * 0.2 - 0.1) * interval;
    this.#helloDue = now + interval + jitter;
  }

  // ---- control socket ----

  #onControl(cmd: string, _args: Record<string, unknown>): unknown {
    switch (cmd) {
      case 'status':
        return this.status();
      case 'peers':
        return this.peers();
      case 'id':
        return { id: this.#deps.identity.idBech32, hex: this.#deps.identity.idHex };
      default:
        throw new RemoteError('unknown_command', `unknown control command '${cmd}'`);
    }
  }

  status(): StatusReport {
    const now = this.#clock();
    const mem = process.memoryUsage();
    const { config, identity, crypto } = this.#deps;
    return {
      node: {
        id: identity.idBech32,
        idHex: identity.idHex,
        role: config.agent.role,
        version: AGENT_VERSION,
        pid: process.pid,
        uptimeS: Math.round((now - this.#startedAt) / 1000),
        firstHelloAfterMs: this.#firstHelloAt === undefined ? null : this.#firstHelloAt - this.#startedAt,
      },
      mesh: {
        port: this.#transport.port,
        bind: config.mesh.bindAddress || 'any',
        interfaces: [...config.mesh.interface],
        neighbours: this.#neighbours.size,
        sendErrors: this.#transport.sendErrors,
        linkQuality: this.#links ? { source: config.mesh.linkQuality, ...structuredClone(this.#links.stats) } : null,
      },
      controlPlane: structuredClone(this.#plane.stats),
      peerGuard: {
        tracked: this.#plane.guard.size,
        banned: this.#plane.guard.banned(now).map((b) => ({ address: b.address, forMs: b.bannedUntil - now, rejects: b.rejects })),
      },
      replayCache: { entries: this.#plane.replay.size },
      crypto: crypto.choice,
      memory: { rssBytes: mem.rss, heapUsedBytes: mem.heapUsed },
    };
  }

  peers(): PeerReport[] {
    const now = this.#clock();
    return this.#neighbours.list().map((n) => ({
      id: nodeIdToBech32(n.idBytes),
      idHex: n.id,
      address: n.address,
      port: n.port,
      roles: rolesToNames(n.roles),
      lastSeenMsAgo: now - n.lastSeen,
      upForMs: now - n.firstSeen,
      hellos: n.hellos,
      linkQuality: n.link ? { quality: n.link.quality, source: n.link.source, ageMs: now - n.link.measuredAt } : null,
    }));
  }
}

export function rolesToNames(roles: number): string[] {
  const out: string[] = [];
  if (roles & ROLE_GATEWAY) out.push('gateway');
  if (roles & ROLE_CLIENT) out.push('client');
  return out;
}

export interface StatusReport {
  node: {
    id: string;
    idHex: string;
    role: string;
    version: string;
    pid: number;
    uptimeS: number;
    firstHelloAfterMs: number | null;
  };
  mesh: {
    port: number;
    bind: string;
    interfaces: string[];
    neighbours: number;
    sendErrors: number;
    linkQuality: ({ source: string } & LinkMonitor['stats']) | null;
  };
  controlPlane: ControlPlane['stats'];
  peerGuard: { tracked: number; banned: { address: string; forMs: number; rejects: number }[] };
  replayCache: { entries: number };
  crypto: { name: string; reason: string };
  memory: { rssBytes: number; heapUsedBytes: number };
}

export interface PeerReport {
  id: string;
  idHex: string;
  address: string;
  port: number;
  roles: string[];
  lastSeenMsAgo: number;
  upForMs: number;
  hellos: number;
  linkQuality: { quality: number; source: string; ageMs: number } | null;
}
