// What waits while the broker is away. Bounded by count and by bytes, so a router that
// is cut off from its broker for a week does not run out of memory. When full, the
// oldest metrics go first (a newer sample says more), then the oldest events and
// results. Status is not queued: it is retained and republished on every connect.

export type QueuedKind = 'metrics' | 'event' | 'result';

export interface QueuedMessage {
  readonly kind: QueuedKind;
  readonly topic: string;
  readonly payload: Uint8Array;
  readonly qos: 0 | 1;
}

export interface OfflineQueueLimits {
  readonly maxMessages: number;
  readonly maxBytes: number;
}

export const DEFAULT_QUEUE_LIMITS: OfflineQueueLimits = { maxMessages: 500, maxBytes: 256 * 1024 };

export class OfflineQueue {
  #items: QueuedMessage[] = [];
  #bytes = 0;
  #dropped = 0;

  constructor(private readonly limits: OfflineQueueLimits = DEFAULT_QUEUE_LIMITS) {}

  get size(): number {
    return this.#items.length;
  }
  get bytes(): number {
    return this.#bytes;
  }
  /** Messages dropped because the queue was full, since start. */
  get dropped(): number {
    return this.#dropped;
  }

  push(m: QueuedMessage): void {
    const cost = costOf(m);
    if (cost > this.limits.maxBytes) {
      this.#dropped += 1;
      return;
    }
    this.#items.push(m);
    this.#bytes += cost;
    while (this.#items.length > this.limits.maxMessages || this.#bytes > this.limits.maxBytes) this.#dropOne();
  }

  /** Everything queued, oldest first; the queue is empty afterwards. */
  drain(): QueuedMessage[] {
    const out = this.#items;
    this.#items = [];
    this.#bytes = 0;
    return out;
  }

  #dropOne(): void {
    let i = this.#items.findIndex((m) => m.kind === 'metrics');
    if (i < 0) i = 0;
    const [gone] = this.#items.splice(i, 1);
    if (gone) this.#bytes -= costOf(gone);
    this.#dropped += 1;
  }
}

function costOf(m: QueuedMessage): number {
  return m.payload.length + m.topic.length;
}
