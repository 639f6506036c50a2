// GET /metrics on 127.0.0.1:<port>, Prometheus text format. Loopback only: a scraper on
// the router (or an SSH tunnel) reads it; the mesh does not.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { PROMETHEUS_CONTENT_TYPE, metricsToPrometheus, type MetricsSnapshot } from './metrics.js';

export class MetricsHttpServer {
  #server: Server | undefined;

  constructor(
    private readonly port: number,
    private readonly snapshot: () => MetricsSnapshot,
    private readonly host = '127.0.0.1',
  ) {}

  /** The bound port (useful with port 0 in tests). */
  get boundPort(): number {
    return (this.#server?.address() as AddressInfo | null)?.port ?? 0;
  }

  async start(): Promise<void> {
    const server = createServer((req, res) => {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        res.writeHead(405, { allow: 'GET, HEAD' }).end();
        return;
      }
      if ((req.url ?? '').split('?')[0] !== '/metrics') {
        res.writeHead(404, { 'content-type': 'text/plain' }).end('try /metrics\n');
        return;
      }
      let body: string;
      try {
        body = metricsToPrometheus(this.snapshot());
      } catch (e) {
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`${(e as Error).message}\n`);
        return;
      }
      res.writeHead(200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, this.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#server = server;
  }

  async close(): Promise<void> {
    const s = this.#server;
    this.#server = undefined;
    if (!s) return;
    s.closeAllConnections();
    await new Promise<void>((resolve) => s.close(() => resolve()));
  }
}
