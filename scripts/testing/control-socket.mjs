// One control request from a plain-JS script (demo, benches), the same JSON-lines
// protocol as src/agent/control-client.ts: `{"cmd","args"}` in, `{"ok","result"|"error"}` out.
import net from 'node:net';

export function ask(sock, cmd, args = {}) {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock);
    let buf = '';
    c.setEncoding('utf8');
    c.on('connect', () => c.write(JSON.stringify({ cmd, args }) + '\n'));
    c.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) {
        c.end();
        const r = JSON.parse(buf);
        r.ok ? resolve(r.result) : reject(new Error(r.error.message));
      }
    });
    c.on('error', reject);
  });
}
