// Joins two sockets after a SOCKS5 handshake and moves bytes both ways through a meter.
//
// Per read chunk, one `meter.admit(up, n)` call says how many bytes may pass; the
// meter counts them. All of them: write the chunk as it is (no copy). Fewer: write the
// part that fits, keep the rest (a view, not a copy) and stop reading until the meter
// releases us (`release()` after a grant). Socket backpressure is the usual pipe()
// rule: a write that returns false pauses the source until `drain`. So nothing passes
// beyond the allowance, and at most one read chunk per direction waits in memory.
//
// Half-close is relayed (both sockets are created with allowHalfOpen): an `end` from
// one side becomes `end()` on the other once its held bytes are out. An error on
// either side destroys both.
import type { Socket } from 'node:net';

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
    if (this.#pending === undefined) this.dst.end();
  };

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
      if (this.#ended) this.dst.end();
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
  readonly #up: Half;
  readonly #down: Half;
  #open = 2;

  constructor(
    readonly client: Socket,
    readonly upstream: Socket,
    meter: SpliceMeter,
    private readonly onClosed: (s: Splice) => void,
  ) {
    this.#up = new Half(client, upstream, true, meter, this);
    this.#down = new Half(upstream, client, false, meter, this);
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
      s.on('end', h.onEnd);
      other.on('drain', h.onDrain);
      s.on('error', () => this.destroy());
      s.on('close', () => {
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
