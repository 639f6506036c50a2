// The gateway's metered SOCKS5 relay: the `proxy` data-plane backend (DESIGN §7).
//
// Inbound flow, one TCP connection:
//   1. accept (refused over `maxConnections`); handshake deadline starts
//   2. greeting → username/password: username = channel id (64 hex), password = the
//      credential; `authorize(channelId, password)` decides (the channel manager)
//   3. CONNECT request: refused (0x02) when the channel has no grant, is revoked or is
//      at `maxConnectionsPerChannel`; other commands 0x07
//   4. dial the destination; the connected address must pass `allowDestination`
//   5. reply, then splice both sockets through the channel's account: bytes both ways
//      count against the one allowance; at the allowance every socket of the channel
//      stops reading (nothing dropped) until a grant raises it
// Usage goes to `onUsage(channelId, deltaBytes)` in batches (every `usageIntervalMs`,
// and right away when an allowance runs out).
//
// The client's FIN ends a connection: the relay stops reading the destination, drops
// what it had not let through, flushes what it had (and billed) and ends, so the
// client endpoint, which keeps reading until then, counts every billed byte too.
//
// Revoke holds the channel's connections paused, like an exhausted allowance, and
// refuses new ones until the next grant: a client that pays late resumes where it
// stood, and the idle timeout reclaims connections of a client that never comes back.
// Remove and stop close them.
import net from 'node:net';
import type { ClientRef, DataplaneBackend, Usage } from '../backend.js';
import { LocalError } from '../../core/errors.js';
import { ChannelAccount } from './channel-account.js';
import { endWith } from './end-with.js';
import { publicDestinationsOnly } from './destination-policy.js';
import type { DestinationPolicy } from './destination-policy.js';
import { Splice } from './metered-splice.js';
import { addressFromHost, addressHost, encodeReply, Reply } from './socks5.js';
import type { ReplyCode, Socks5Request } from './socks5.js';
import { refusalReply, ServerHandshake } from './socks5-handshake.js';
import type { ServerEvent } from './socks5-handshake.js';
import { UsageBatcher } from './usage-batcher.js';
import { sweepIdle } from './idle-sweep.js';

export interface RelayLimits {
  /** Open client connections, handshaking or spliced. */
  readonly maxConnections: number;
  readonly maxConnectionsPerChannel: number;
  /** From accept to our reply to the request. */
  readonly handshakeTimeoutMs: number;
  readonly connectTimeoutMs: number;
  /** A connection that moved no byte for this long is closed (also when held). */
  readonly idleTimeoutMs: number;
}

export const DEFAULT_RELAY_LIMITS: RelayLimits = {
  maxConnections: 1024,
  maxConnectionsPerChannel: 128,
  handshakeTimeoutMs: 10_000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
};

export interface RelayServerOptions {
  /** Bind address (default 0.0.0.0: the relay serves the mesh). */
  readonly host?: string;
  /** Default 0: any free port (see `port()`). */
  readonly port?: number;
  /** Does this password open this channel? The channel manager decides. Throwing = no. */
  readonly authorize: (channelId: string, password: Uint8Array) => boolean | Promise<boolean>;
  /** Bytes used since the last report, both directions summed. */
  readonly onUsage?: (channelId: string, deltaBytes: number) => void;
  /** Where the relay may connect; default `publicDestinationsOnly`. */
  readonly allowDestination?: DestinationPolicy;
  readonly limits?: Partial<RelayLimits>;
  /** Usage reports at most this often (default 10 ms). */
  readonly usageIntervalMs?: number;
}

export class RelayStateError extends LocalError {}

const CHANNEL_ID = /^[0-9a-f]{64}$/;

export class RelayServer implements DataplaneBackend {
  readonly name = 'proxy' as const;
  readonly #opts: RelayServerOptions;
  readonly #limits: RelayLimits;
  readonly #allow: DestinationPolicy;
  readonly #accounts = new Map<string, ChannelAccount>();
  readonly #sockets = new Set<net.Socket>();
  readonly #batcher: UsageBatcher;
  #server: net.Server | undefined;
  #sweep: NodeJS.Timeout | undefined;

  constructor(opts: RelayServerOptions) {
    this.#opts = opts;
    this.#limits = { ...DEFAULT_RELAY_LIMITS, ...opts.limits };
    this.#allow = opts.allowDestination ?? publicDestinationsOnly;
    this.#batcher = new UsageBatcher(opts.usageIntervalMs ?? 10);
  }

