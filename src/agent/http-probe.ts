// One throughput probe of the uplink: download a configured URL (at most `maxBytes`,
// within `timeoutMs`) and time it. The result is a capability ProbeResult: latency to
// the first byte, and the bytes and duration for a throughput observation. Never throws.
import http from 'node:http';
import type { ProbeResult } from '../core/market/capability.js';

export interface HttpProbeOptions {
  readonly url: string;
  readonly maxBytes: number;
  readonly timeoutMs: number;
  readonly clock: () => number;
}

export function httpProbe(o: HttpProbeOptions): Promise<ProbeResult> {
  const started = o.clock();
  return new Promise((resolve) => {
    let firstByteAt: number | undefined;
    let bytes = 0;
    let done = false;
    const finish = (ok: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      req.destroy();
      const now = o.clock();
      const latencyMs = Math.max(0, (firstByteAt ?? now) - started);
      resolve(ok && bytes > 0 ? { now, kind: 'http', target: o.url, ok, latencyMs, bytes, durationMs: Math.max(1, now - started) } : { now, kind: 'http', target: o.url, ok: false, latencyMs });
    };
    const req = http.get(o.url, (res) => {
      firstByteAt = o.clock();
      if ((res.statusCode ?? 0) >= 400) return finish(false);
      res.on('data', (d: Buffer) => {
        bytes += d.length;
        if (bytes >= o.maxBytes) finish(true);
      });
      res.on('end', () => finish(true));
      res.on('error', () => finish(bytes > 0));
    });
    req.on('error', () => finish(false));
    const timer = setTimeout(() => finish(bytes > 0), o.timeoutMs);
  });
}
