// One HTTP GET through a SOCKS5 proxy (RFC 1928, CONNECT, no auth), counting the body
// bytes as they arrive. Enough for the demo's clients; real applications use curl or a
// browser pointed at the same endpoint.
import net from 'node:net';

/** Resolves with the body bytes received; `onBytes` sees every chunk as it arrives. */
export function socksGet({ socksPort, host, port, path, timeoutMs = 20_000, onBytes = () => {} }) {
  return new Promise((resolve, reject) => {
    const s = net.connect(socksPort, '127.0.0.1');
    let stage = 'greeting';
    let buf = Buffer.alloc(0);
    let headerDone = false;
    let body = 0;
    const timer = setTimeout(() => s.destroy(new Error(`GET ${path}: timed out`)), timeoutMs);
    s.on('connect', () => s.write(Buffer.from([5, 1, 0])));
    s.on('data', (d) => {
      if (stage === 'stream') return count(d);
      buf = Buffer.concat([buf, d]);
      if (stage === 'greeting' && buf.length >= 2) {
        if (buf[0] !== 5 || buf[1] !== 0) return s.destroy(new Error('SOCKS5: no acceptable method'));
        buf = buf.subarray(2);
        const ip = host.split('.').map(Number);
        s.write(Buffer.from([5, 1, 0, 1, ...ip, port >> 8, port & 255]));
        stage = 'reply';
      }
      if (stage === 'reply' && buf.length >= 10) {
        if (buf[1] !== 0) return s.destroy(new Error(`SOCKS5: CONNECT refused (reply ${buf[1]})`));
        const rest = buf.subarray(10);
        stage = 'stream';
        s.write(`GET ${path} HTTP/1.0\r\nHost: ${host}\r\n\r\n`);
        if (rest.length) count(rest);
      }
    });
    let head = Buffer.alloc(0);
    function count(d) {
      if (!headerDone) {
        head = Buffer.concat([head, d]);
        const end = head.indexOf('\r\n\r\n');
        if (end < 0) return;
        headerDone = true;
        d = head.subarray(end + 4);
      }
      body += d.length;
      onBytes(d.length);
    }
    s.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(body);
    });
  });
}
