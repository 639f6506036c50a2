// One paying channel on the relay: its allowance (both directions summed), what it has
// used, and its live splices. It is the splices' meter: when the allowance is used up
// it holds every splice of the channel (no socket of the channel reads on) and lets
// them go again when a grant raises the allowance. Bytes pass up to exactly the
// allowance; the part of a chunk that does not fit waits in its splice.
import type { Usage } from '../backend.js';
import type { Splice, SpliceMeter } from './metered-splice.js';
import type { UsageBatcher, UsageSource } from './usage-batcher.js';

export class ChannelAccount implements SpliceMeter, UsageSource {
  #allowance = 0;
  #up = 0;
  #down = 0;
  #unreported = 0;
  #dirty = false;
  #exhausted = true;
  /** Revoked: new connections are refused until the next grant. */
  revoked = false;
  /** Connections past auth that are still dialling out. */
  dialling = 0;
  readonly splices = new Set<Splice>();

  constructor(
    readonly channelId: string,
    private readonly batcher: UsageBatcher,
    private readonly onUsage: (channelId: string, deltaBytes: number) => void,
  ) {}

  get exhausted(): boolean {
    return this.#exhausted;
  }

  get connections(): number {
    return this.splices.size + this.dialling;
  }

  usage(): Usage {
    return { upBytes: this.#up, downBytes: this.#down, totalBytes: this.#up + this.#down };
  }

  admit(up: boolean, want: number): number {
    const room = this.#allowance - this.#up - this.#down;
    const ok = want < room ? want : room > 0 ? room : 0;
    if (ok > 0) {
      if (up) this.#up += ok;
      else this.#down += ok;
      this.#unreported += ok;
      if (!this.#dirty) {
        this.#dirty = true;
        this.batcher.mark(this);
      }
    }
    if (ok === room || room <= 0) this.#exhaust();
    return ok;
  }

  /** Sets the allowance (total bytes since the first grant); never touches what was used. */
  grant(totalBytes: number): void {
    this.#allowance = totalBytes;
    this.revoked = false;
    if (this.#allowance > this.#up + this.#down) {
      if (!this.#exhausted) return;
      this.#exhausted = false;
      for (const s of this.splices) {
        // A release may use the room up again; the rest stay held.
        if (this.#exhausted) break;
        s.release();
      }
    } else {
      this.#exhaust();
    }
  }

  /** Allowance := used, and no new connections until the next grant. */
  revoke(): void {
    this.#allowance = this.#up + this.#down;
    this.revoked = true;
    this.#exhaust();
  }

  reportUsage(): void {
    this.#dirty = false;
    const d = this.#unreported;
    this.#unreported = 0;
    if (d > 0) this.onUsage(this.channelId, d);
  }

  closeAll(): void {
    for (const s of this.splices) s.destroy();
  }

  #exhaust(): void {
    if (this.#exhausted) return;
    this.#exhausted = true;
    for (const s of this.splices) s.hold();
    if (this.#dirty) this.batcher.soon();
  }
}
