// How often nft mode reads its kernel counters (DESIGN §7: CPU per packet, and idle
// CPU, on a router ten times slower than a laptop).
//
// Each read goes through the `nft -j -i` child and costs it a few milliseconds of CPU
// whatever it asks (the child builds its ruleset cache per command): ten reads a second
// were most of an idle agent's CPU with a channel open. While bytes flow the counters
// are read every `activeMs`: the payer pays for what its meter saw, so the meter's lag
// is the payment's lag. After `quietAfterMs` with no bytes, every `idleMs` only — unless
// the mesh link's own byte counters (a file read, no nft) jumped by `wakeBytes` since
// the last check, or the route changed: then at once. So a download that starts after
// a quiet spell is metered within one active period, and beacons alone (a few hundred
// bytes) do not wake the meter.
//
// Pure: the caller passes the time, the link counters and whether anything urgent
// happened, and reports what each read metered.

export interface MeterPaceOptions {
  /** Check period, and read period while bytes flow. */
  readonly activeMs: number;
  /** Read period after a quiet spell. */
  readonly idleMs: number;
  /** No bytes metered this long: idle. */
  readonly quietAfterMs: number;
  /** Link bytes since the last check that wake the meter at once (more than beacons make). */
  readonly wakeBytes: number;
}

export const DEFAULT_METER_PACE: MeterPaceOptions = { activeMs: 100, idleMs: 1000, quietAfterMs: 2000, wakeBytes: 4096 };

export class MeterPace {
  readonly #o: MeterPaceOptions;
  #lastReadAt = -Infinity;
  #lastBytesAt = -Infinity;
  #lastLink: number | undefined;
  /** Reads a link jump brought forward (the data plane counts reads and skips itself). */
  readonly stats = { wakes: 0 };

  constructor(o: MeterPaceOptions = DEFAULT_METER_PACE) {
    this.#o = o;
  }

  /** Bytes were metered recently: reads go at the active rate. */
  active(now: number): boolean {
    return now - this.#lastBytesAt < this.#o.quietAfterMs;
  }

  /**
   * Should the check at `now` read the counters? `link`: the mesh link's cumulative
   * byte count, or undefined when it cannot be read (then every check reads, as before
   * there was a pace). `urgent`: something besides bytes needs a read now (a new route).
   */
  shouldRead(now: number, link: number | undefined, urgent = false): boolean {
    const last = this.#lastLink;
    this.#lastLink = link;
    const woke = link !== undefined && last !== undefined && (link - last >= this.#o.wakeBytes || link < last);
    // Half a period of slack: the timer fires a little after the period, never before it.
    const period = link === undefined || this.active(now) ? this.#o.activeMs : this.#o.idleMs;
    const due = now - this.#lastReadAt >= period - this.#o.activeMs / 2;
    if (!(urgent || woke || due)) return false;
    if (woke && !due) this.stats.wakes++;
    this.#lastReadAt = now;
    return true;
  }

  /** After a read: how many bytes it metered (either direction, any channel). */
  metered(now: number, bytes: number): void {
    if (bytes > 0) this.#lastBytesAt = now;
  }
}
