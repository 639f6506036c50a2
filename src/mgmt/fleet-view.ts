// What `bitmesh fleet` knows about the nodes under a topic prefix: the last status and
// metrics message of each, and when it came. Bounded, and junk payloads are ignored.
import { parseMetrics, type MetricsSnapshot } from './metrics.js';
import { OFFLINE_PAYLOAD, parseTopic } from './topics.js';

export const MAX_FLEET_NODES = 10_000;

export interface FleetEntry {
  readonly node: string;
  readonly state: 'online' | 'offline' | 'unknown';
  /** The last online status message, as published. */
  readonly status: Readonly<Record<string, unknown>> | null;
  readonly metrics: MetricsSnapshot | null;
  /** ms since the last metrics message arrived here. */
  readonly metricsAgeMs: number | null;
}

interface Entry {
  state: FleetEntry['state'];
  status: Record<string, unknown> | null;
  metrics: MetricsSnapshot | null;
  metricsAt: number | null;
}

export class FleetView {
  readonly #nodes = new Map<string, Entry>();
  constructor(private readonly prefix: string) {}

  get size(): number {
    return this.#nodes.size;
  }

  onMessage(topic: string, payload: Uint8Array, now: number): void {
    const t = parseTopic(this.prefix, topic);
    if (t === undefined || (t.kind !== 'status' && t.kind !== 'metrics')) return;
    let e = this.#nodes.get(t.node);
    if (e === undefined) {
      if (this.#nodes.size >= MAX_FLEET_NODES) return;
      e = { state: 'unknown', status: null, metrics: null, metricsAt: null };
      this.#nodes.set(t.node, e);
    }
    const text = new TextDecoder().decode(payload);
    if (t.kind === 'status') {
      if (text === OFFLINE_PAYLOAD || text === '') {
        e.state = 'offline';
        return;
      }
      const status = parseObject(text);
      if (status && status['state'] === 'online') {
        e.state = 'online';
        e.status = status;
      }
      return;
    }
    const m = parseMetrics(text);
    if (m && m.node === t.node) {
      e.metrics = m;
      e.metricsAt = now;
    }
  }

  list(now: number): FleetEntry[] {
    return [...this.#nodes.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([node, e]) => ({
        node,
        state: e.state,
        status: e.status,
        metrics: e.metrics,
        metricsAgeMs: e.metricsAt === null ? null : now - e.metricsAt,
      }));
  }
}

function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const j: unknown = JSON.parse(text);
    return typeof j === 'object' && j !== null && !Array.isArray(j) ? (j as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
