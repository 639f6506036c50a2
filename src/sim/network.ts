// The simulated mesh under the control plane: datagrams take `hopLatencyMs` (plus
// jitter) per hop and survive each hop with probability 1 − hopLoss, so loss rises
// with the hop count. Every transmission on the air is counted by message type:
// a unicast costs its bytes once per hop, a scoped flood once per rebroadcasting node.
import type { EventQueue } from './event-queue.js';
import type { SimRng } from './rng.js';

export interface NetworkOptions {
  readonly hopLatencyMs: number;
  readonly hopJitterMs: number;
  readonly hopLoss: number;
}

export const DEFAULT_NETWORK_OPTIONS: NetworkOptions = { hopLatencyMs: 3, hopJitterMs: 2, hopLoss: 0.01 };

export interface Datagram {
  readonly kind: 'datagram';
  readonly to: number;
  readonly data: Uint8Array;
}

export class SimNetwork {
  readonly airBytes = new Map<string, number>();
  delivered = 0;
  lost = 0;

  constructor(
    private readonly queue: EventQueue<Datagram | { kind: string }>,
    private readonly rng: SimRng,
    private readonly opts: NetworkOptions = DEFAULT_NETWORK_OPTIONS,
  ) {}

  /** Counts `transmissions` × bytes on the air for `type`. */
  chargeAir(type: string, bytes: number, transmissions: number): void {
    this.airBytes.set(type, (this.airBytes.get(type) ?? 0) + bytes * transmissions);
  }

  /** Schedules delivery to node `to`, `hops` away, unless a hop loses it. */
  deliver(now: number, to: number, hops: number, data: Uint8Array): void {
    const h = Math.max(1, hops);
    if (this.rng.next() >= (1 - this.opts.hopLoss) ** h) {
      this.lost++;
      return;
    }
    this.delivered++;
    const latency = h * this.opts.hopLatencyMs + this.rng.next() * this.opts.hopJitterMs * h;
    this.queue.push(now + latency, { kind: 'datagram', to, data });
  }

  /** A unicast over `hops` hops: charged per hop. */
  unicast(now: number, type: string, to: number, hops: number, data: Uint8Array): void {
    this.chargeAir(type, data.length, Math.max(1, hops));
    this.deliver(now, to, hops, data);
  }

  totalAirBytes(): number {
    let s = 0;
    for (const v of this.airBytes.values()) s += v;
    return s;
  }
}
