// Joins two sockets after a SOCKS5 handshake and moves bytes both ways through a meter.
//
// Per read chunk, one `meter.admit(up, n)` call says how many bytes may pass; the
// meter counts them. All of them: write the chunk as it is (no copy). Fewer: write the
// part that fits, keep the rest (a view, not a copy) and stop reading until the meter
// releases us (`release()` after a grant). Socket backpressure is the usual pipe()
// rule: a write that returns false pauses the source until `drain`. So nothing passes
// beyond the allowance, and at most one read chunk per direction waits in memory.
//
// Half-close (both sockets are created with allowHalfOpen): an upstream `end` becomes
// `end()` toward the client once its held bytes are out. What the client's `end`
// means is the owner's choice (`SpliceOptions.clientEnd`):
//   halfClose  relayed upstream, the download goes on (the default);
//   finish     (the gateway relay) the client is done: stop reading upstream, drop
//              what was not let through, flush what was, end. Every byte the relay
//              counted is then on its way to the client, which counts it too;
//   hold       (the client endpoint) kept back until the download has ended: to the
//              relay a FIN means `finish`, which would cut a half-closing app's reply.
// `drain` (the client endpoint): when the client errors or closes first (an aborted
// download), upstream is not reset but half-closed, and read on, counted and dropped,
// until it ends — at most `maxBytes` / `maxMs`. Bytes the relay had already sent (and
// billed) are so counted here too instead of vanishing in a reset's buffers, where
// the payee's and the payer's meters would part for good. Otherwise an error on either
// side destroys both.
import type { Socket } from 'node:net';

export interface SpliceOptions {
  readonly clientEnd?: 'halfClose' | 'finish' | 'hold';
  readonly drain?: { readonly maxBytes: number; readonly maxMs: number };
}

export interface SpliceMeter {
  /** How many of `want` bytes may pass now (0..want); counts them. Hot path. */
  admit(up: boolean, want: number): number;
  /** No room left: held halves stay held. */
  readonly exhausted: boolean;
}

class Half {
  #pending: Buffer | undefined;
  #drainWait = false;
  #ended = false;
  held = false;

  constructor(
    private readonly src: Socket,
    private readonly dst: Socket,
    private readonly up: boolean,
    private readonly meter: SpliceMeter,
    private readonly splice: Splice,
  ) {}

  readonly onData = (chunk: Buffer): void => {
    if (this.#pending !== undefined) {
      // A chunk already in flight when we paused: keep it behind the held bytes.
      this.#pending = Buffer.concat([this.#pending, chunk]);
      this.src.pause();
      return;
    }
    const n = chunk.length;
    const ok = this.meter.admit(this.up, n);
    this.splice.bytes += ok;
    if (ok === n) {
      if (!this.dst.write(chunk)) {
        this.#drainWait = true;
        this.src.pause();
      }
      return;
    }
    if (ok > 0) this.dst.write(chunk.subarray(0, ok));
    this.#pending = chunk.subarray(ok);
    this.src.pause();
  };

  readonly onDrain = (): void => {
    this.#drainWait = false;
    this.#maybeResume();
  };

  readonly onEnd = (): void => {
    this.#ended = true;
    if (this.#pending === undefined) this.#endDst();
  };

  /** Stops this direction for good: no more reads, held bytes dropped (never counted). */
  abandon(): void {
    this.src.off('data', this.onData);
    this.src.pause();
    this.#pending = undefined;
    this.#ended = true;
  }

  get ended(): boolean {
    return this.#ended && this.#pending === undefined;
  }

  #endDst(): void {
    if (this.up) this.splice.clientEnded();
    else {
      this.dst.end();
      this.splice.downEnded();
    }
  }

  hold(): void {
    this.held = true;
    this.src.pause();
  }

