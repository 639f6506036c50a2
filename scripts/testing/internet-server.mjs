// Test support: the local "internet" as its own process, so the test runner's load
// does not slow it. GET /probe answers 2 MiB (a gateway's uplink probe); any other
// path an endless body (downloads). Prints its port on stdout; SIGTERM ends it.
import http from 'node:http';

const chunk = Buffer.alloc(64 * 1024, 7);
const server = http.createServer((req, res) => {
  res.writeHead(200, { 'content-type': 'application/octet-stream' });
  let left = req.url === '/probe' ? 2 * 1024 * 1024 : Infinity;
  const pump = () => {
    while (left > 0) {
      left -= chunk.length;
      if (!res.write(chunk)) return void res.once('drain', pump);
    }
    res.end();
  };
  res.on('close', () => res.removeAllListeners('drain'));
  pump();
});
server.listen(0, '127.0.0.1', () => process.stdout.write(`${server.address().port}\n`));
process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
