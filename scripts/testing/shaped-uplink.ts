// Test support: a gateway's "uplink" of a given rate on loopback, where every gateway
// reaches the same local "internet" at memory speed. It sits between the channel
// manager and the relay and releases each paid allowance to the relay at most at the
// uplink's rate (a token bucket shared by the gateway's clients), so the relay really
// delivers that rate and a client's own measurement sees it. It never releases more
// than was granted; a revoke passes straight through.
import type { ClientRef, DataplaneBackend, Usage } from '../../src/dataplane/backend.js';

const STEP_MS = 20;
/** Allowance released ahead of what was used: this many ms of the uplink's rate. */
const AHEAD_MS = 100;

interface Shaped {
  ref: ClientRef;
  target: number;
  released: number;
  revoked: boolean;
}

export class ShapedUplink implements DataplaneBackend {
  readonly name: 'nft' | 'proxy';
  readonly #inner: DataplaneBackend;
  readonly #bytesPerMs: number;
  readonly #ahead: number;
  readonly #channels = new Map<string, Shaped>();
  #tokens = 0;
  #last = Date.now();
  #busy = false;
  readonly #timer: NodeJS.Timeout;

  constructor(inner: DataplaneBackend, kbps: number) {
    this.name = inner.name;
    this.#inner = inner;
    this.#bytesPerMs = (kbps * 1000) / 8 / 1000;
    this.#ahead = Math.max(16 * 1024, this.#bytesPerMs * AHEAD_MS);
    this.#timer = setInterval(() => void this.#step(), STEP_MS);
    this.#timer.unref();
  }

  start(): Promise<void> {
    return this.#inner.start();
  }

  async stop(): Promise<void> {
    clearInterval(this.#timer);
    await this.#inner.stop();
  }

  async grant(client: ClientRef, totalBytes: number): Promise<void> {
    let c = this.#channels.get(client.channelId);
    const fresh = !c || c.revoked;
    if (!c) {
      c = { ref: client, target: 0, released: 0, revoked: false };
      this.#channels.set(client.channelId, c);
    }
    c.ref = client;
    c.target = Math.max(c.target, totalBytes);
    c.revoked = false;
    if (fresh) await this.#inner.grant(client, c.released);
  }

  async revoke(channelId: string): Promise<void> {
    const c = this.#channels.get(channelId);
    if (c) c.revoked = true;
    await this.#inner.revoke(channelId);
  }

  usage(channelId: string): Promise<Usage | undefined> {
    return this.#inner.usage(channelId);
  }

  async remove(channelId: string): Promise<void> {
    this.#channels.delete(channelId);
    await this.#inner.remove(channelId);
  }

  async #step(): Promise<void> {
    if (this.#busy) return;
    this.#busy = true;
    try {
      const now = Date.now();
      this.#tokens = Math.min(this.#ahead, this.#tokens + this.#bytesPerMs * (now - this.#last));
      this.#last = now;
      const hungry: Shaped[] = [];
      for (const c of this.#channels.values()) {
        if (c.revoked || c.target <= c.released) continue;
        const used = (await this.#inner.usage(c.ref.channelId))?.totalBytes ?? 0;
        if (c.released - used < this.#ahead) hungry.push(c);
      }
      for (const c of hungry) {
        const give = Math.min(c.target - c.released, this.#tokens / hungry.length);
        if (!(give >= 1)) continue;
        this.#tokens -= give;
        c.released += Math.floor(give);
        await this.#inner.grant(c.ref, c.released);
      }
    } finally {
      this.#busy = false;
    }
  }
}
