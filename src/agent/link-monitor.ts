// Samples the configured link-quality source every `intervalMs` and attaches the
// readings to neighbours by MAC address (from the neighbour's EUI-64 link-local
// address, or the kernel's IPv4 neighbour table). One sample at a time: a slow
// `iw` or Wi-Fi scan delays the next one instead of piling up.
//
// Known limit: with batman-adv, a neighbour is matched when the address it speaks
// from maps to its originator MAC; nodes whose bat0 MAC differs from their primary
// interface's would need the translation table (batctl tg), not read yet.
import type { LinkQualitySource, LinkSample } from '../mesh/linkquality/source.js';
import { macFromLinkLocal, readArpTable } from '../mesh/neighbour-mac.js';
import type { NeighbourTable } from '../mesh/neighbour-table.js';
import type { Logger } from './log.js';

export interface LinkMonitorStats {
  samples: number;
  matched: number;
  errors: Record<string, number>;
}

export class LinkMonitor {
  readonly stats: LinkMonitorStats = { samples: 0, matched: 0, errors: {} };
  #timer: NodeJS.Timeout | undefined;
  #stopped = false;

  constructor(
    private readonly source: LinkQualitySource,
    private readonly neighbours: NeighbourTable,
    private readonly intervalMs: number,
    private readonly clock: () => number,
    private readonly log: Logger,
    private readonly arp: () => Promise<Map<string, string>> = () => readArpTable(),
  ) {}

  start(): void {
    this.#schedule(0);
  }

  stop(): void {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    this.#timer = undefined;
  }

  #schedule(delay: number): void {
    if (this.#stopped) return;
    this.#timer = setTimeout(() => void this.sampleOnce().finally(() => this.#schedule(this.intervalMs)), delay);
  }

  /** One round: sample, match to neighbours, record. Never throws. */
  async sampleOnce(): Promise<void> {
    let samples: LinkSample[];
    try {
      samples = await this.source.sample();
    } catch (e) {
      const code = (e as { code?: string }).code ?? 'error';
      this.stats.errors[code] = (this.stats.errors[code] ?? 0) + 1;
      if (this.stats.errors[code] === 1) this.log.warn('link quality unavailable', { source: this.source.name, error: (e as Error).message });
      return;
    }
    if (this.#stopped) return;
    this.stats.samples++;
    const byMac = new Map(samples.map((s) => [s.mac, s]));
    const arp = await this.arp();
    const now = this.clock();
    for (const n of this.neighbours.list()) {
      const mac = macFromLinkLocal(n.address) ?? arp.get(n.address);
      const s = mac ? byMac.get(mac) : undefined;
      if (!s) continue;
      this.neighbours.setLinkQuality(n.id, { quality: s.quality, source: s.source, measuredAt: now });
      this.stats.matched++;
    }
  }
}
