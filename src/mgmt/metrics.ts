// One metrics snapshot, two renderings: the JSON published on bitmesh/<id>/metrics and
// the Prometheus text served on /metrics. Both come from the same table, so the numbers
// cannot drift apart.

export interface MetricsSnapshot {
  /** Node id, bm1…. */
  readonly node: string;
  /** When the snapshot was taken, ms since the epoch. */
  readonly ts: number;
  readonly earnedMsat: number;
  readonly spentMsat: number;
  readonly bytesSold: number;
  readonly bytesBought: number;
  readonly channelsOpen: number;
  readonly peers: number;
  readonly priceMsatPerKiB: number;
  readonly selling: boolean;
  readonly cryptoBackend: string;
  readonly uptimeS: number;
  readonly rssBytes: number;
  readonly heapUsedBytes: number;
}

type NumericKey = { [K in keyof MetricsSnapshot]: MetricsSnapshot[K] extends number | boolean ? K : never }[keyof MetricsSnapshot];

interface Series {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly key: Exclude<NumericKey, 'ts'>;
}

const SERIES: readonly Series[] = [
  { name: 'bitmesh_earned_msat_total', type: 'counter', help: 'Millisatoshi earned selling upstream.', key: 'earnedMsat' },
  { name: 'bitmesh_spent_msat_total', type: 'counter', help: 'Millisatoshi spent buying upstream.', key: 'spentMsat' },
  { name: 'bitmesh_sold_bytes_total', type: 'counter', help: 'Bytes sold to clients (both directions).', key: 'bytesSold' },
  { name: 'bitmesh_bought_bytes_total', type: 'counter', help: 'Bytes bought from gateways (both directions).', key: 'bytesBought' },
  { name: 'bitmesh_channels_open', type: 'gauge', help: 'Payment channels open.', key: 'channelsOpen' },
  { name: 'bitmesh_peers', type: 'gauge', help: 'Mesh neighbours heard recently.', key: 'peers' },
  { name: 'bitmesh_price_msat_per_kib', type: 'gauge', help: 'Asking price, millisatoshi per KiB.', key: 'priceMsatPerKiB' },
  { name: 'bitmesh_selling', type: 'gauge', help: '1 while selling, 0 while paused.', key: 'selling' },
  { name: 'bitmesh_uptime_seconds', type: 'gauge', help: 'Seconds since the agent started.', key: 'uptimeS' },
  { name: 'bitmesh_memory_rss_bytes', type: 'gauge', help: 'Resident set size of the agent.', key: 'rssBytes' },
  { name: 'bitmesh_memory_heap_used_bytes', type: 'gauge', help: 'V8 heap in use.', key: 'heapUsedBytes' },
];

export function metricsToJson(m: MetricsSnapshot): string {
  return JSON.stringify(m);
}

/** Prometheus text exposition format 0.0.4. */
export function metricsToPrometheus(m: MetricsSnapshot): string {
  const out: string[] = [];
  for (const s of SERIES) {
    const v = m[s.key];
    out.push(`# HELP ${s.name} ${s.help}`, `# TYPE ${s.name} ${s.type}`, `${s.name} ${typeof v === 'boolean' ? (v ? 1 : 0) : v}`);
  }
  out.push(
    '# HELP bitmesh_node_info The node id and the crypto backend in use.',
    '# TYPE bitmesh_node_info gauge',
    `bitmesh_node_info{node="${label(m.node)}",crypto_backend="${label(m.cryptoBackend)}"} 1`,
  );
  return out.join('\n') + '\n';
}

export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

function label(v: string): string {
  return v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** Strict reader for a metrics message (fleet view): typed snapshot or undefined. */
export function parseMetrics(text: string): MetricsSnapshot | undefined {
  let j: unknown;
  try {
    j = JSON.parse(text);
  } catch {
    return undefined;
  }
  if (typeof j !== 'object' || j === null) return undefined;
  const o = j as Record<string, unknown>;
  if (typeof o['node'] !== 'string' || typeof o['cryptoBackend'] !== 'string' || typeof o['selling'] !== 'boolean') return undefined;
  for (const s of SERIES) if (s.key !== 'selling' && typeof o[s.key] !== 'number') return undefined;
  if (typeof o['ts'] !== 'number') return undefined;
  return o as unknown as MetricsSnapshot;
}
