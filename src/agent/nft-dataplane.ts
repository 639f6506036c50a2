// nft mode, wired (DESIGN §7). The kernel forwards and enforces; the agent feeds it.
//
// Gateway side: wraps NftBackend as the channel manager's DataplaneBackend. The channel
// manager grants by channel id alone; here each grant gets the client's mesh address —
// the address the channel's peer speaks its control datagrams from — and a poll reads
// all kernel counters at once and feeds the new bytes to `channels.metered`. The quota
// in the kernel is what stops a client; the poll only bills.
//
// Client side: the gateway of the agent's route (the awarded channel first; any open
// payer channel otherwise) becomes the default route (client-route.ts); a counters-only
// table (ClientMeter) measures what went through it, fed to `channels.metered` so the
// payer pays for what it received, and to the agent's auction per direction: bytes
// sent upstream are demand, bytes received are the gateway's delivery. No route: no
// default route, nothing upstream.
//
// One timer, re-armed after each poll finishes (polls never overlap); SIGSTOP freezes
// it, so a frozen client stops paying and its gateway's quota runs out. It checks every
// 100 ms and reads the counters that often while bytes flow, once a second when idle,
// and at once when the mesh link's own counters jump or the route changes
// (meter-pace.ts): each read costs the nft child a few ms of CPU.

import { isIP } from 'node:net';
import type { BitmeshConfig } from '../config/schema.js';
import type { ClientRef, DataplaneBackend, Usage } from '../dataplane/backend.js';
import { ClientMeter, type ClientTotals } from '../dataplane/nft/client-meter.js';
import { ipRunner, leaveGateway, useGateway, type IpRunner } from '../dataplane/nft/client-route.js';
import { NftAddressInUseError, NftStateError } from '../dataplane/nft/errors.js';
import { NftBackend, type NftBackendEvent } from '../dataplane/nft/nft-backend.js';
import { linkBytesReader } from '../dataplane/nft/link-bytes.js';
import type { Logger } from './log.js';
import { DEFAULT_METER_PACE, MeterPace, type MeterPaceOptions } from './meter-pace.js';

/** What this module needs of the channel manager. */
export interface ChannelsView {
  metered(channelId: string, bytes: number): void;
  /** Payee channels also say what was paid for and what was served (metered) so far. */
  describe(channelId: string): { role: 'payer' | 'payee'; peer: Uint8Array; state: string; paidBytes?: number; servedBytes?: number; tickBytes?: number } | undefined;
  list(): readonly { id: string; bytes: number }[];
}

/** The gateway backend: NftBackend, or a twin in tests. */
export interface MeteredBackend extends DataplaneBackend {
  usageAll(): Promise<ReadonlyMap<string, Usage>>;
}

/** The client's counters: ClientMeter, or a twin in tests. */
export interface ClientCounters {
  start(): Promise<void>;
  stop(): Promise<void>;
  read(): Promise<ClientTotals>;
  refreshSubnets(): Promise<void>;
}

/** What this module needs of the agent: its channels and its neighbours' addresses. */
export interface AgentView {
  readonly channels: ChannelsView | undefined;
  peers(): readonly { readonly idHex: string; readonly address: string }[];
  /** Client: the channel (and its gateway's mesh address) traffic goes through now. */
  route(): { readonly channelId: string; readonly host: string } | undefined;
  /** Client: what the meter saw through the routed channel's gateway since the last call. */
  onClientTraffic(channelId: string, upBytes: number, downBytes: number): void;
}

export interface NftDataplaneDeps {
  readonly config: BitmeshConfig;
  readonly log: Logger;
  /** Metering and route period while bytes flow; default 100 ms. */
  readonly pollIntervalMs?: number;
  /** The rest of the pace (idle period, wake threshold); meter-pace.ts defaults. */
  readonly pace?: Partial<Omit<MeterPaceOptions, 'activeMs'>>;
  /** Cumulative bytes of the mesh link (sysfs by default); undefined: unknown, read every period. */
  readonly linkBytes?: () => number | undefined;
  // Injected for tests; built from the config otherwise.
  readonly backend?: MeteredBackend;
  readonly meter?: ClientCounters;
  readonly ip?: IpRunner;
}

