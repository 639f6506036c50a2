// Which OPENs a gateway takes on, and which unfunded channels it forgets.
//
// Accepting an OPEN costs the gateway memory and a state file before the payer has put
// a single sat on chain, and node ids cost nothing to make. So the channels still
// waiting for their funding are bounded: per peer, in total, in age, and in how fast new
// ones may arrive. A payer funds right after ACCEPT (seconds), or, above the zero-conf
// cap, waits for confirmations (an hour or more); the limits leave room for both.
// Forgetting an unfunded channel costs its payer nothing it cannot get back: if it did
// fund, the refund path returns the coins at the channel's expiry height.
//
// Pure: the channel manager (src/agent/channel-manager.ts) holds the channels and the
// clock and carries out the decision.

/** An unfunded payee channel, as the admission rules see it. */
export interface UnfundedChannel {
  readonly id: string;
  /** The payer's node id (hex). */
  readonly peer: string;
  /** When the OPEN was accepted (or the channel restored after a restart), ms. */
  readonly since: number;
  /** The payer has sent FUNDED: its transaction is waiting for confirmations. */
  readonly fundingSeen: boolean;
}

export interface OpenAdmissionLimits {
  /** Unfunded channels one payer may hold: one in use and a successor, with room for a retry. */
  readonly perPeer: number;
  /** Unfunded channels in all; beyond it the oldest one with no funding seen makes room. */
  readonly total: number;
  /** A channel with no FUNDED this long after ACCEPT is forgotten. */
  readonly noFundingMs: number;
  /** A channel whose funding has not confirmed this long after ACCEPT is forgotten. */
  readonly unconfirmedMs: number;
  /** OPENs accepted at once after a quiet spell… */
  readonly burst: number;
  /** …and then one per this many ms (each accepted OPEN is a write to flash). */
  readonly refillMs: number;
}

export const DEFAULT_OPEN_ADMISSION: OpenAdmissionLimits = {
  perPeer: 4,
  total: 64,
  noFundingMs: 10 * 60_000,
  unconfirmedMs: 24 * 60 * 60_000,
  burst: 16,
  refillMs: 1000,
};

export type OpenRefusal = 'peer_unfunded_limit' | 'unfunded_limit' | 'open_rate';

export type AdmissionDecision =
  | { readonly ok: true; readonly evict: string | undefined }
  | { readonly ok: false; readonly reason: OpenRefusal; readonly message: string };

/** When `c` is forgotten if still unfunded. */
export function unfundedDeadline(c: UnfundedChannel, l: OpenAdmissionLimits): number {
  return c.since + (c.fundingSeen ? l.unconfirmedMs : l.noFundingMs);
}

/** The channels past their deadline at `now`. */
export function expiredUnfunded(channels: readonly UnfundedChannel[], now: number, l: OpenAdmissionLimits): UnfundedChannel[] {
  return channels.filter((c) => unfundedDeadline(c, l) <= now);
}

/**
 * May `peer` open one more channel, given the unfunded channels there are now (expired
 * ones already forgotten)? With the total reached, the oldest channel with no funding
 * seen is named to make room; one whose funding is on its way is never evicted.
 */
export function admitOpen(peer: string, unfunded: readonly UnfundedChannel[], l: OpenAdmissionLimits): AdmissionDecision {
  const own = unfunded.filter((c) => c.peer === peer).length;
  if (own >= l.perPeer) return { ok: false, reason: 'peer_unfunded_limit', message: `${own} channels of this peer await funding (at most ${l.perPeer})` };
  if (unfunded.length < l.total) return { ok: true, evict: undefined };
  let oldest: UnfundedChannel | undefined;
  for (const c of unfunded) if (!c.fundingSeen && (!oldest || c.since < oldest.since)) oldest = c;
  if (!oldest) return { ok: false, reason: 'unfunded_limit', message: `${unfunded.length} channels await confirmation (at most ${l.total})` };
  return { ok: true, evict: oldest.id };
}

/** A token bucket for accepted OPENs: `take(now)` is false when the rate is spent. */
export class OpenRate {
  #tokens: number;
  #at: number | undefined;

  constructor(private readonly l: Pick<OpenAdmissionLimits, 'burst' | 'refillMs'>) {
    this.#tokens = l.burst;
  }

  take(now: number): boolean {
    if (this.#at !== undefined) this.#tokens = Math.min(this.l.burst, this.#tokens + Math.max(0, now - this.#at) / this.l.refillMs);
    this.#at = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
