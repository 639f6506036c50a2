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
import { AsyncCrypto, selectCryptoBackend } from '../crypto/select-backend.js';
import type { CommitmentCryptoStats } from './commitment-crypto.js';
import path from 'node:path';
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
import { ChainService } from './chain-service.js';
import { ChannelManager, ChannelCommandError } from './channel-manager.js';
import { StateStore } from './state-store.js';
import { Wallet } from '../chain/wallet.js';
import { parseNodeId } from '../core/wire/node-id.js';
import type { DataplaneBackend } from '../dataplane/backend.js';
import { ProxyDataplane, type Route } from './proxy-dataplane.js';
import { GatewayOffers, type UplinkProbeOptions } from './gateway-offers.js';
import { GatewayBidding, type GatewayBiddingStatus } from './gateway-bidding.js';
import { ClientAuction, type ClientAuctionStatus } from './client-auction.js';
import { checkReport, DEFAULT_REPORT_PROOF_MAX_AGE_MS } from '../core/market/report.js';
import type { ClientMarketOptions } from '../core/market/client-market.js';
import type { OfferBody } from '../core/wire/messages.js';
import { createLinkQualitySource } from '../mesh/linkquality/select.js';
import { AgentNode } from '../mgmt/agent-node.js';
import type { MgmtManager, MgmtStats } from '../mgmt/manager.js';

export interface AgentDeps {
  /** Validated config; `agent.stateDir` and `agent.controlSocket` are final paths. */
  readonly config: BitmeshConfig;
  readonly identity: Identity;
  readonly crypto: Crypto;
  readonly log: Logger;
  readonly clock?: () => number;
  readonly random?: (n: number) => Uint8Array;
  /** The UCI file the config came from; a remote `set_config` writes it. */
  readonly configPath?: string;
  /** What a remote `restart` does; default: stop cleanly, exit 75, procd respawns. */
  readonly onRestart?: () => void;
  /** Payee side data plane; absent: grants are recorded but nothing is forwarded. */
  readonly dataplane?: DataplaneBackend;
  /** The native crypto helper's path; absent: `bitmesh-helper` is looked for in PATH. */
  readonly helperPath?: string;
  /** Market settings the config file does not carry (yet). */
  readonly market?: AgentMarketOptions;
}

