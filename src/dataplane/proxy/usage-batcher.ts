// Batches per-channel usage reports: the hot path only marks an account dirty (once
// per batch); one timer per batcher reports every dirty account at most every
// `intervalMs`. `soon()` reports on the next turn of the event loop (used when an
// allowance runs out, so the manager sees the exact count without waiting).
// Reports never run inside a socket's data handler, so a report may call grant().

export interface UsageSource {
  /** Report what accumulated since the last call, and clear the dirty mark. */
  reportUsage(): void;
}

export class UsageBatcher {
  readonly #dirty = new Set<UsageSource>();
  #timer: NodeJS.Timeout | undefined;
  #immediate: NodeJS.Immediate | undefined;

  constructor(private readonly intervalMs: number) {}

  mark(s: UsageSource): void {
    this.#dirty.add(s);
    if (this.#timer === undefined && this.#immediate === undefined) this.#timer = setTimeout(this.flush, this.intervalMs);
  }

  soon(): void {
    if (this.#immediate !== undefined) return;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#immediate = setImmediate(this.flush);
  }

  readonly flush = (): void => {
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    if (this.#immediate !== undefined) clearImmediate(this.#immediate);
    this.#timer = undefined;
    this.#immediate = undefined;
    const dirty = [...this.#dirty];
    this.#dirty.clear();
    for (const s of dirty) s.reportUsage();
  };
}
