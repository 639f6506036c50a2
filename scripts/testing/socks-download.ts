// A minimal SOCKS5 client for tests: CONNECT through a local endpoint and read an
// HTTP response body (bytes counted, optionally stopped after a limit or on abort;
// onBytes sees them as they arrive, for callers that watch a long download's progress).
import net from 'node:net';

export interface DownloadResult {
  readonly bytes: number;
  readonly ok: boolean;
  readonly error?: string;
}

export function socksDownload(
  socksPort: number,
  target: { host: string; port: number; path: string },
  opts: { maxBytes?: number; signal?: AbortSignal; timeoutMs?: number; onBytes?: (n: number) => void } = {},
): Promise<DownloadResult> {
  return new Promise((resolve) => {
    const s = net.connect(socksPort, '127.0.0.1');
    let stage = 0;
    let buf = Buffer.alloc(0);
    let body = 0;
    let done = false;
    const finish = (ok: boolean, error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ bytes: body, ok, ...(error ? { error } : {}) });
    };
    const timer = setTimeout(() => finish(false, 'timeout'), opts.timeoutMs ?? 30_000);
    opts.signal?.addEventListener('abort', () => finish(true));
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.on('error', (e) => finish(false, e.message));
    s.on('close', () => finish(stage === 3, stage === 3 ? undefined : `closed in stage ${stage}`));
    s.on('data', (d: Buffer) => {
      if (stage === 3) {
        body += d.length;
        opts.onBytes?.(d.length);
        if (opts.maxBytes !== undefined && body >= opts.maxBytes) finish(true);
        return;
      }
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        if (buf[1] !== 0) return finish(false, 'socks auth refused');
        buf = buf.subarray(2);
        const host = Buffer.from(target.host);
        s.write(Buffer.concat([Buffer.from([5, 1, 0, 3, host.length]), host, Buffer.from([target.port >> 8, target.port & 255])]));
        stage = 1;
      }
      if (stage === 1 && buf.length >= 10) {
        if (buf[1] !== 0) return finish(false, `socks connect refused (${buf[1]})`);
        buf = buf.subarray(10);
        s.write(`GET ${target.path} HTTP/1.1\r\nHost: ${target.host}\r\nConnection: close\r\n\r\n`);
        stage = 2;
      }
      if (stage === 2) {
        const end = buf.indexOf('\r\n\r\n');
        if (end < 0) return;
        body = buf.length - end - 4;
        if (body > 0) opts.onBytes?.(body);
        stage = 3;
      }
    });
  });
}
