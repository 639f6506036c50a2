// The demo's "internet": an HTTP server on loopback that answers GET /bytes/N with N
// bytes, streamed, so downloads cost no disk and no memory.
import http from 'node:http';

const CHUNK = Buffer.alloc(64 * 1024, 0x62);

export async function startInternet() {
  const server = http.createServer((req, res) => {
    const m = /^\/bytes\/(\d{1,10})$/.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    let left = Number(m[1]);
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, CHUNK.length);
        left -= n;
        if (!res.write(n === CHUNK.length ? CHUNK : CHUNK.subarray(0, n))) return void res.once('drain', pump);
      }
      res.end();
    };
    pump();
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { port: server.address().port, close: () => new Promise((r) => server.close(r)) };
}
