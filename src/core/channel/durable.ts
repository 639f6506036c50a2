// Durability bookkeeping shared by both machines. A machine emits `persist` effects
// numbered by version; the adapter writes them (coalesced, rate-bounded: the newest
// wins) and reports `persisted(version)` once that version is on flash. Everything a
// machine promises the peer on the strength of its state (the payee's grants, the
// payer's ticks) is bounded by what is already durable, so a crash never loses more
// than the reserve it holds ahead (reservation.ts idea: allocate ahead, like hi/lo ids).
//
// Values tracked here only grow, so "version v is durable" makes every value recorded
// at or before v durable.

export class DurableValues<K extends string> {
  #version: number;
  #durableVersion: number;
  readonly #durable: Record<K, number>;
  readonly #requested: Record<K, number>;
  /** In-flight versions and the values they carry; bounded (older ones are covered by newer). */
  #inflight: { version: number; values: Record<K, number> }[] = [];

  constructor(initial: Record<K, number>, version = 0) {
    this.#durable = { ...initial };
    this.#requested = { ...initial };
    this.#version = version;
    // A machine restored from snapshot `version` knows that version is on flash.
    this.#durableVersion = version;
  }

  /** The newest version reported durable. */
  get durableVersion(): number {
    return this.#durableVersion;
  }

  get version(): number {
    return this.#version;
  }
  durable(k: K): number {
    return this.#durable[k];
  }
  requested(k: K): number {
    return this.#requested[k];
  }

  /** Raises a requested value (never lowers). The next `nextVersion()` carries it. */
  request(k: K, v: number): void {
    if (v > this.#requested[k]) this.#requested[k] = v;
  }

  /** Allocates the version of a snapshot being emitted now, carrying the requested values. */
  nextVersion(): number {
    this.#version++;
    this.#inflight.push({ version: this.#version, values: { ...this.#requested } });
    if (this.#inflight.length > 64) this.#inflight.shift();
    return this.#version;
  }

  /** The adapter reports version `v` durable. Returns true when a durable value rose. */
  persisted(v: number): boolean {
    if (v > this.#durableVersion && v <= this.#version) this.#durableVersion = v;
    let rose = false;
    let hit: Record<K, number> | undefined;
    this.#inflight = this.#inflight.filter((e) => {
      if (e.version <= v) {
        if (e.version === v) hit = e.values;
        return false;
      }
      return true;
    });
    if (!hit) return false;
    for (const k of Object.keys(hit) as K[]) {
      if (hit[k] > this.#durable[k]) {
        this.#durable[k] = hit[k];
        rose = true;
      }
    }
    return rose;
  }
}
