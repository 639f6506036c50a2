// The agent's side of ManagedNode, kept out of agent.ts so the composition root only
// constructs it. It holds the asking price and the paused flag; the gateway's OFFERs and
// bids read them (a new price shows in the next OFFER and the next bid), and `reauction`
// runs the client's auction again.
import type { StatusReport } from '../agent/agent.js';
import type { Logger } from '../agent/log.js';
import { writeConfigOption } from './config-option.js';
import { MgmtError } from './errors.js';
import type { ManagedNode, NodeEvent, NodeStatus } from './managed-node.js';
import type { MetricsSnapshot } from './metrics.js';

export interface AgentNodeDeps {
  /** The agent's status report (without the market/mgmt fields this adds). */
  readonly status: () => Omit<StatusReport, 'market' | 'mgmt'>;
  readonly initialPriceMsatPerKiB: number;
  /** The UCI file to write for `set_config`; undefined refuses it. */
  readonly configPath: string | undefined;
  readonly log: Logger;
  readonly clock: () => number;
  readonly restart: () => void;
  /** Money and bytes from the channels, for metrics. */
  readonly channelTotals?: () => ChannelTotals;
  /** Closes a channel (as payee: broadcasts the best state; as payer: asks the gateway). */
  readonly closeChannel?: (id: string) => Promise<void>;
  /** Drops the client's award and runs the auction again; absent: this node runs no auction. */
  readonly reauction?: () => void;
}

export interface ChannelTotals {
  readonly earnedMsat: number;
  readonly spentMsat: number;
  readonly bytesSold: number;
  readonly bytesBought: number;
  readonly channelsOpen: number;
}

export class AgentNode implements ManagedNode {
  #price: number;
  #selling = true;
  readonly #listeners = new Set<(e: NodeEvent) => void>();

  constructor(private readonly d: AgentNodeDeps) {
    this.#price = d.initialPriceMsatPerKiB;
  }

  get priceMsatPerKiB(): number {
    return this.#price;
  }
  get selling(): boolean {
    return this.#selling;
  }

  /** For the agent's own events (awards, channels, failover) once those are wired. */
  emit(kind: NodeEvent['kind'], details?: NodeEvent['details']): void {
    const e: NodeEvent = { kind, ts: this.d.clock(), ...(details && { details }) };
    for (const l of this.#listeners) {
      try {
        l(e);
      } catch (err) {
        this.d.log.warn('mgmt: event listener failed', { error: (err as Error).message });
      }
    }
  }

  status(): NodeStatus {
    const s = this.d.status();
    return {
      node: s.node.id,
      role: s.node.role,
      version: s.node.version,
      priceMsatPerKiB: this.#price,
      selling: this.#selling,
      uptimeS: s.node.uptimeS,
      extra: { neighbours: s.mesh.neighbours, crypto: s.crypto.name, pid: s.node.pid },
    };
  }

  metrics(): MetricsSnapshot {
    const s = this.d.status();
    const t = this.d.channelTotals?.() ?? { earnedMsat: 0, spentMsat: 0, bytesSold: 0, bytesBought: 0, channelsOpen: 0 };
    return {
      node: s.node.id,
      ts: this.d.clock(),
      ...t,
      peers: s.mesh.neighbours,
      priceMsatPerKiB: this.#price,
      selling: this.#selling,
      cryptoBackend: s.crypto.name,
      uptimeS: s.node.uptimeS,
      rssBytes: s.memory.rssBytes,
      heapUsedBytes: s.memory.heapUsedBytes,
    };
  }

  setPrice(msatPerKiB: number): void {
    this.#price = msatPerKiB;
    this.d.log.info('price set remotely', { priceMsatPerKiB: msatPerKiB });
    this.emit('price_changed', { priceMsatPerKiB: msatPerKiB });
  }
  pauseSelling(): void {
    this.#selling = false;
    this.emit('selling_paused');
  }
  resumeSelling(): void {
    this.#selling = true;
    this.emit('selling_resumed');
  }

  async setConfigOption(section: string, option: string, value: string): Promise<void> {
    if (this.d.configPath === undefined) throw new MgmtError('refused', 'the agent was started without a config file path');
    const w = await writeConfigOption(this.d.configPath, section, option, value);
    // Applied now where it can be; the other whitelisted options take effect at the next start.
    if (w.section === 'market' && w.key === 'priceMsatPerKib') this.#price = w.value as number;
    this.d.log.info('config option set remotely', { option: `${section}.${option}`, value });
    this.emit('config_changed', { option: `${section}.${option}`, value });
  }

  async closeChannel(id: string): Promise<void> {
    if (!this.d.closeChannel) throw new MgmtError('refused', 'this node runs no payment channels');
    try {
      await this.d.closeChannel(id);
    } catch (e) {
      throw new MgmtError('bad_args', (e as Error).message.slice(0, 200));
    }
  }

  async reauction(): Promise<void> {
    // Only a client buying by auction has one to re-run (gateways only answer RFQs).
    if (!this.d.reauction) throw new MgmtError('refused', 'this node runs no client auction');
    this.d.log.info('re-auction requested remotely');
    this.d.reauction();
  }

  async restart(): Promise<void> {
    this.d.log.info('restart requested remotely');
    this.d.restart();
  }

  onEvent(listener: (e: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
