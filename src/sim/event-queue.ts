// The simulator's agenda: a binary min-heap of events ordered by time, then by the
// order they were scheduled (so equal times run first-in first-out, deterministically).

interface Entry<T> {
  readonly at: number;
  readonly seq: number;
  readonly item: T;
}

export class EventQueue<T> {
  readonly #heap: Entry<T>[] = [];
  #seq = 0;

  get size(): number {
    return this.#heap.length;
  }

  push(at: number, item: T): void {
    if (!Number.isFinite(at)) throw new RangeError(`event time must be finite, got ${at}`);
    const h = this.#heap;
    const e: Entry<T> = { at, seq: this.#seq++, item };
    // Sift up by moving parents down into the hole: no swaps, no temporary arrays.
    let i = h.length;
    h.push(e);
    while (i > 0) {
      const p = (i - 1) >> 1;
      const parent = h[p]!;
      if (!before(e, parent)) break;
      h[i] = parent;
      i = p;
    }
    h[i] = e;
  }

  /** Time of the next event, or undefined when empty. */
  peekTime(): number | undefined {
    return this.#heap[0]?.at;
  }

  /** The earliest event; the returned object is the queue's own entry (read it, do not keep it). */
  pop(): { readonly at: number; readonly item: T } | undefined {
    const h = this.#heap;
    const top = h[0];
    if (!top) return undefined;
    const last = h.pop()!;
    const n = h.length;
    if (n > 0) {
      // Sift the last entry down from the root, moving the smaller child up into the hole.
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= n) break;
        const r = l + 1;
        const c = r < n && before(h[r]!, h[l]!) ? r : l;
        if (!before(h[c]!, last)) break;
        h[i] = h[c]!;
        i = c;
      }
      h[i] = last;
    }
    return top;
  }
}

function before<T>(a: Entry<T>, b: Entry<T>): boolean {
  return a.at < b.at || (a.at === b.at && a.seq < b.seq);
}
