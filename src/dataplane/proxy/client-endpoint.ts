// The client's local SOCKS5 endpoint (proxy mode, DESIGN §7): local applications
// connect to 127.0.0.1:port without authentication, and each connection is carried
// to the relay of the gateway currently awarded, as that gateway's channel.
//
// One connection:
//   1. local greeting (no-auth) and CONNECT request; other commands 0x07
//   2. `currentRoute()` names the relay and the channel; none → 0x03 (network
//      unreachable) and close
//   3. dial the relay and send greeting, username/password (channel id, credential)
//      and the request in one write; the relay's reply is passed to the application
//      (a refused request keeps its code, refused credentials become 0x02, an
//      unreachable relay 0x03)
//   4. splice, counting bytes per channel: `onUsage(channelId, delta)` feeds the payer
//      machine's `metered` input (batched like the relay's)
//   5. end: the application's FIN is held back until the download has ended (to the
//      relay a FIN means the application is gone). When the application closes or
//      resets first (an aborted download), the relay connection is half-closed, not
//      reset, and read on — counted, dropped — until the relay ends (bounded by
//      `drainMaxBytes` / `drainTimeoutMs`): the bytes the gateway had already sent and
//      billed are paid for instead of stranded, which would part the two meters.
// A route change affects new connections only; `closeChannel` ends the old ones.
import net from 'node:net';
import type { Usage } from '../backend.js';
import { LocalError } from '../../core/errors.js';
import { endWith } from './end-with.js';
import { sweepIdle } from './idle-sweep.js';
import { Splice } from './metered-splice.js';
import type { SpliceMeter } from './metered-splice.js';
import { encodeReply, Reply } from './socks5.js';
import type { ReplyCode, Socks5Request } from './socks5.js';
import { ClientHandshake, refusalReply, ServerHandshake } from './socks5-handshake.js';
import type { ServerEvent } from './socks5-handshake.js';
import { UsageBatcher } from './usage-batcher.js';
import type { UsageSource } from './usage-batcher.js';

/** Where new connections go: the awarded gateway's relay and the channel paying it. */
export interface RelayRoute {
  readonly host: string;
  readonly port: number;
  /** Channel id, 64 hex characters: the relay's username. */
  readonly channelId: string;
  /** The credential the relay's `authorize` checks (1–255 bytes). */
  readonly password: Uint8Array;
}

export interface ClientEndpointLimits {
  readonly maxConnections: number;
  /** From accept until the relay's reply reached the application. */
  readonly handshakeTimeoutMs: number;
  readonly idleTimeoutMs: number;
  /** After the application went: read (and count) at most this much more from the relay… */
  readonly drainMaxBytes: number;
  /** …for at most this long, then reset. */
  readonly drainTimeoutMs: number;
}

export const DEFAULT_CLIENT_ENDPOINT_LIMITS: ClientEndpointLimits = {
  maxConnections: 512,
  handshakeTimeoutMs: 15_000,
  idleTimeoutMs: 300_000,
  drainMaxBytes: 16 << 20,
  drainTimeoutMs: 10_000,
};

export interface ClientEndpointOptions {
  /** Default 127.0.0.1: the endpoint has no authentication, keep it local. */
  readonly host?: string;
  /** Default 0: any free port (see `port()`). */
  readonly port?: number;
  /** Asked once per new connection. */
  readonly currentRoute: () => RelayRoute | undefined;
  /** Bytes carried since the last report: up = sent to the relay, down = received from it. */
  readonly onUsage?: (channelId: string, delta: Usage) => void;
  /**
   * The relay's host refused the TCP connection: nothing listens there, the gateway's
   * agent is not running. Its client need not wait for a stall to fail over.
   */
  readonly onRelayRefused?: (channelId: string) => void;
  readonly limits?: Partial<ClientEndpointLimits>;
  /** Usage reports at most this often (default 10 ms). */
  readonly usageIntervalMs?: number;
}

export class ClientEndpointStateError extends LocalError {}

/** Counts one channel's bytes on the client; never holds anything back. */
class ChannelCounter implements SpliceMeter, UsageSource {
  up = 0;
  down = 0;
  #upDelta = 0;
  #downDelta = 0;
  #dirty = false;
  readonly splices = new Set<Splice>();
  readonly exhausted = false;

  constructor(
    readonly channelId: string,
    private readonly batcher: UsageBatcher,
    private readonly report: (channelId: string, delta: Usage) => void,
  ) {}

  admit(up: boolean, want: number): number {
    if (up) {
      this.up += want;
      this.#upDelta += want;
    } else {
      this.down += want;
      this.#downDelta += want;
    }
    if (!this.#dirty) {
      this.#dirty = true;
      this.batcher.mark(this);
    }
    return want;
  }

  reportUsage(): void {
    this.#dirty = false;
    const upBytes = this.#upDelta;
    const downBytes = this.#downDelta;
    this.#upDelta = 0;
    this.#downDelta = 0;
    if (upBytes + downBytes > 0) this.report(this.channelId, { upBytes, downBytes, totalBytes: upBytes + downBytes });
  }
}

