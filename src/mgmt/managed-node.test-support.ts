// An in-process ManagedNode for tests: observable price, paused flag, config file and
// counters. `sell(bytes)` stands in for the market: it counts bytes and sats only while
// selling, so a test can show that selling goes on with the broker down.
import type { Crypto } from '../crypto/facade.js';
import { nodeIdToBech32 } from '../core/wire/node-id.js';
import { writeConfigOption } from './config-option.js';
import { MgmtError } from './errors.js';
import type { ManagedNode, NodeEvent, NodeStatus } from './managed-node.js';
import type { MetricsSnapshot } from './metrics.js';

export class TestNode implements ManagedNode {
  readonly id: Uint8Array;
  readonly idBech32: string;
  price: number;
  selling = true;
  earnedMsat = 0;
  bytesSold = 0;
  restarts = 0;
  reauctions = 0;
  readonly channels = new Set<string>(['chan-1', 'chan-2']);
  readonly events: NodeEvent[] = [];
  readonly #listeners = new Set<(e: NodeEvent) => void>();
  readonly #startedAt: number;

  constructor(
    id: Uint8Array,
    private readonly opts: { price?: number; configFile?: string; clock?: () => number; crypto?: Crypto } = {},
  ) {
    this.id = id;
    this.idBech32 = nodeIdToBech32(id);
    this.price = opts.price ?? 100;
    this.#startedAt = this.#now();
  }

  #now(): number {
    return (this.opts.clock ?? Date.now)();
  }

  /** The market's stand-in: bytes go out and are paid for at the current price, if selling. */
  sell(bytes: number): boolean {
    if (!this.selling) return false;
    this.bytesSold += bytes;
    this.earnedMsat += Math.floor((bytes * this.price) / 1024);
    return true;
  }

  emit(e: Omit<NodeEvent, 'ts'>): void {
    const full = { ...e, ts: this.#now() };
    this.events.push(full);
    for (const l of this.#listeners) l(full);
  }

  status(): NodeStatus {
    return {
      node: this.idBech32,
      role: 'gateway',
      version: 'test',
      priceMsatPerKiB: this.price,
      selling: this.selling,
      uptimeS: Math.round((this.#now() - this.#startedAt) / 1000),
    };
  }

  metrics(): MetricsSnapshot {
    const mem = process.memoryUsage();
    return {
      node: this.idBech32,
      ts: this.#now(),
      earnedMsat: this.earnedMsat,
      spentMsat: 0,
      bytesSold: this.bytesSold,
      bytesBought: 0,
      channelsOpen: this.channels.size,
      peers: 3,
      priceMsatPerKiB: this.price,
      selling: this.selling,
      cryptoBackend: this.opts.crypto?.choice.name ?? 'noble',
      uptimeS: Math.round((this.#now() - this.#startedAt) / 1000),
      rssBytes: mem.rss,
      heapUsedBytes: mem.heapUsed,
    };
  }

  setPrice(msatPerKiB: number): void {
    this.price = msatPerKiB;
    this.emit({ kind: 'price_changed', details: { priceMsatPerKiB: msatPerKiB } });
  }
  pauseSelling(): void {
    this.selling = false;
    this.emit({ kind: 'selling_paused' });
  }
  resumeSelling(): void {
    this.selling = true;
    this.emit({ kind: 'selling_resumed' });
  }
  async setConfigOption(section: string, option: string, value: string): Promise<void> {
    if (!this.opts.configFile) throw new MgmtError('refused', 'no config file');
    const w = await writeConfigOption(this.opts.configFile, section, option, value);
    if (w.section === 'market' && w.key === 'priceMsatPerKib') this.price = w.value as number;
    this.emit({ kind: 'config_changed', details: { option: `${section}.${option}`, value } });
  }
  async closeChannel(id: string): Promise<void> {
    if (!this.channels.delete(id)) throw new MgmtError('bad_args', `no channel '${id}'`);
    this.emit({ kind: 'channel_closed', details: { channel: id } });
  }
  async reauction(): Promise<void> {
    this.reauctions += 1;
  }
  async restart(): Promise<void> {
    this.restarts += 1;
  }
  onEvent(listener: (e: NodeEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }
}