export interface AgentMarketOptions {
  /** Gateway: throughput probes of the uplink, so a gateway that has served nothing can bid. */
  readonly probe?: UplinkProbeOptions;
  /** Client: what it asks for in RFQs, kbit/s (default: as much as it can get). */
  readonly wantedKbps?: number;
  /** Client: auction tuning (terms, holds, grace); the core's defaults otherwise. */
  readonly client?: Partial<ClientMarketOptions>;
  /** Gateway: wraps the payee data plane; tests shape each gateway's "uplink" with it. */
  readonly shapeUplink?: (inner: DataplaneBackend) => DataplaneBackend;
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
  readonly #chain: ChainService | undefined;
  #walletCache: Wallet | undefined;
  readonly #store: StateStore;
  readonly #channels: ChannelManager | undefined;
  readonly #proxy: ProxyDataplane | undefined;
  #unroutable = 0;
  #chainStarting: Promise<void> | undefined;
  readonly #roles: number;
  readonly #startedAt: number;
  #timer: NodeJS.Timeout | undefined;
  #helloDue = 0;
  #helloSeq = 0;
  #firstHelloAt: number | undefined;
  #stopping = false;
  // Remote management (src/mgmt): the node's face to the operator, and the MQTT side.
  readonly #managed: AgentNode;
  readonly #offers: GatewayOffers | undefined;
  readonly #bidding: GatewayBidding | undefined;
  #auction: ClientAuction | undefined;
  /** Offers heard from gateways (hex id → latest), bounded by the neighbour table's size. */
  readonly #heardOffers = new Map<string, { offer: OfferBody; at: number }>();
  #mgmt: MgmtManager | undefined;
  /** Hot-path crypto (DESIGN §8): the helper when start() selected it, else noble. */
  #asyncCrypto = new AsyncCrypto({ backend: 'noble', reason: 'backend not selected yet' });

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
    // ---- chain, wallet, channels ----
    const storeDir = path.join(deps.config.agent.stateDir, 'channels');
    this.#store = new StateStore({
      dir: storeDir,
      minIntervalMs: deps.config.channel.persistIntervalMs,
      onPersisted: (key, version) => this.#channels?.onPersisted(key, version),
      onError: (key, err) => deps.log.error('state write failed', { key, error: err.message }),
    });
    // Proxy mode: the relay (gateway) is the payee side's data plane; the local SOCKS5
    // endpoint (client) follows the route. nft mode is passed in as deps.dataplane.
    if (deps.config.dataplane.backend === 'proxy' && deps.config.chain.backend !== 'none') {
      this.#proxy = new ProxyDataplane({
        config: deps.config,
        identity: deps.identity,
        crypto: deps.crypto,
        clock: this.#clock,
        random: this.#random,
        channels: () => this.#channels,
        route: () => this.#route(true),
        onServed: (bytes) => this.#offers?.served(bytes),
        onClientBytes: (id, bytes) => this.#auction?.onBytes(id, bytes),
        onRelayRefused: (id) => this.#auction?.onRelayRefused(id),
      });
    }
    const payeePlane = deps.dataplane ?? this.#proxy?.relay;
    const dataplane = payeePlane && deps.market?.shapeUplink ? deps.market.shapeUplink(payeePlane) : payeePlane;
    if (deps.config.chain.backend !== 'none') {
      this.#chain = new ChainService({ config: deps.config.chain, stateDir: deps.config.agent.stateDir, log: deps.log });
      this.#channels = new ChannelManager({
        config: deps.config,
        identity: deps.identity,
        crypto: deps.crypto,
        asyncCrypto: () => this.#asyncCrypto,
        log: deps.log,
        clock: this.#clock,
        random: this.#random,
        chain: this.#chain,
        wallet: () => this.#wallet,
        store: this.#store,
        storeDir,
        send: (to, message) => this.#sendTo(to, message),
        ...(dataplane ? { dataplane } : {}),
        onEvent: (ev) => {
          deps.log.info(`channel ${ev.name}`, { channel: ev.channelId.slice(0, 16), role: ev.role });
          if (ev.role === 'payer') this.#auction?.onChannelEvent(ev.channelId, ev.name);
          const kind =
            ev.name === 'accepted' || ev.name === 'fundingAccepted'
              ? 'channel_opened'
              : ev.name === 'closed' || ev.name === 'refunded' || ev.name === 'peerClosed'
                ? 'channel_closed'
                : ev.name === 'revoked'
                  ? 'client_cut_off'
                  : undefined;
          if (kind) this.#managed.emit(kind, { channel: ev.channelId, role: ev.role });
        },
      });
      this.#chain.onTip((h) => this.#channels?.onChainHeight(h));
    }
    // ---- remote management wiring ----
    this.#managed = new AgentNode({
      status: () => this.#baseStatus(),
      initialPriceMsatPerKiB: deps.config.market.priceMsatPerKib,
      configPath: deps.configPath,
      log: deps.log,
      clock: this.#clock,
      restart: deps.onRestart ?? (() => void this.stop().then(() => process.exit(75))),
      channelTotals: () => this.#channelTotals(),
      closeChannel: async (id) => {
        await this.#needChannels().close(id);
      },
      ...(this.#runsAuction ? { reauction: () => this.#auction?.reauction() } : {}),
    });
    if (deps.config.agent.role !== 'client') {
      this.#offers = new GatewayOffers({
        self: deps.identity.idHex,
        config: deps.config,
        clock: this.#clock,
        log: deps.log,
        price: () => this.#managed.priceMsatPerKiB,
        selling: () => this.#managed.selling,
        onProbed: () => this.#bidding?.retryUnanswered(),
        send: (offer) => {
          const now = this.#clock();
          this.#transport.broadcast(this.#plane.encode('OFFER', { sender: deps.identity.id, ts: now, nonce: this.#random(8), ...offer }));
        },
        ...(deps.market?.probe
          ? { probe: deps.market.probe }
          : deps.config.market.probeUrl
            ? { probe: { url: deps.config.market.probeUrl, intervalMs: deps.config.market.probeIntervalMs } }
            : {}),
      });
      const offers = this.#offers;
      this.#bidding = new GatewayBidding({
        self: deps.identity.idHex,
        clock: this.#clock,
        log: deps.log,
        estimate: (now) => offers.estimator.estimate(now),
        price: () => this.#managed.priceMsatPerKiB,
        selling: () => this.#managed.selling,
        sendBid: (to, body) => this.#sendSigned(to, 'BID', body),
        onEvent: (kind, details) => this.#managed.emit(kind, details),
        servedByClient: () => this.#channels?.servedByClient() ?? new Map(),
        options: { reserveMs: deps.config.market.reserveMs },
      });
      // A new price or a pause takes effect in the next OFFER, not at the next interval.
      this.#managed.onEvent((e) => {
        if (e.kind === 'price_changed' || e.kind === 'selling_paused' || e.kind === 'selling_resumed') this.#offers?.poke();
      });
    }
  }

  /**
   * Where the client's traffic goes: the awarded gateway's channel, else the gateway of
   * our newest open payer channel, at its mesh endpoint (same address and port number
   * as its UDP; the relay's in proxy mode). `ask`: the caller is a local connection
   * (demand for the auction), not the nft data plane polling.
   */
  #route(ask: boolean): Route | undefined {
    const awarded = this.#auction?.route(ask);
    if (awarded !== undefined) {
      const peer = this.#channels?.describe(awarded)?.peer;
      const n = peer && this.#neighbours.get(Buffer.from(peer).toString('hex'));
      if (n) return { channelId: awarded, host: n.address, port: n.port };
    }
    // No award in force (or no auction): any open payer channel to a neighbour, newest first.
    for (const ch of this.#channels?.openPayerChannels() ?? []) {
      const n = this.#neighbours.get(Buffer.from(ch.peer).toString('hex'));
      if (n) return { channelId: ch.id, host: n.address, port: n.port };
    }
    return undefined;
  }

  /**
   * The route the nft client data plane follows (the awarded channel first). Polling
   * it is not demand: the data plane reports traffic through onClientTraffic.
   */
  route(): Route | undefined {
    return this.#route(false);
  }

  /** nft client: bytes its kernel meter saw through a payer channel's gateway since the last call. */
  onClientTraffic(channelId: string, upBytes: number, downBytes: number): void {
    this.#auction?.onSent(upBytes);
    // Delivery is what came back: upstream bytes to a dead gateway are no delivery.
    this.#auction?.onBytes(channelId, downBytes);
  }

  /**
   * nft client: the payer channels to a gateway that failed are closed, so the route
   * (which falls back to any open channel) never leads back to it and it is paid no more.
   */
  #closeFailed(gatewayHex: string): void {
    const ch = this.#channels;
    for (const c of ch?.openPayerChannels() ?? []) {
      if (Buffer.from(c.peer).toString('hex') !== gatewayHex) continue;
      ch!.close(c.id).catch((e: Error) => this.#deps.log.warn('cannot close the failed gateway\'s channel', { channel: c.id.slice(0, 16), error: e.message }));
    }
  }

  /** nft mode: the kernel data plane was passed in (DESIGN §7). */
  get #nftClient(): boolean {
    return this.#deps.config.dataplane.backend === 'nft' && this.#deps.dataplane !== undefined;
  }

  /** A client with channels and a way to carry traffic (SOCKS5 endpoint, or nft) buys upstream by auction. */
  get #runsAuction(): boolean {
    return (
      this.#deps.config.agent.role !== 'gateway' &&
      this.#deps.config.chain.backend !== 'none' &&
      (this.#proxy?.endpoint !== undefined || this.#nftClient)
    );
  }

  /** Sends a signed market message to a neighbour (hex id); the header is added here. */
  #sendSigned<T extends 'BID' | 'AWARD'>(to: string, type: T, body: Omit<Extract<Message, { type: T }>['body'], 'sender' | 'ts' | 'nonce'>): void {
    const n = this.#neighbours.get(to);
    if (!n) {
      this.#unroutable++;
      return;
    }
    const full = { sender: this.#deps.identity.id, ts: this.#clock(), nonce: this.#random(8), ...body };
    this.#transport.send(this.#plane.encode(type, full as never), { address: n.address, port: n.port });
  }

  #startAuction(auction: ClientAuction): void {
    if (this.#stopping) return;
    this.#auction = auction;
    auction.start();
  }

  /** The local SOCKS5 endpoint's port (client side, proxy mode). */
  get socksPort(): number | undefined {
    return this.#proxy?.endpoint?.port();
  }

  /**
   * The wallet is the node key's own P2TR (BIP86) address: channel change and payee
   * closes pay back to it. Made on first use: the Taproot tweak loads curve tables an
   * idle mesh node does not need.
   */
  get #wallet(): Wallet {
    return (this.#walletCache ??= new Wallet(this.#deps.crypto, this.#deps.identity.secretKey, this.#deps.config.chain.network));
  }

  #channelTotals(): { earnedMsat: number; spentMsat: number; bytesSold: number; bytesBought: number; channelsOpen: number } {
    const t = this.#channels?.totals();
    return t
      ? { earnedMsat: t.earnedMsat, spentMsat: t.spentMsat, bytesSold: t.bytesSold, bytesBought: t.bytesBought, channelsOpen: t.channelsOpen }
      : { earnedMsat: 0, spentMsat: 0, bytesSold: 0, bytesBought: 0, channelsOpen: 0 };
  }

  /** The channel manager, for the data plane adapters (metered bytes in). */
  get channels(): ChannelManager | undefined {
    return this.#channels;
  }

  get controlSocketPath(): string {
    return this.#deps.config.agent.controlSocket;
  }

  async start(): Promise<void> {
    const { log, identity, config } = this.#deps;
    // The chain answers while the rest starts: a client's first channel waits on its tip.
    const chainUp = this.#chain?.start();
    chainUp?.catch(() => {}); // reported where it is awaited below
    await this.#selectCrypto();
    await this.#control.start();
    try {
      await this.#transport.start();
    } catch (e) {
      await this.#control.close();
      await this.#stopChain(chainUp);
      throw e;
    }
    log.info('agent started', {
      node: identity.idBech32,
      role: config.agent.role,
      port: this.#transport.port,
      bind: config.mesh.bindAddress || 'any',
      crypto: this.#asyncCrypto.name,
    });
    this.#sendHello(this.#clock());
    this.#arm();
    this.#links?.start();
    this.#offers?.start();
    try {
      await this.#proxy?.start();
    } catch (e) {
      await this.#proxy?.stop();
      await this.#transport.close();
      await this.#control.close();
      await this.#stopChain(chainUp);
      throw e;
    }
    if (this.#chain) {
      // The mesh runs without the chain; channels wait until it answers.
      this.#chainStarting = chainUp!.then(
        () => {
          log.info('chain ready', { tip: this.#chain?.tip ?? -1, afterMs: this.#clock() - this.#startedAt });
          return this.#channels?.start();
        },
        (e: Error) => log.error('chain backend unavailable: channels disabled', { url: config.chain.esploraUrl, error: e.message }),
      );
    }
    if (this.#runsAuction) {
      const endpoint = this.#proxy?.endpoint;
      const auction = await ClientAuction.create({
        self: identity.id,
        dir: path.join(config.agent.stateDir, 'market'),
        clock: this.#clock,
        rng: () => Buffer.from(this.#random(4)).readUInt32BE(0) / 2 ** 32,
        log,
        maxPriceMsatPerKiB: config.market.maxPriceMsatPerKib,
        wantedKbps: this.#deps.market?.wantedKbps ?? this.#deps.config.market.wantedKbps,
        options: { probeMs: config.market.clientProbeMs, probeDelayMaxMs: config.market.clientProbeDelayMaxMs, ...this.#deps.market?.client },
        ...(config.market.clientProbeUrl ? { probeUrl: config.market.clientProbeUrl } : {}),
        // Proxy mode: capacity probes take the SOCKS endpoint, as local connections do.
        probeVia: () => (endpoint ? { host: config.dataplane.socksBind, port: endpoint.port() } : undefined),
        sendRfq: (body) => {
          const now = this.#clock();
          this.#transport.broadcast(this.#plane.encode('RFQ', { sender: identity.id, ts: now, ...body }));
        },
        sendAward: (to, body) => this.#sendSigned(to, 'AWARD', body),
        // Broadcast like an RFQ: on bat0 a broadcast reaches the whole mesh segment.
        sendReport: (body) => {
          const full = { sender: identity.id, ts: this.#clock(), nonce: this.#random(8), ...body };
          this.#transport.broadcast(this.#plane.encode('REPORT', full));
        },
        checkReport: (report, now) =>
          checkReport(this.#deps.crypto, this.#plane.codec, report, now, { maxProofAgeMs: DEFAULT_REPORT_PROOF_MAX_AGE_MS, skewMs: config.mesh.clockSkewMs }),
        channels: () => this.#channels,
        offerOf: (g) => this.#heardOffers.get(g)?.offer,
        isNeighbour: (g) => this.#neighbours.get(g) !== undefined,
        lastHeard: (g) => this.#neighbours.get(g)?.lastSeen,
        // Three beacons missed: a dead gateway is dropped before its entry expires.
        silenceMs: 3 * config.mesh.helloIntervalMs,
        openConnections: () => endpoint?.connectionCount ?? 0,
        ...(endpoint ? {} : { demand: 'sent' as const }),
        closeRoute: (id) => endpoint?.closeChannel(id),
        onEvent: (kind, details) => {
          this.#managed.emit(kind, details);
          if (kind === 'failover' && !endpoint) this.#closeFailed(String(details['gateway']));
        },
      });
      // The first RFQ waits for the chain: an award without a way to pay is wasted.
      void (this.#chainStarting ?? Promise.resolve()).then(() => this.#startAuction(auction));
    }
    const m = config.mgmt;
    if (m.brokerUrl !== '' || m.metricsPort > 0) {
      // Loaded only when configured: the MQTT client is a fifth of the bundle.
      const { MgmtManager, mgmtSettingsFromConfig } = await import('../mgmt/manager.js');
      this.#mgmt = new MgmtManager({ node: this.#managed, nodeId: identity.id, crypto: this.#deps.crypto, log, settings: mgmtSettingsFromConfig(m), clock: this.#clock });
      await this.#mgmt.start(); // never throws: selling does not wait on the broker
    }
  }

  /** A start that failed: the chain client started early must not keep the process alive. */
  async #stopChain(starting: Promise<void> | undefined): Promise<void> {
    await starting?.catch(() => {});
    await this.#chain?.stop();
  }

  /** SIGTERM path: stop timers, close sockets, flush state. Idempotent. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#stopping = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#links?.stop();
    this.#offers?.stop();
    this.#bidding?.stop();
    await this.#auction?.stop();
    await this.#mgmt?.stop(); // publishes the retained 'offline' first
    await this.#chainStarting; // a devchain being started must be up before it can be closed
    await this.#channels?.stop();
    await this.#store.close(); // flush what the machines asked to persist
    await this.#chain?.stop();
    await this.#proxy?.stop();
    await this.#transport.close();
    await this.#control.close();
    await this.#asyncCrypto.close();
    this.#deps.log.info('agent stopped');
  }

  /** Finds the helper, checks and times it (select-backend.ts); noble unless it wins. */
  async #selectCrypto(): Promise<void> {
    const { log, helperPath } = this.#deps;
    const selection = await selectCryptoBackend(helperPath === undefined ? {} : { helperPath });
    this.#asyncCrypto = new AsyncCrypto(selection, {
      onFallback: (reason) => log.warn('crypto helper lost: using noble', { reason }),
    });
    log.info('crypto backend', { backend: selection.backend, reason: selection.reason });
  }

  // ---- events in ----

  #onDatagram(data: Uint8Array, from: Endpoint): void {
    if (this.#stopping) return;
    const now = this.#clock();
    const admitted = this.#plane.receive(data, from, now);
    if (admitted) this.#dispatch(admitted.message, from, now, admitted.sig);
  }

  #dispatch(msg: Message, from: Endpoint, now: number, sig: Uint8Array | undefined): void {
    switch (msg.type) {
      case 'HELLO': {
        const b = msg.body;
        if (Buffer.compare(b.sender, this.#deps.identity.id) === 0) return; // our own beacon, looped back
        const isNew = this.#neighbours.heard(b.sender, from.address, from.port, b.roles, b.seq, now);
        if (isNew) {
          this.#deps.log.info('neighbour up', { peer: nodeIdToBech32(b.sender), addr: `${from.address}:${from.port}` });
          // Answer a newcomer at once so discovery takes one round trip, not one interval.
          this.#transport.send(this.#helloBytes(now), from);
          this.#offers?.newcomer();
          this.#arm();
        }
        return;
      }
      case 'OFFER': {
        const id = Buffer.from(msg.body.sender).toString('hex');
        // Only neighbours' offers are kept: the table stays as small as the neighbour table.
        if (this.#neighbours.get(id)) {
          const prev = this.#heardOffers.get(id);
          if (!prev) this.#deps.log.info('offer heard', { gateway: id.slice(0, 16), priceMsatPerKiB: msg.body.priceMsatPerKiB, capacityKbps: msg.body.capacityKbps });
          if (!prev || prev.offer.seq < msg.body.seq) this.#heardOffers.set(id, { offer: msg.body, at: now });
          this.#auction?.onOffer(msg.body);
        }
        return;
      }
      case 'RFQ':
        this.#bidding?.onRfq(msg.body);
        return;
      case 'BID':
        this.#auction?.onBid(msg.body);
        return;
      case 'AWARD':
        this.#bidding?.onAward(msg.body);
        return;
      case 'OPEN':
      case 'CLOSE':
        this.#channels?.onMessage(msg, msg.body.sender);
        return;
      case 'ACCEPT':
        this.#channels?.onMessage(msg, msg.body.sender, sig);
        return;
      case 'REPORT':
        this.#auction?.onReport(msg.body);
        return;
      case 'FUNDED':
      case 'TICK':
      case 'COMMIT':
      case 'ERROR': {
        // Unsigned: attributed to the neighbour speaking from this endpoint.
        const n = this.#neighbours.byEndpoint(from.address, from.port);
        if (n) this.#channels?.onMessage(msg, n.idBytes);
        else this.#unroutable++;
        return;
      }
      default:
        return;
    }
  }

  /** Sends a complete message to a node we know an endpoint for. */
  #sendTo(to: Uint8Array, message: Message): void {
    const n = this.#neighbours.get(Buffer.from(to).toString('hex'));
    if (!n) {
      this.#unroutable++;
      return;
    }
    this.#transport.send(this.#plane.encode(message.type, message.body as never), { address: n.address, port: n.port });
  }

  #onTimer(): void {
    this.#timer = undefined;
    if (this.#stopping) return;
    const now = this.#clock();
    if (now >= this.#helloDue) this.#sendHello(now);
    for (const n of this.#neighbours.expire(now)) {
      this.#heardOffers.delete(n.id);
      this.#auction?.onNeighbourDown(n.id);
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

  /** Runs one control command, exactly as the control socket would. */
  control(cmd: string, args: Record<string, unknown> = {}): Promise<unknown> {
    return this.#onControl(cmd, args);
  }

  async #onControl(cmd: string, args: Record<string, unknown>): Promise<unknown> {
    switch (cmd) {
      case 'status':
        return this.status();
      case 'peers':
        return this.peers();
      case 'id':
        return { id: this.#deps.identity.idBech32, hex: this.#deps.identity.idHex };
      case 'channels':
        return this.#needChannels().list();
      case 'channel.open': {
        const peer = parseNodeId(stringArg(args, 'peer'));
        const capacitySat = intArg(args, 'capacitySat');
        const price = args['priceMsatPerKiB'] === undefined ? this.#deps.config.market.maxPriceMsatPerKib : intArg(args, 'priceMsatPerKiB');
        return { channelId: await this.#needChannels().open(peer, { capacitySat, priceMsatPerKiB: price }) };
      }
      case 'channel.close':
        return this.#needChannels().close(stringArg(args, 'id'));
      case 'wallet.address':
        return { address: this.#wallet.address, network: this.#deps.config.chain.network };
      case 'wallet.balance': {
        await this.#syncWallet();
        const b = this.#wallet.utxos.balance();
        return { address: this.#wallet.address, confirmedSat: String(b.confirmedSat), unconfirmedSat: String(b.unconfirmedSat) };
      }
      case 'wallet.send': {
        const chain = this.#needChain();
        await this.#syncWallet();
        const p = this.#wallet.send(stringArg(args, 'address'), BigInt(intArg(args, 'amountSat')), {
          feeRate: await chain.feeRate(),
          rand: () => this.#random(32),
        });
        try {
          await chain.broadcast(p.signed.hex);
        } catch (e) {
          this.#wallet.abandon(p);
          throw e;
        }
        return { txid: p.signed.txid, hex: p.signed.hex, feeSat: String(p.signed.fee) };
      }
      default:
        throw new RemoteError('unknown_command', `unknown control command '${cmd}'`);
    }
  }

  #needChain(): ChainService {
    if (!this.#chain) throw new ChannelCommandError('no_chain', "chain backend is 'none': no wallet or channels");
    return this.#chain;
  }

  #needChannels(): ChannelManager {
    this.#needChain();
    return this.#channels!;
  }

  async #syncWallet(): Promise<void> {
    const chain = this.#needChain();
    const utxos = await chain.esplora.addressUtxos(this.#wallet.address);
    this.#wallet.utxos.replaceWith(
      utxos.map((u) => ({ txid: u.txid, vout: u.vout, valueSat: u.valueSat, height: u.status.confirmed ? u.status.blockHeight : null })),
    );
  }

  status(): StatusReport {
    return {
      ...this.#baseStatus(),
      market: {
        priceMsatPerKiB: this.#managed.priceMsatPerKiB,
        selling: this.#managed.selling,
        capability: this.#offers ? this.#offers.estimator.estimate(this.#clock()) : null,
        offers: [...this.#heardOffers.entries()].map(([id, { offer, at }]) => ({
          gateway: nodeIdToBech32(offer.sender),
          gatewayHex: id,
          priceMsatPerKiB: offer.priceMsatPerKiB,
          capacityKbps: offer.capacityKbps,
          spareKbps: offer.spareKbps,
          confidencePermille: offer.confidencePermille,
          ageMs: this.#clock() - at,
        })),
        auction: this.#auction?.status() ?? null,
        bidding: this.#bidding?.status() ?? null,
      },
      mgmt: this.#mgmt?.stats() ?? null,
    };
  }

  #baseStatus(): Omit<StatusReport, 'market' | 'mgmt'> {
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
      dataplane: {
        backend: config.dataplane.backend,
        socksPort: this.#proxy?.endpoint?.port() ?? null,
        relayPort: this.#proxy?.relay?.port() ?? null,
      },
      chain: this.#chain
        ? { backend: config.chain.backend, url: config.chain.esploraUrl, tip: this.#chain.tip ?? null, errors: { ...this.#chain.errors } }
        : null,
      channels: this.#channels
        ? {
            count: this.#channels.size,
            creditInForce: this.#channels.creditInForce(),
            counters: { ...this.#channels.counters, unroutable: this.#unroutable },
            stateWrites: this.#store.writeCount,
          }
        : null,
      crypto: {
        ...this.#asyncCrypto.choice,
        helperPid: this.#asyncCrypto.helperPid,
        signing: crypto.choice.name,
        commitments: this.#channels?.commitmentStats ?? null,
      },
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

function stringArg(args: Record<string, unknown>, name: string): string {
  const v = args[name];
  if (typeof v !== 'string' || v === '') throw new RemoteError('bad_args', `'${name}' must be a non-empty string`);
  return v;
}

function intArg(args: Record<string, unknown>, name: string): number {
  const v = args[name];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new RemoteError('bad_args', `'${name}' must be a whole number ≥ 0`);
  return v;
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
  dataplane: { backend: string; socksPort: number | null; relayPort: number | null };
  chain: { backend: string; url: string; tip: number | null; errors: Record<string, number> } | null;
  channels: {
    count: number;
    creditInForce: { channelId: string; creditBytes: number }[];
    counters: ChannelManager['counters'] & { unroutable: number };
    stateWrites: number;
  } | null;
  /**
   * The backend of the hot paths (commitment checks and signing): name ("helper" or
   * "noble"), why (vectors and timing, or "helper died: …"), and the helper's pid while
   * it serves. `signing` is the synchronous facade's backend (other signatures).
   */
  crypto: { name: string; reason: string; helperPid: number | null; signing: string; commitments: CommitmentCryptoStats | null };
  memory: { rssBytes: number; heapUsedBytes: number };
  /** The asking price and whether selling is paused (set remotely over MQTT). */
  market: {
    priceMsatPerKiB: number;
    selling: boolean;
    capability: import('../core/market/capability.js').CapabilityEstimate | null;
    offers: { gateway: string; gatewayHex: string; priceMsatPerKiB: number; capacityKbps: number; spareKbps: number; confidencePermille: number; ageMs: number }[];
    /** Client: the auction's state and the award in force (gateway, price, measured rate). */
    auction: ClientAuctionStatus | null;
    /** Gateway: bids made, awards won and refused, awards in force. */
    bidding: GatewayBiddingStatus | null;
  };
  /** Remote management; null when off (no broker URL and no metrics port). */
  mgmt: MgmtStats | null;
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
