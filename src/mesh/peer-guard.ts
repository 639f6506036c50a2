// Per-peer admission before any decoding: a token bucket per source address, and a
// temporary ban for a source that keeps sending garbage. Keyed by address, not by
// node id, because garbage has no trustworthy id. The table is bounded; when full,
// the least recently active source is forgotten (a flood from many addresses costs
// memory for at most `maxPeers` entries).
//
// Time comes in as `now` (ms), as in ratelimiter.go with an injected clock.

export interface PeerGuardOptions {
  readonly ratePerSec: number;
  readonly burst: number;
  /** Bad datagrams within `garbageWindowMs` that earn a ban. */
  readonly garbageThreshold: number;
  readonly garbageWindowMs: number;
  readonly banMs: number;
  readonly maxPeers: number;
}

export type Admission = 'ok' | 'rate_limited' | 'banned';

interface PeerState {
  tokens: number;
  refilledAt: number;
  garbage: number;
  garbageSince: number;
  bannedUntil: number;
  lastActive: number;
  rejects: number;
}

export interface PeerGuardEntry {
  readonly address: string;
  readonly bannedUntil: number;
  readonly rejects: number;
}

export class PeerGuard {
  readonly #peers = new Map<string, PeerState>();
  constructor(private readonly opts: PeerGuardOptions) {}

  /** Call once per received datagram, before decoding it. */
  admit(address: string, now: number): Admission {
    const p = this.#get(address, now);
    p.lastActive = now;
    if (now < p.bannedUntil) return 'banned';
    const elapsed = Math.max(0, now - p.refilledAt);
    p.tokens = Math.min(this.opts.burst, p.tokens + (elapsed * this.opts.ratePerSec) / 1000);
    p.refilledAt = now;
    if (p.tokens < 1) {
      p.rejects++;
      return 'rate_limited';
    }
    p.tokens -= 1;
    return 'ok';
  }

  /** Call when a datagram from `address` failed to decode or authenticate. */
  reportGarbage(address: string, now: number): void {
    const p = this.#get(address, now);
    p.rejects++;
    if (now - p.garbageSince > this.opts.garbageWindowMs) {
      p.garbage = 0;
      p.garbageSince = now;
    }
    if (++p.garbage >= this.opts.garbageThreshold) {
      p.bannedUntil = now + this.opts.banMs;
      p.garbage = 0;
      p.garbageSince = now;
    }
  }

  isBanned(address: string, now: number): boolean {
    const p = this.#peers.get(address);
    return p !== undefined && now < p.bannedUntil;
  }

  get size(): number {
    return this.#peers.size;
  }

  banned(now: number): PeerGuardEntry[] {
    const out: PeerGuardEntry[] = [];
    for (const [address, p] of this.#peers) {
      if (now < p.bannedUntil) out.push({ address, bannedUntil: p.bannedUntil, rejects: p.rejects });
    }
    return out;
  }

  #get(address: string, now: number): PeerState {
    let p = this.#peers.get(address);
    if (p) {
      // Re-insert to keep the map in least-recently-active order for eviction.
      this.#peers.delete(address);
      this.#peers.set(address, p);
      return p;
    }
    if (this.#peers.size >= this.opts.maxPeers) this.#evictOne(now);
    p = { tokens: this.opts.burst, refilledAt: now, garbage: 0, garbageSince: now, bannedUntil: 0, lastActive: now, rejects: 0 };
    this.#peers.set(address, p);
    return p;
  }

  #evictOne(now: number): void {
    // Prefer forgetting an idle, unbanned source; a banned one is kept so a flood
    // cannot launder its own ban by churning the table.
    for (const [addr, p] of this.#peers) {
      if (now >= p.bannedUntil) {
        this.#peers.delete(addr);
        return;
      }
    }
    const first = this.#peers.keys().next().value;
    if (first !== undefined) this.#peers.delete(first);
  }
}