interface Granted {
  total: number;
  addresses: readonly string[];
  /** Kernel bytes already fed to the channel; undefined until the first read. */
  reported: number | undefined;
  /** The channel's metered bytes when we first saw it (after an agent restart). */
  readonly baseline: number;
  /** Order of first grant: of two channels of one client, the newer holds its addresses. */
  readonly seq: number;
  /** The client (hex node id), to find its older channels. */
  readonly peer: string;
  /** Bytes of this channel's kernel counter billed to an older channel of the client (see #carry). */
  carried: number;
}

const DEFAULT_POLL_MS = 100;
/** The largest packet the forward hook can see: a GRO/GSO aggregate, IP's 64 KiB. */
const MAX_AGGREGATE_BYTES = 64 * 1024;
/** Subnet refresh of the client table, in polls. */
const SUBNET_REFRESH_POLLS = 50;

/** A control-plane source address as a data-plane address, or undefined (link-local, zone). */
export function dataAddressOf(address: string): string | undefined {
  const a = address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address;
  if (isIP(a) === 0 || a.includes('%') || /^fe[89ab]/i.test(a)) return undefined;
  return a;
}

export class NftDataplane implements DataplaneBackend {
  readonly name = 'nft' as const;
  get meterIntervalMs(): number {
    return this.#interval;
  }
  /** One GRO/GSO aggregate at most (IP's 64 KiB): see DataplaneBackend.minCreditBytes. */
  readonly minCreditBytes = MAX_AGGREGATE_BYTES;
  readonly #d: NftDataplaneDeps;
  readonly #interval: number;
  readonly #backend: MeteredBackend | undefined;
  readonly #meter: ClientCounters | undefined;
  readonly #ip: IpRunner;
  readonly #granted = new Map<string, Granted>();
  #grantSeq = 0;
  // The agent is built with this backend in its deps, so it is attached afterwards.
  #agent: AgentView | undefined;
  #route: { channelId: string; gateway: string; dev: string } | undefined;
  #lastClient: ClientTotals = { upBytes: 0, downBytes: 0 };
  #timer: NodeJS.Timeout | undefined;
  #running = false;
  #polls = 0;
  #lastError = '';
  readonly #pace: MeterPace;
  readonly #linkBytes: () => number | undefined;
  /** Bytes fed to `metered`, per side (status and tests); checks the pace let pass without a read. */
  readonly stats = { servedBytes: 0, receivedBytes: 0, polls: 0, skippedPolls: 0, routeChanges: 0, errors: 0 };

  constructor(deps: NftDataplaneDeps) {
    this.#d = deps;
    this.#interval = deps.pollIntervalMs ?? DEFAULT_POLL_MS;
    const { agent, mesh, dataplane } = deps.config;
    this.#pace = new MeterPace({ ...DEFAULT_METER_PACE, ...deps.pace, activeMs: this.#interval });
    this.#linkBytes = deps.linkBytes ?? linkBytesReader(mesh.interface);
    this.#ip = deps.ip ?? ipRunner();
    if (agent.role !== 'client') {
      this.#backend =
        deps.backend ??
        new NftBackend({
          meshInterfaces: mesh.interface,
          upstreamInterfaces: dataplane.upstreamInterface,
          onEvent: (e) => this.#onBackendEvent(e),
        });
    }
    if (agent.role !== 'gateway') this.#meter = deps.meter ?? new ClientMeter({ meshInterfaces: mesh.interface });
  }

  /** Connects the agent whose channels this data plane serves (before start). */
  attach(agent: AgentView): void {
    this.#agent = agent;
  }

  get currentGateway(): { channelId: string; gateway: string } | undefined {
    return this.#route && { channelId: this.#route.channelId, gateway: this.#route.gateway };
  }

  async start(): Promise<void> {
    await this.#backend?.start();
    try {
      await this.#meter?.start();
    } catch (e) {
      await this.#backend?.stop();
      throw e;
    }
    this.#running = true;
    this.#arm();
  }

