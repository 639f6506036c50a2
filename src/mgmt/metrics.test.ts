import { describe, it, expect, afterEach } from 'vitest';
import { request } from 'node:http';
import { metricsToJson, metricsToPrometheus, parseMetrics, type MetricsSnapshot } from './metrics.js';
import { MetricsHttpServer } from './metrics-http.js';

const SNAP: MetricsSnapshot = {
  node: 'bm1example',
  ts: 1_800_000_000_000,
  earnedMsat: 123_456,
  spentMsat: 7,
  bytesSold: 1_048_576,
  bytesBought: 0,
  channelsOpen: 2,
  peers: 5,
  priceMsatPerKiB: 100,
  selling: true,
  cryptoBackend: 'noble',
  uptimeS: 3600,
  rssBytes: 50_000_000,
  heapUsedBytes: 20_000_000,
};

/** name → value, from Prometheus text. */
function samples(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), line.slice(i + 1));
  }
  return out;
}

describe('metrics', () => {
  it('renders the same figures as Prometheus text and as MQTT JSON', () => {
    const text = metricsToPrometheus(SNAP);
    const s = samples(text);
    expect(s.get('bitmesh_earned_msat_total')).toBe('123456');
    expect(s.get('bitmesh_sold_bytes_total')).toBe('1048576');
    expect(s.get('bitmesh_price_msat_per_kib')).toBe('100');
    expect(s.get('bitmesh_selling')).toBe('1');
    expect(s.get('bitmesh_node_info{node="bm1example",crypto_backend="noble"}')).toBe('1');
    // Every sample has its HELP and TYPE lines, counters end in _total.
    for (const name of s.keys()) {
      const base = name.split('{')[0]!;
      expect(text).toContain(`# HELP ${base} `);
      expect(text).toMatch(new RegExp(`# TYPE ${base} (counter|gauge)`));
      if (text.includes(`# TYPE ${base} counter`)) expect(base.endsWith('_total')).toBe(true);
    }
    expect(parseMetrics(metricsToJson(SNAP))).toEqual(SNAP);
  });

  it('escapes label values', () => {
    const text = metricsToPrometheus({ ...SNAP, cryptoBackend: 'a"b\\c\nd' });
    expect(text).toContain('crypto_backend="a\\"b\\\\c\\nd"');
  });

  it('parseMetrics refuses what is not a snapshot', () => {
    expect(parseMetrics('offline')).toBeUndefined();
    expect(parseMetrics('{}')).toBeUndefined();
    expect(parseMetrics(JSON.stringify({ ...SNAP, peers: '5' }))).toBeUndefined();
  });
});

describe('MetricsHttpServer', () => {
  let server: MetricsHttpServer | undefined;
  afterEach(async () => server?.close());

  const get = (port: number, path: string, method = 'GET') =>
    new Promise<{ status: number; type: string; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
      });
      req.on('error', reject);
      req.end();
    });

  it('serves /metrics on loopback, fresh on every request', async () => {
    let earned = 1;
    server = new MetricsHttpServer(0, () => ({ ...SNAP, earnedMsat: earned }));
    await server.start();
    const port = server.boundPort;
    const a = await get(port, '/metrics');
    expect(a.status).toBe(200);
    expect(a.type).toContain('text/plain; version=0.0.4');
    expect(samples(a.body).get('bitmesh_earned_msat_total')).toBe('1');
    earned = 2;
    expect(samples((await get(port, '/metrics')).body).get('bitmesh_earned_msat_total')).toBe('2');
    expect((await get(port, '/other')).status).toBe(404);
    expect((await get(port, '/metrics', 'POST')).status).toBe(405);
  });

  it('answers 500, not a crash, when the snapshot fails', async () => {
    server = new MetricsHttpServer(0, () => {
      throw new Error('boom');
    });
    await server.start();
    expect((await get(server.boundPort, '/metrics')).status).toBe(500);
  });
});