export class ClientEndpoint {
  readonly #opts: ClientEndpointOptions;
  readonly #limits: ClientEndpointLimits;
  readonly #counters = new Map<string, ChannelCounter>();
  readonly #sockets = new Set<net.Socket>();
  readonly #batcher: UsageBatcher;
  #server: net.Server | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(opts: ClientEndpointOptions) {
    this.#opts = opts;
    this.#limits = { ...DEFAULT_CLIENT_ENDPOINT_LIMITS, ...opts.limits };
    this.#batcher = new UsageBatcher(opts.usageIntervalMs ?? 10);
  }

  async start(): Promise<void> {
    if (this.#server) throw new ClientEndpointStateError('endpoint_started', 'endpoint already started');
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.#accept(s));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port ?? 0, this.#opts.host ?? '127.0.0.1', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined);
    const every = Math.max(10, Math.floor(this.#limits.idleTimeoutMs / 4));
    this.#sweep = setInterval(() => {
      for (const c of this.#counters.values()) sweepIdle(c.splices, Date.now(), this.#limits.idleTimeoutMs);
    }, every);
    this.#sweep.unref();
  }

  port(): number {
    const a = this.#server?.address();
    if (!a || typeof a === 'string') throw new ClientEndpointStateError('endpoint_not_started', 'endpoint not listening');
    return a.port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (this.#sweep) clearInterval(this.#sweep);
    for (const s of this.#sockets) s.destroy();
    for (const c of this.#counters.values()) for (const s of c.splices) s.destroy();
    this.#batcher.flush();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Bytes carried for a channel since this endpoint started. */
  usage(channelId: string): Usage | undefined {
    const c = this.#counters.get(channelId);
    return c && { upBytes: c.up, downBytes: c.down, totalBytes: c.up + c.down };
  }

  /** Closes the channel's connections (e.g. after switching gateways) and forgets its counts. */
  closeChannel(channelId: string): void {
    const c = this.#counters.get(channelId);
    if (!c) return;
    for (const s of c.splices) s.destroy();
    c.reportUsage();
    this.#counters.delete(channelId);
  }

  get connectionCount(): number {
    return this.#sockets.size;
  }

  #accept(local: net.Socket): void {
    if (!this.#server || this.#sockets.size >= this.#limits.maxConnections) {
      local.destroy();
      return;
    }
    this.#sockets.add(local);
    local.on('close', () => this.#sockets.delete(local));
    local.on('error', () => local.destroy());
    local.setNoDelay(true);
    const deadline = setTimeout(() => local.destroy(), this.#limits.handshakeTimeoutMs);
    const hs = new ServerHandshake('none');
    const handle = (events: ServerEvent[]): void => {
      for (const e of events) {
        if (local.destroyed) return;
        if (e.type === 'send') {
          local.write(e.bytes);
        } else if (e.type === 'failed') {
          clearTimeout(deadline);
          local.off('data', onData);
          if (e.send) endWith(local, e.send);
          else local.destroy();
          return;
        } else if (e.type === 'request') {
          local.off('data', onData);
          local.pause();
          this.#forward(local, e.request, e.rest, deadline);
          return;
        }
        // 'credentials' cannot happen: this server offers no-auth only.
      }
    };
    const onData = (chunk: Buffer): void => handle(hs.receive(chunk));
    local.on('data', onData);
    local.resume();
  }

  #forward(local: net.Socket, req: Socks5Request, early: Uint8Array, deadline: NodeJS.Timeout): void {
    const refuse = (rep: ReplyCode): void => {
      clearTimeout(deadline);
      if (!local.destroyed) endWith(local, refusalReply(rep));
    };
    if (req.command !== 'connect') return refuse(Reply.commandNotSupported);
    const route = this.#opts.currentRoute();
    if (!route) return refuse(Reply.networkUnreachable);

    const relay = net.connect({ host: route.host, port: route.port, allowHalfOpen: true });
    const hs = new ClientHandshake({ username: Buffer.from(route.channelId, 'latin1'), password: route.password }, req);
    let handshaking = true;
    local.once('close', () => {
      if (handshaking) relay.destroy();
    });
    relay.on('error', (err: NodeJS.ErrnoException) => {
      relay.destroy();
      if (!handshaking) return;
      refuse(Reply.networkUnreachable);
      if (err.code === 'ECONNREFUSED') this.#opts.onRelayRefused?.(route.channelId);
    });
    relay.once('close', () => {
      if (handshaking) refuse(Reply.networkUnreachable);
    });
    relay.once('connect', () => {
      relay.setNoDelay(true);
      relay.write(hs.start());
    });
    const onData = (chunk: Buffer): void => {
      for (const e of hs.receive(chunk)) {
        handshaking = false;
        relay.off('data', onData);
        if (e.type === 'failed') {
          relay.destroy();
          refuse(e.error.code === 'socks5_auth_refused' ? Reply.notAllowed : e.reply ?? Reply.generalFailure);
          return;
        }
        clearTimeout(deadline);
        relay.pause();
        if (local.destroyed) {
          relay.destroy();
          return;
        }
        local.write(encodeReply(e.reply));
        const counter = this.#counter(route.channelId);
        const splice = new Splice(local, relay, counter, (s) => counter.splices.delete(s), {
          clientEnd: 'hold',
          drain: { maxBytes: this.#limits.drainMaxBytes, maxMs: this.#limits.drainTimeoutMs },
        });
        counter.splices.add(splice);
        splice.start(early, e.rest);
      }
    };
    relay.on('data', onData);
  }

  #counter(channelId: string): ChannelCounter {
    let c = this.#counters.get(channelId);
    if (!c) {
      c = new ChannelCounter(channelId, this.#batcher, (id, d) => this.#opts.onUsage?.(id, d));
      this.#counters.set(channelId, c);
    }
    return c;
  }
}
