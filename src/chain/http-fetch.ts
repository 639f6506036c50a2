// A small fetch for the Esplora client on node:http/https. Node's global fetch loads
// undici on first use, about 12 MiB of resident memory on a router that has 256 MiB;
// this covers what the client needs (GET/POST, a text body, abort, the status, headers
// and a streamed body it can cap) for about 4 MiB. Redirects are not followed, as the
// client asks of fetch.
import http from 'node:http';
import https from 'node:https';

export interface ResponseLike {
  readonly status: number;
  readonly headers: { get(name: string): string | null };
  readonly body: {
    getReader(): { read(): Promise<{ done: boolean; value?: Uint8Array }>; cancel(): Promise<void> };
    cancel(): Promise<void>;
  } | null;
}

export interface RequestLike {
  readonly method?: string;
  readonly body?: string;
  readonly headers?: Record<string, string>;
  readonly signal?: AbortSignal;
}

export type FetchLike = (url: string, init: RequestLike) => Promise<ResponseLike>;

export const httpFetch: FetchLike = (url, init) =>
  new Promise((resolve, reject) => {
    const u = new URL(url);
    const mod = u.protocol === 'https:' ? https : u.protocol === 'http:' ? http : undefined;
    if (!mod) return reject(new TypeError(`unsupported protocol ${u.protocol}`));
    const req = mod.request(u, { method: init.method ?? 'GET', headers: init.headers ?? {}, agent: false }, (res) => {
      const it = res[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
      const cancel = async () => void res.destroy();
      resolve({
        status: res.statusCode ?? 0,
        headers: {
          get: (name) => {
            const v = res.headers[name.toLowerCase()];
            return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
          },
        },
        body: {
          getReader: () => ({
            read: async () => {
              const r = await it.next();
              return r.done ? { done: true } : { done: false, value: new Uint8Array(r.value.buffer, r.value.byteOffset, r.value.byteLength) };
            },
            cancel,
          }),
          cancel,
        },
      });
    });
    const abort = () => req.destroy(new Error('aborted'));
    if (init.signal?.aborted) return abort();
    init.signal?.addEventListener('abort', abort, { once: true });
    req.on('error', reject);
    req.on('close', () => init.signal?.removeEventListener('abort', abort));
    if (init.body !== undefined) req.write(init.body);
    req.end();
  });