  async start(): Promise<void> {
    if (this.#server) throw new RelayStateError('relay_started', 'relay already started');
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true }, (s) => this.#accept(s));
    this.#server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#opts.port ?? 0, this.#opts.host ?? '0.0.0.0', () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => undefined); // after listen: accept errors (EMFILE) are not fatal
    const every = Math.max(10, Math.floor(this.#limits.idleTimeoutMs / 4));
    this.#sweep = setInterval(() => this.#sweepIdle(), every);
    this.#sweep.unref();
  }

  /** The bound port (after start). */
  port(): number {
    const a = this.#server?.address();
    if (!a || typeof a === 'string') throw new RelayStateError('relay_not_started', 'relay not listening');
    return a.port;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = undefined;
    if (this.#sweep) clearInterval(this.#sweep);
    for (const s of this.#sockets) s.destroy();
    for (const a of this.#accounts.values()) a.closeAll();
    this.#batcher.flush();
    this.#accounts.clear();
    if (server) await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async grant(client: ClientRef, totalBytes: number): Promise<void> {
    if (!Number.isSafeInteger(totalBytes) || totalBytes < 0) throw new RelayStateError('bad_grant', `grant of ${totalBytes} bytes`);
    this.#account(client.channelId, true)!.grant(totalBytes);
  }

  async revoke(channelId: string): Promise<void> {
    this.#accounts.get(channelId)?.revoke();
  }

  async usage(channelId: string): Promise<Usage | undefined> {
    return this.#accounts.get(channelId)?.usage();
  }

  async remove(channelId: string): Promise<void> {
    const a = this.#accounts.get(channelId);
    if (!a) return;
    this.#accounts.delete(channelId);
    a.closeAll();
    a.reportUsage();
  }

  /** Open connections (all channels, handshaking included) — for status and tests. */
  get connectionCount(): number {
    return this.#sockets.size;
  }

  #account(channelId: string, create: boolean): ChannelAccount | undefined {
    let a = this.#accounts.get(channelId);
    if (!a && create) {
      a = new ChannelAccount(channelId, this.#batcher, (id, d) => this.#opts.onUsage?.(id, d));
      this.#accounts.set(channelId, a);
    }
    return a;
  }

  #accept(sock: net.Socket): void {
    if (!this.#server || this.#sockets.size >= this.#limits.maxConnections) {
      sock.destroy();
      return;
    }
    this.#sockets.add(sock);
    sock.on('close', () => this.#sockets.delete(sock));
    sock.on('error', () => sock.destroy());
    sock.setNoDelay(true);
    const deadline = setTimeout(() => sock.destroy(), this.#limits.handshakeTimeoutMs);
    const hs = new ServerHandshake('userpass');
    let channelId = '';

    const handle = (events: ServerEvent[]): void => {
      for (const e of events) {
        if (sock.destroyed) return;
        switch (e.type) {
          case 'send':
            sock.write(e.bytes);
            break;
          case 'failed':
            clearTimeout(deadline);
            sock.off('data', onData);
            if (e.send) endWith(sock, e.send);
            else sock.destroy();
            return;
          case 'credentials': {
            const id = Buffer.from(e.username).toString('latin1');
            if (!CHANNEL_ID.test(id)) {
              handle(hs.authorized(false));
              return;
            }
            channelId = id;
            sock.pause();
            let verdict: Promise<boolean>;
            try {
              verdict = Promise.resolve(this.#opts.authorize(id, e.password));
            } catch {
              verdict = Promise.resolve(false);
            }
            verdict
              .catch(() => false)
              .then((ok) => {
                if (sock.destroyed) return;
                handle(hs.authorized(ok === true));
                if (!sock.destroyed && hs.phase === 'request') sock.resume();
              });
            return;
          }
          case 'request':
            sock.off('data', onData);
            sock.pause();
            this.#connect(sock, channelId, e.request, e.rest, deadline);
            return;
        }
      }
    };
    const onData = (chunk: Buffer): void => handle(hs.receive(chunk));
    sock.on('data', onData);
    sock.resume();
  }

  #connect(sock: net.Socket, channelId: string, req: Socks5Request, early: Uint8Array, deadline: NodeJS.Timeout): void {
    const refuse = (rep: ReplyCode): void => {
      clearTimeout(deadline);
      endWith(sock, refusalReply(rep));
    };
    if (req.command !== 'connect') return refuse(Reply.commandNotSupported);
    const account = this.#accounts.get(channelId);
    if (!account || account.revoked || account.connections >= this.#limits.maxConnectionsPerChannel) return refuse(Reply.notAllowed);
    if (req.port === 0) return refuse(Reply.hostUnreachable);

    // The handshake deadline keeps running until the destination answers.
    account.dialling++;
    let dialling = true;
    const done = (): void => {
      if (dialling) account.dialling--;
      dialling = false;
    };
    const up = net.connect({ host: addressHost(req.address), port: req.port, allowHalfOpen: true });
    const timer = setTimeout(() => up.destroy(Object.assign(new Error('connect timeout'), { code: 'ETIMEDOUT' })), this.#limits.connectTimeoutMs);
    sock.once('close', () => {
      if (!dialling) return;
      done();
      clearTimeout(timer);
      up.destroy();
    });
    up.on('error', (err: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      if (!dialling) return;
      done();
      if (!sock.destroyed) refuse(replyForDialError(err.code));
    });
    up.once('connect', () => {
      clearTimeout(timer);
      clearTimeout(deadline);
      done();
      const current = this.#accounts.get(channelId);
      if (sock.destroyed || current !== account || account.revoked) {
        up.destroy();
        if (!sock.destroyed) endWith(sock, refusalReply(Reply.notAllowed));
        return;
      }
      if (!this.#allow(up.remoteAddress ?? '', up.remotePort ?? 0)) {
        up.destroy();
        endWith(sock, refusalReply(Reply.notAllowed));
        return;
      }
      up.setNoDelay(true);
      const bound = addressFromHost(up.localAddress ?? '') ?? { kind: 'ipv4' as const, bytes: new Uint8Array(4) };
      sock.write(encodeReply({ reply: Reply.succeeded, address: bound, port: up.localPort ?? 0 }));
      // The client's FIN means its application is gone (the client endpoint holds a
      // half-close back): stop, so what we bill is what reaches the client.
      const splice = new Splice(sock, up, account, (s) => account.splices.delete(s), { clientEnd: 'finish' });
      account.splices.add(splice);
      splice.start(early, undefined, account.exhausted);
    });
  }

  #sweepIdle(): void {
    for (const a of this.#accounts.values()) sweepIdle(a.splices, Date.now(), this.#limits.idleTimeoutMs);
  }
}

function replyForDialError(code: string | undefined): ReplyCode {
  switch (code) {
    case 'ECONNREFUSED':
      return Reply.connectionRefused;
    case 'ENETUNREACH':
      return Reply.networkUnreachable;
    case 'EHOSTUNREACH':
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
    case 'ETIMEDOUT':
      return Reply.hostUnreachable;
    default:
      return Reply.generalFailure;
  }
}
