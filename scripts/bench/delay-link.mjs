// A loopback link with added one-way delay, in user space (this kernel has no netem):
// a UDP forwarder and a TCP forwarder that hold every datagram or chunk for `delayMs`
// before passing it on, in both directions, order kept. Node A talks to `aPort` and
// sees B there; B sees A at the forwarder's far socket (`bSidePort`).
import dgram from 'node:dgram';
import net from 'node:net';

export class DelayLink {
  delayMs = 0;
  #closers = [];

  /** Forward UDP: A ↔ udpA (listen) … udpB ↔ B at bAddr:bPort; and TCP tcpListen → B's TCP port. */
  async start({ listenPort, bPort, aPort }) {
    const near = dgram.createSocket('udp4'); // faces A
    const far = dgram.createSocket('udp4'); // faces B
    await new Promise((r) => near.bind(listenPort, '127.0.0.1', r));
    await new Promise((r) => far.bind(0, '127.0.0.1', r));
    const later = (fn) => (this.delayMs > 0 ? setTimeout(fn, this.delayMs) : setImmediate(fn));
    near.on('message', (m) => later(() => far.send(m, bPort, '127.0.0.1')));
    far.on('message', (m) => later(() => near.send(m, aPort, '127.0.0.1')));
    const tcp = net.createServer((down) => {
      const up = net.connect(bPort, '127.0.0.1');
      const pipe = (from, to) => {
        from.on('data', (d) => later(() => to.destroyed || to.write(d)));
        from.on('end', () => later(() => to.end()));
        from.on('error', () => to.destroy());
      };
      pipe(down, up);
      pipe(up, down);
    });
    await new Promise((r) => tcp.listen(listenPort, '127.0.0.1', r));
    this.bSidePort = far.address().port;
    this.#closers.push(() => near.close(), () => far.close(), () => tcp.close());
    return this;
  }

  close() {
    for (const c of this.#closers) c();
  }
}