  /** The meter has room again: pass held bytes, then read on if nothing else blocks. */
  release(): void {
    // The other half (or another splice) may have used the room up again.
    if (this.meter.exhausted) return;
    this.held = false;
    const p = this.#pending;
    if (p !== undefined) {
      const ok = this.meter.admit(this.up, p.length);
      this.splice.bytes += ok;
      if (ok < p.length) {
        if (ok > 0) {
          this.dst.write(p.subarray(0, ok));
          this.#pending = p.subarray(ok);
        }
        return;
      }
      this.#pending = undefined;
      if (!this.dst.write(p)) this.#drainWait = true;
      if (this.#ended) this.#endDst();
    }
    this.#maybeResume();
  }

  get pendingBytes(): number {
    return this.#pending?.length ?? 0;
  }

  #maybeResume(): void {
    if (this.#pending === undefined && !this.#drainWait && !this.held && !this.#ended) this.src.resume();
  }
}

export class Splice {
  /** Bytes moved both ways; the owner's idle sweep compares it between sweeps. */
  bytes = 0;
  /** Idle sweep bookkeeping (see idle-sweep.ts). */
  sweptBytes = 0;
  quietSinceMs = Date.now();
  /** Bytes read from upstream after the client went (drain), counted and dropped. */
  drainedBytes = 0;
  readonly #up: Half;
  readonly #down: Half;
  readonly #meter: SpliceMeter;
  readonly #opts: SpliceOptions;
  #open = 2;
  #draining = false;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    meter: SpliceMeter,
    private readonly onClosed: (s: Splice) => void,
    opts: SpliceOptions = {},
  ) {
    this.#meter = meter;
    this.#opts = opts;
    this.#up = new Half(client, upstream, true, meter, this);
    this.#down = new Half(upstream, client, false, meter, this);
  }

  /** The client's end reached the head of its direction (nothing held before it). */
  clientEnded(): void {
    const mode = this.#opts.clientEnd ?? 'halfClose';
    if (mode === 'halfClose' || (mode === 'hold' && this.#down.ended)) {
      this.upstream.end();
    } else if (mode === 'finish') {
      this.#down.abandon();
      this.client.end();
      this.upstream.destroy();
    }
  }

  /** Upstream ended and its last byte went to the client. */
  downEnded(): void {
    if (this.#opts.clientEnd === 'hold' && this.#up.ended) this.upstream.end();
  }

  /** The client went first (error or close): drain upstream instead of resetting it. */
  #clientGone(): void {
    const d = this.#opts.drain;
    if (!d || this.#draining || this.upstream.destroyed) return this.destroy();
    this.#draining = true;
    this.client.destroy();
    this.#up.abandon();
    this.#down.abandon();
    const up = this.upstream;
    const timer = setTimeout(() => up.destroy(), d.maxMs);
    timer.unref();
    up.once('close', () => clearTimeout(timer));
    up.on('data', (chunk: Buffer) => {
      // The endpoint's meter never holds back; count what arrives, keep nothing.
      const n = this.#meter.admit(false, chunk.length);
      this.bytes += n;
      this.drainedBytes += n;
      if (this.drainedBytes >= d.maxBytes) up.destroy();
    });
    up.once('end', () => up.destroy());
    if (!up.writableEnded) up.end();
    up.resume();
  }

  /**
   * Starts moving bytes. `earlyUp`: client bytes that came with the handshake;
   * `earlyDown`: upstream bytes that came with its reply. Both go through the meter.
   */
  start(earlyUp?: Uint8Array, earlyDown?: Uint8Array, held = false): void {
    const { client, upstream } = this;
    for (const [s, h, other] of [
      [client, this.#up, upstream],
      [upstream, this.#down, client],
    ] as const) {
      s.pause();
      s.on('data', h.onData);
      // finish: the client's FIN ends the connection even while its last bytes are held.
      const finishNow = s === client && this.#opts.clientEnd === 'finish';
      s.on('end', finishNow ? () => (h.abandon(), this.clientEnded()) : h.onEnd);
      other.on('drain', h.onDrain);
      s.on('error', () => (s === client && !this.#down.ended ? this.#clientGone() : this.destroy()));
      s.on('close', () => {
        if (s === client && !this.upstream.destroyed && !this.#draining && !this.#down.ended) this.#clientGone();
        if (--this.#open === 0) this.onClosed(this);
      });
    }
    if (held) {
      this.#up.hold();
      this.#down.hold();
    }
    if (earlyUp && earlyUp.length > 0) this.#up.onData(asBuffer(earlyUp));
    if (earlyDown && earlyDown.length > 0) this.#down.onData(asBuffer(earlyDown));
    if (!held) {
      this.#up.release();
      this.#down.release();
    }
  }

  /** Allowance ran out: stop reading on both sockets. */
  hold(): void {
    this.#up.hold();
    this.#down.hold();
  }

  /** Allowance raised: pass held bytes and read on. */
  release(): void {
    this.#up.release();
    this.#down.release();
  }

  /** Bytes read but not yet allowed through (both directions). */
  get heldBytes(): number {
    return this.#up.pendingBytes + this.#down.pendingBytes;
  }

  destroy(): void {
    this.client.destroy();
    this.upstream.destroy();
  }
}

function asBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.length);
}