  /** Fail closed: the gateway forwards no one; the client leaves its gateway. */
  async stop(): Promise<void> {
    this.#running = false;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
    if (this.#route) await leaveGateway(this.#route.gateway, this.#route.dev, this.#ip).catch(() => {});
    this.#route = undefined;
    await this.#meter?.stop();
    await this.#backend?.stop();
  }

  // ---- gateway: DataplaneBackend for the channel manager ----

  async grant(client: ClientRef, totalBytes: number): Promise<void> {
    const backend = this.#needBackend();
    const id = client.channelId;
    const addresses = client.addresses.length > 0 ? client.addresses : this.#addressesOf(id);
    let g = this.#granted.get(id);
    if (!g) {
      const baseline = this.#agent?.channels?.list().find((c) => c.id === id)?.bytes ?? 0;
      const peer = this.#agent?.channels?.describe(id)?.peer;
      g = { total: totalBytes, addresses, reported: undefined, baseline, seq: ++this.#grantSeq, peer: peer ? Buffer.from(peer).toString('hex') : '', carried: 0 };
      this.#granted.set(id, g);
    }
    g.total = totalBytes;
    g.addresses = this.#claimable(g, addresses);
    await this.#grantMoving(id, g);
    // A payment on an older channel of this client may be for bytes its newer channel
    // carried: the newer one's quota counts it (#quota).
    for (const [nid, n] of this.#granted) if (n.seq > g.seq && n.peer === g.peer && n.peer !== '') await this.#grantMoving(nid, n);
  }

  async revoke(channelId: string): Promise<void> {
    await this.#needBackend().revoke(channelId);
  }

  async usage(channelId: string): Promise<Usage | undefined> {
    return this.#needBackend().usage(channelId);
  }

  async remove(channelId: string): Promise<void> {
    this.#granted.delete(channelId);
    await this.#needBackend().remove(channelId);
  }

  /** One metering and routing round now (tests, and the timer). */
  async poll(): Promise<void> {
    this.stats.polls++;
    this.#polls++;
    const channels = this.#agent?.channels;
    if (this.#backend && channels) await this.#pollGateway(channels);
    if (this.#meter) await this.#pollClient(channels);
  }

  // ---- gateway ----

  async #pollGateway(channels: ChannelsView): Promise<void> {
    // A client whose address changed (or was unknown at grant time) is re-granted.
    for (const [id, g] of this.#granted) {
      const now = this.#claimable(g, this.#addressesOf(id));
      if (now.length > 0 && now.join(',') !== g.addresses.join(',')) {
        g.addresses = now;
        await this.#grantMoving(id, g);
      }
    }
    const usage = await this.#backend!.usageAll();
    // Oldest first: an older channel has its own bytes before it is billed any of a newer one's.
    const byAge = [...usage].flatMap(([id, u]) => {
      const g = this.#granted.get(id);
      return g ? [{ id, g, total: u.totalBytes }] : [];
    });
    byAge.sort((a, b) => a.g.seq - b.g.seq);
    for (const { id, g, total } of byAge) {
      // After an agent restart the kernel counters may be ahead of what the channel
      // has metered (bytes after its last snapshot): bill the gap once.
      g.reported ??= total >= g.baseline ? g.baseline : total;
      const delta = total - g.reported;
      if (delta <= 0) continue;
      g.reported = total;
      this.stats.servedBytes += delta;
      const own = delta - this.#carry(g, delta, channels);
      if (own > 0) channels.metered(id, own);
    }
  }

  /**
   * The hand-over to a successor channel. The address moves to the new channel when we
   * grant it; the client moves its meter when its route follows, a poll later. Bytes in
   * between are counted here on the new channel and paid by the client on the old one,
   * so the new one's quota would run out with nothing paid on it, and the client,
   * having metered nothing on it, would never pay it: each side waits for the other.
   * So what the client paid on an older channel of its own beyond what that channel
   * served is money for bytes the new one carries: it raises the new channel's quota
   * (#quota), and the new channel's next bytes are billed to the old one, up to it.
   * Returns the bytes of `delta` billed to older channels.
   */
  #carry(g: Granted, delta: number, channels: ChannelsView): number {
    let left = delta;
    for (const o of this.#older(g)) {
      if (left === 0) break;
      const x = Math.min(left, this.#surplus(o.id, channels));
      if (x <= 0) continue;
      channels.metered(o.id, x);
      g.carried += x;
      left -= x;
    }
    return delta - left;
  }

  /** This client's older channels still granted, oldest first. */
  #older(g: Granted): { id: string; o: Granted }[] {
    if (g.peer === '') return [];
    return [...this.#granted]
      .filter(([, o]) => o.seq < g.seq && o.peer === g.peer)
      .sort((a, b) => a[1].seq - b[1].seq)
      .map(([id, o]) => ({ id, o }));
  }

  /**
   * Bytes a payee channel was paid for and has not served: what was paid for bytes
   * another channel carried. While the channel still holds the client's address, less
   * the one tick a payer always pays ahead (it reveals tick i once it has received
   * i − 1 ticks), which is for this channel's own next bytes. Once the address has moved
   * to a successor this channel serves nothing more, so that tick too was for bytes
   * the successor carries: the client metered them here a poll before it moved, and
   * keeping the tick back left the successor a few KiB short of its next tick boundary
   * with its quota spent, each side waiting for the other. 0 unless open.
   */
  #surplus(id: string, channels: ChannelsView | undefined): number {
    const d = channels?.describe(id);
    if (d?.state !== 'Open' || d.paidBytes === undefined || d.servedBytes === undefined) return 0;
    const moved = this.#granted.get(id)?.addresses.length === 0;
    return Math.max(0, d.paidBytes - d.servedBytes - (moved ? 0 : (d.tickBytes ?? 0)));
  }

  /**
   * The kernel quota of a channel: its own allowance, the bytes of its counter billed to
   * older channels, and, while it holds the client's address, what the client paid on
   * those and they did not serve (money already received, so no added risk).
   */
  #quota(g: Granted): number {
    const channels = this.#agent?.channels;
    const waiting = g.addresses.length === 0 ? 0 : this.#older(g).reduce((s, { id }) => s + this.#surplus(id, channels), 0);
    return g.total + g.carried + waiting;
  }

  /**
   * The addresses a channel may hold: not those a newer channel of the same client holds.
   * A client that moved to a successor channel still pays the old one for bytes in
   * flight; those late ticks raise the old channel's allowance but must not pull the
   * client's address back to it.
   */
  #claimable(g: Granted, addresses: readonly string[]): readonly string[] {
    const newer = new Set<string>();
    for (const o of this.#granted.values()) if (o.seq > g.seq) for (const a of o.addresses) newer.add(a);
    return newer.size === 0 ? addresses : addresses.filter((a) => !newer.has(a));
  }

  /** Grants, moving an address from an older channel of the same client if needed. */
  async #grantMoving(id: string, g: Granted): Promise<void> {
    const backend = this.#backend!;
    try {
      await backend.grant({ channelId: id, addresses: g.addresses }, this.#quota(g));
    } catch (e) {
      if (!(e instanceof NftAddressInUseError)) throw e;
      const old = this.#granted.get(e.ownerChannelId);
      if (!old || e.ownerChannelId === id || old.seq > g.seq) throw e;
      // The client paid on a new channel: the address goes with the money.
      old.addresses = old.addresses.filter((a) => !g.addresses.includes(a));
      await backend.grant({ channelId: e.ownerChannelId, addresses: old.addresses }, this.#quota(old));
      await backend.grant({ channelId: id, addresses: g.addresses }, this.#quota(g));
    }
  }

  /** The mesh address a node (hex id) speaks from now, if it is a neighbour. */
  #peerAddress(idHex: string): string | undefined {
    return this.#agent?.peers().find((p) => p.idHex === idHex)?.address;
  }

  #addressesOf(channelId: string): string[] {
    const peer = this.#agent?.channels?.describe(channelId)?.peer;
    if (!peer) return [];
    const a = this.#peerAddress(Buffer.from(peer).toString('hex'));
    const data = a === undefined ? undefined : dataAddressOf(a);
    return data ? [data] : [];
  }

  // ---- client ----

  async #pollClient(channels: ChannelsView | undefined): Promise<void> {
    const meter = this.#meter!;
    if (this.#polls % SUBNET_REFRESH_POLLS === 0) await meter.refreshSubnets();
    const t = await meter.read();
    const up = t.upBytes - this.#lastClient.upBytes;
    const down = t.downBytes - this.#lastClient.downBytes;
    this.#lastClient = t;
    const before = this.#route;
    await this.#followRoute();
    // Bytes of the last interval belong to the gateway they went through. When only the
    // channel to that gateway changed (a successor took over), they go to the new one:
    // the gateway moved our address to it when it granted it, and bytes it counted there
    // but we paid on the old channel would leave the new one waiting for payment that
    // never comes (each side then waits for the other). Paying the new one for a few
    // bytes the old one carried only strands them on the channel being closed.
    const after = this.#route;
    const route = before && after && before.gateway === after.gateway ? after : before;
    if ((up > 0 || down > 0) && route && channels) {
      this.stats.receivedBytes += up + down;
      channels.metered(route.channelId, up + down);
      this.#agent?.onClientTraffic(route.channelId, Math.max(0, up), Math.max(0, down));
    }
  }

  async #followRoute(): Promise<void> {
    const r = this.#agent?.route();
    const gateway = r === undefined ? undefined : dataAddressOf(r.host);
    const want = r && gateway ? { channelId: r.channelId, gateway } : undefined;
    const cur = this.#route;
    if (cur && want && cur.gateway === want.gateway) {
      if (cur.channelId !== want.channelId) this.#route = { ...cur, channelId: want.channelId };
      return;
    }
    const dev = this.#d.config.mesh.interface[0] ?? 'bat0';
    if (want) {
      await useGateway(want.gateway, dev, this.#ip);
      if (cur && isIP(cur.gateway) !== isIP(want.gateway)) await leaveGateway(cur.gateway, cur.dev, this.#ip).catch(() => {});
      this.#route = { ...want, dev };
      this.stats.routeChanges++;
      this.#d.log.info('default route via gateway', { gateway: want.gateway, channel: want.channelId.slice(0, 16) });
    } else if (cur) {
      await leaveGateway(cur.gateway, cur.dev, this.#ip);
      this.#route = undefined;
      this.stats.routeChanges++;
      this.#d.log.info('default route removed: no route', { gateway: cur.gateway });
    }
  }

  // ---- timer ----

  #arm(): void {
    if (!this.#running) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const now = Date.now();
      if (!this.#pace.shouldRead(now, this.#linkBytes(), this.#routeStale())) {
        this.stats.skippedPolls++;
        this.#arm();
        return;
      }
      const before = this.stats.servedBytes + this.stats.receivedBytes;
      void this.poll()
        .then(() => (this.#lastError = ''))
        .catch((e: Error) => this.#onError(e))
        .finally(() => {
          this.#pace.metered(now, this.stats.servedBytes + this.stats.receivedBytes - before);
          this.#arm();
        });
    }, this.#interval);
  }

  /** Client: the agent's route is not the one installed (a new award, a failover). */
  #routeStale(): boolean {
    if (!this.#meter) return false;
    const r = this.#agent?.route();
    const gateway = r === undefined ? undefined : dataAddressOf(r.host);
    const cur = this.#route;
    if (!cur || !r || !gateway) return cur !== undefined || gateway !== undefined;
    return cur.gateway !== gateway || cur.channelId !== r.channelId;
  }

  #onError(e: Error): void {
    this.stats.errors++;
    // One line per distinct failure, not ten a second.
    if (e.message === this.#lastError) return;
    this.#lastError = e.message;
    this.#d.log.warn('nft data plane poll failed', { error: e.message });
  }

  #onBackendEvent(e: NftBackendEvent): void {
    if (e.kind === 'restored') this.#d.log.warn('nft table restored', { reason: e.reason, clients: e.clients, ms: Math.round(e.ms) });
    else if (e.kind === 'restore-failed') this.#d.log.error('nft table restore failed', { error: e.error.message });
    else if (e.kind === 'child-lost') this.#d.log.warn('nft child lost', { error: e.error.message });
    else this.#d.log.info('nft table adopted', { channels: e.channels });
  }

  #needBackend(): MeteredBackend {
    if (!this.#backend) throw new NftStateError('nft data plane: not a gateway (role client)');
    return this.#backend;
  }
}
