// Loopback ports for agents, devchains and SOCKS endpoints started by tests and the demo.
import dgram from 'node:dgram';
import net from 'node:net';

/**
 * `n` distinct loopback ports the kernel just handed out, free for both UDP and TCP (an
 * agent's mesh port carries HELLOs over UDP and a gateway's relay over TCP; SOCKS and
 * devchain ports are TCP), so parallel suites do not collide. Each is held until all
 * are found, so none is handed out twice in one call.
 * @param {number} n
 * @returns {Promise<number[]>}
 */
export async function freePorts(n) {
  const held = [];
  const ports = [];
  try {
    for (let tries = 0; ports.length < n; tries++) {
      if (tries > 10 * n) throw new Error(`no ${n} loopback ports free for both UDP and TCP`);
      const udp = dgram.createSocket('udp4');
      await new Promise((r) => udp.bind(0, '127.0.0.1', r));
      const port = udp.address().port;
      const tcp = net.createServer();
      const ok = await new Promise((r) => {
        tcp.once('error', () => r(false));
        tcp.listen(port, '127.0.0.1', () => r(true));
      });
      // A port whose TCP side is taken stays held, so the kernel does not offer it again.
      held.push({ udp, tcp: ok ? tcp : undefined });
      if (ok) ports.push(port);
    }
    return ports;
  } finally {
    await Promise.all(held.flatMap((h) => [new Promise((r) => h.udp.close(r)), ...(h.tcp ? [new Promise((r) => h.tcp.close(r))] : [])]));
  }
}
