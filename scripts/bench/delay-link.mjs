// A loopback link with added one-way delay and, optionally, a rate limit, in user space
// (this kernel has no netem): a UDP forwarder and a TCP forwarder. Node A talks to
// `aPort` and sees B there; B sees A at the forwarder's far socket (`bSidePort`).
//
// Each direction is one FIFO shared by datagrams and TCP chunks, like one wire:
// - rate (`rateBytesPerSec`, 0 = unlimited): a token bucket of `burstBytes`. The
//   departure time of each item is computed when it is queued (closed form of the
//   bucket), so a late timer in this process delays delivery but never loses link
//   capacity; TCP chunks are cut into pieces of at most `burstBytes` (a packet train,
//   not one 64 KiB lump that would add its own serialization time as latency).
// - delay (`delayMs`): every item is delivered `delayMs` after it left the bucket.
// - buffer (`bufferBytes`): a TCP source is paused while more than this waits for the
//   bucket (a router's finite queue; the rest backs up in the sender's socket), so a
//   bulk flow cannot bury the datagrams behind it in an unbounded queue.
// Delivery runs from one timer per direction, so order is kept within a direction.
import dgram from 'node:dgram';
import net from 'node:net';
import { performance } from 'node:perf_hooks';

/** One direction of the link: bucket, delay line, one delivery timer. */
class Direction {
  /** When the bucket's debt is paid off (ms, performance.now() clock). */
  #busyUntil = 0;
  /** Items in order: { at: delivery time in ms, go: () => void }. */
  #line = [];
  #head = 0;
  #timer;
  #immediate;

  constructor(link) {
    this.link = link;
  }

  /** Bytes that have not yet left the bucket (0 when unlimited). */
  backlogBytes(now = performance.now()) {
    const rate = this.link.rateBytesPerSec;
    return rate > 0 ? Math.max(0, ((this.#busyUntil - now) * rate) / 1000) : 0;
  }

  /** Ms until the backlog falls to `bytes`. */
  msUntilBacklog(bytes, now = performance.now()) {
    const rate = this.link.rateBytesPerSec;
    return rate > 0 ? Math.max(0, this.#busyUntil - (bytes * 1000) / rate - now) : 0;
  }

  /** Queue `len` bytes; `go` runs when they arrive at the far end. */
  send(len, go) {
    const now = performance.now();
    const { rateBytesPerSec: rate, burstBytes, delayMs } = this.link;
    let left = now;
    if (rate > 0) {
      // Token bucket of burstBytes at `rate`: tokens(t) = min(burst, (t − busyUntil) × rate).
      const debtFrom = Math.max(this.#busyUntil, now - (burstBytes * 1000) / rate);
      this.#busyUntil = debtFrom + (len * 1000) / rate;
      left = Math.max(now, this.#busyUntil);
    }
    this.#line.push({ at: left + delayMs, go });
    this.#arm(now);
  }

  #arm(now) {
    if (this.#timer || this.#immediate || this.#head >= this.#line.length) return;
    const wait = this.#line[this.#head].at - now;
    if (wait <= 0) this.#immediate = setImmediate(() => this.#drain());
    else this.#timer = setTimeout(() => this.#drain(), Math.ceil(wait));
  }

  #drain() {
    this.#timer = undefined;
    this.#immediate = undefined;
    const now = performance.now();
    while (this.#head < this.#line.length && this.#line[this.#head].at <= now) this.#line[this.#head++].go();
    if (this.#head > 1024 && this.#head * 2 > this.#line.length) {
      this.#line = this.#line.slice(this.#head);
      this.#head = 0;
    }
    this.#arm(now);
  }

  close() {
    clearTimeout(this.#timer);
    clearImmediate(this.#immediate);
    this.#line = [];
    this.#head = 0;
  }
}

export class DelayLink {
  /** Added one-way delay, each direction (ms). */
  delayMs = 0;
  /** Link rate, each direction (bytes/s); 0 = unlimited. */
  rateBytesPerSec = 0;
  /** Token-bucket depth (bytes): the most that leaves back to back after an idle spell. */
  burstBytes = 16 * 1024;
  /** Bytes a TCP source may have waiting for the bucket before it is paused. */
  bufferBytes = 64 * 1024;
  #closers = [];

  constructor({ delayMs = 0, rateBytesPerSec = 0, burstBytes, bufferBytes } = {}) {
    this.delayMs = delayMs;
    this.rateBytesPerSec = rateBytesPerSec;
    if (burstBytes !== undefined) this.burstBytes = burstBytes;
    if (bufferBytes !== undefined) this.bufferBytes = bufferBytes;
  }

  /** Forward UDP: A ↔ udpA (listen) … udpB ↔ B at bAddr:bPort; and TCP tcpListen → B's TCP port. */
  async start({ listenPort, bPort, aPort }) {
    const toB = new Direction(this);
    const toA = new Direction(this);
    const near = dgram.createSocket('udp4'); // faces A
    const far = dgram.createSocket('udp4'); // faces B
    await new Promise((r) => near.bind(listenPort, '127.0.0.1', r));
    await new Promise((r) => far.bind(0, '127.0.0.1', r));
    near.on('message', (m) => toB.send(m.length, () => far.send(m, bPort, '127.0.0.1')));
    far.on('message', (m) => toA.send(m.length, () => near.send(m, aPort, '127.0.0.1')));
    const tcp = net.createServer((down) => {
      const up = net.connect(bPort, '127.0.0.1');
      const pipe = (from, to, dir) => {
        let resumeTimer;
        from.on('data', (d) => {
          const piece = Math.max(1024, this.burstBytes);
          for (let i = 0; i < d.length; i += piece) {
            const part = d.subarray(i, i + piece);
            dir.send(part.length, () => to.destroyed || to.write(part));
          }
          if (this.rateBytesPerSec > 0 && !resumeTimer && dir.backlogBytes() > this.bufferBytes) {
            from.pause();
            // Resume once half the buffer has drained.
            resumeTimer = setTimeout(() => {
              resumeTimer = undefined;
              from.resume();
            }, Math.ceil(dir.msUntilBacklog(this.bufferBytes / 2)));
          }
        });
        from.on('end', () => dir.send(0, () => to.end()));
        from.on('error', () => to.destroy());
        from.on('close', () => clearTimeout(resumeTimer));
      };
      pipe(down, up, toB);
      pipe(up, down, toA);
    });
    await new Promise((r) => tcp.listen(listenPort, '127.0.0.1', r));
    this.bSidePort = far.address().port;
    this.#closers.push(() => near.close(), () => far.close(), () => tcp.close(), () => toB.close(), () => toA.close());
    return this;
  }

  /** The bandwidth-delay product at the current settings (bytes): rate × 2 × delay. */
  bdpBytes() {
    return Math.round((this.rateBytesPerSec * 2 * this.delayMs) / 1000);
  }

  close() {
    for (const c of this.#closers) c();
  }
}
