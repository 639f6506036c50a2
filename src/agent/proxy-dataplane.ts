// Proxy mode, wired: on a gateway the metered SOCKS5 relay listens on TCP at the same
// address and port number as the UDP control plane (so a client that knows a
// gateway's mesh endpoint knows its relay); on a client the local SOCKS5 endpoint
// forwards each new connection through the current route, presenting the channel id
// and a relay credential signed with the node key. Metered bytes flow back into the
// channel machines on both sides.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { BitmeshConfig } from '../config/schema.js';
import type { Crypto } from '../crypto/facade.js';
import { ClientEndpoint, type RelayRoute } from '../dataplane/proxy/client-endpoint.js';
import { anyDestination, publicDestinationsOnly } from '../dataplane/proxy/destination-policy.js';
import { RelayServer } from '../dataplane/proxy/relay-server.js';
import { makeRelayCredential, RELAY_CREDENTIAL_WINDOW_MS, verifyRelayCredential } from '../dataplane/relay-credential.js';
import type { ChannelManager } from './channel-manager.js';
import type { Identity } from './identity.js';

export interface Route {
  readonly channelId: string;
  readonly host: string;
  readonly port: number;
}

export interface ProxyDataplaneDeps {
  readonly config: BitmeshConfig;
  readonly identity: Identity;
  readonly crypto: Crypto;
  readonly clock: () => number;
  readonly random: (n: number) => Uint8Array;
  readonly channels: () => ChannelManager | undefined;
  /** Where new connections go now (the awarded gateway's channel), or nowhere. */
  readonly route: () => Route | undefined;
  /** Bytes received through a channel (client side), for the market's delivery view. */
  readonly onClientBytes?: (channelId: string, bytes: number) => void;
  /** Bytes the relay forwarded for clients (gateway side): the served load. */
  readonly onServed?: (bytes: number) => void;
  /** A gateway's relay refused a connection for this channel (client side): its agent is down. */
  readonly onRelayRefused?: (channelId: string) => void;
}

export class ProxyDataplane {
  readonly relay: RelayServer | undefined;
  readonly endpoint: ClientEndpoint | undefined;
  /** channelId → credential we present, and until when it is good. */
  readonly #creds = new Map<string, { password: Uint8Array; until: number }>();
  /** Verified credentials (hex) per channel, so one signature check covers the window. */
  readonly #verified = new Map<string, { key: string; until: number }>();

  constructor(private readonly d: ProxyDataplaneDeps) {
    const { agent, dataplane } = d.config;
    if (agent.role !== 'client') {
      this.relay = new RelayServer({
        host: d.config.mesh.bindAddress || '0.0.0.0',
        port: d.config.mesh.port,
        authorize: (id, pw) => this.#authorize(id, pw),
        onUsage: (id, delta) => {
          d.channels()?.metered(id, delta);
          d.onServed?.(delta);
        },
        allowDestination: dataplane.allowPrivateDestinations ? anyDestination : publicDestinationsOnly,
      });
    }
    if (agent.role !== 'gateway') {
      this.endpoint = new ClientEndpoint({
        host: dataplane.socksBind,
        port: dataplane.socksPort,
        currentRoute: () => this.#currentRoute(),
        onUsage: (id, u) => {
          d.channels()?.metered(id, u.totalBytes);
          d.onClientBytes?.(id, u.totalBytes);
        },
        onRelayRefused: (id) => d.onRelayRefused?.(id),
      });
    }
  }

  async start(): Promise<void> {
    await this.relay?.start();
    await this.endpoint?.start();
  }

  async stop(): Promise<void> {
    await this.endpoint?.stop();
    await this.relay?.stop();
  }

  #currentRoute(): RelayRoute | undefined {
    const r = this.d.route();
    if (!r) return undefined;
    const now = this.d.clock();
    let c = this.#creds.get(r.channelId);
    if (!c || c.until <= now) {
      const peer = this.d.channels()?.describe(r.channelId)?.peer;
      if (!peer) return undefined;
      const password = makeRelayCredential(this.d.crypto, this.d.identity.secretKey, hexToBytes(r.channelId), peer, now, this.d.random(32));
      c = { password, until: now + RELAY_CREDENTIAL_WINDOW_MS / 2 };
      this.#creds.set(r.channelId, c);
    }
    return { host: r.host, port: r.port, channelId: r.channelId, password: c.password };
  }

  #authorize(channelId: string, password: Uint8Array): boolean {
    const ch = this.d.channels()?.describe(channelId);
    if (!ch || ch.role !== 'payee' || ch.state !== 'Open') return false;
    const now = this.d.clock();
    const key = bytesToHex(password);
    const cached = this.#verified.get(channelId);
    if (cached && cached.key === key && cached.until > now) return true;
    const ok = verifyRelayCredential(this.d.crypto, ch.peer, hexToBytes(channelId), this.d.identity.id, password, now);
    if (ok) this.#verified.set(channelId, { key, until: now + RELAY_CREDENTIAL_WINDOW_MS / 2 });
    return ok;
  }
}
