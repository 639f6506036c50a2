// The client's sealed-bid auction: rank bids by expected goodput per price (score.ts),
// award the best, and pay it the quality-adjusted second price.
//
// Rules:
// - A bid is eligible when its price ≤ the client's max price and its expected goodput
//   is > 0. Ineligible bids are reported with the reason.
// - The winner is the first in compareScored order.
// - Payment = the highest whole price at which the winner would still have won, all
//   else equal: against the runner-up r that is about p_r × g_w / g_r (exactly: the
//   largest integer price keeping the winner first under compareScored, tie rules
//   included), capped at the client's max price. With a single eligible bid the
//   client's max price is the reserve, so that is what is paid (Vickrey with reserve).
//   The payment is never below the winner's own bid.
// Why truthful: whether a gateway wins depends on its price only through "price ≤
// threshold", and the threshold does not depend on its own price; so bidding its true
// cost wins exactly when winning is profitable (auction.test.ts checks this on random
// instances).
import type { BidBody } from '../wire/messages.js';
import { MarketStateError } from './errors.js';
import { compareScored, expectedGoodputKbps, scoreOf, type GatewayView, type Scored } from './score.js';

export interface AuctionRequest {
  readonly wantedKbps: number;
  readonly maxPriceMsatPerKiB: number;
  /** Rank by the client's surplus at its max price instead of goodput per price (score.ts). */
  readonly bySurplus?: boolean;
}

/** One bid as the auction sees it: the gateway's claims plus the client's view of it. */
export interface Candidate {
  /** Hex node id of the gateway. */
  readonly gateway: string;
  readonly priceMsatPerKiB: number;
  readonly capacityKbps: number;
  readonly termMs: number;
  readonly view: GatewayView;
}

export function candidateFromBid(gateway: string, bid: BidBody, view: GatewayView): Candidate {
  return { gateway, priceMsatPerKiB: bid.priceMsatPerKiB, capacityKbps: bid.capacityKbps, termMs: bid.termMs, view };
}

export interface RankedBid extends Scored {
  readonly candidate: Candidate;
  /** goodput / price, Infinity at price 0. */
  readonly score: number;
}

export type ExclusionReason = 'above_max_price' | 'no_goodput';

export interface Ranking {
  /** Eligible bids, best first. */
  readonly ranked: readonly RankedBid[];
  readonly excluded: readonly { readonly gateway: string; readonly reason: ExclusionReason }[];
}

export type AuctionOutcome =
  | {
      readonly kind: 'award';
      readonly winner: RankedBid;
      readonly runnerUp: RankedBid | undefined;
      readonly priceMsatPerKiB: number;
      readonly ranking: Ranking;
    }
  | { readonly kind: 'no_award'; readonly ranking: Ranking };

export function rankBids(req: AuctionRequest, candidates: readonly Candidate[]): Ranking {
  const seen = new Set<string>();
  const ranked: RankedBid[] = [];
  const excluded: { gateway: string; reason: ExclusionReason }[] = [];
  for (const c of candidates) {
    if (seen.has(c.gateway)) throw new MarketStateError(`two bids from ${c.gateway} in one auction`);
    seen.add(c.gateway);
    if (!(c.priceMsatPerKiB <= req.maxPriceMsatPerKiB)) {
      excluded.push({ gateway: c.gateway, reason: 'above_max_price' });
      continue;
    }
    const goodputKbps = expectedGoodputKbps(c.capacityKbps, req.wantedKbps, c.view);
    if (!(goodputKbps > 0)) {
      excluded.push({ gateway: c.gateway, reason: 'no_goodput' });
      continue;
    }
    const s: Scored = { gateway: c.gateway, priceMsatPerKiB: c.priceMsatPerKiB, goodputKbps };
    ranked.push({ ...s, candidate: c, score: scoreOf(s) });
  }
  const value = req.bySurplus ? req.maxPriceMsatPerKiB : undefined;
  ranked.sort((a, b) => compareScored(a, b, value));
  return { ranked, excluded };
}

export function runAuction(req: AuctionRequest, candidates: readonly Candidate[]): AuctionOutcome {
  const ranking = rankBids(req, candidates);
  const [winner, runnerUp] = ranking.ranked;
  if (!winner) return { kind: 'no_award', ranking };
  const priceMsatPerKiB = thresholdPrice(winner, runnerUp, req.maxPriceMsatPerKiB, req.bySurplus ? req.maxPriceMsatPerKiB : undefined);
  return { kind: 'award', winner, runnerUp, priceMsatPerKiB, ranking };
}

/**
 * The highest integer price in [winner's bid, maxPrice] at which `winner` still ranks
 * before `runnerUp`. Binary search over the comparator itself, so ties and price 0
 * follow exactly the ranking rules.
 */
export function thresholdPrice(winner: Scored, runnerUp: Scored | undefined, maxPriceMsatPerKiB: number, valueMsatPerKiB?: number): number {
  const max = Math.floor(maxPriceMsatPerKiB);
  if (!runnerUp) return max;
  const wins = (p: number) => compareScored({ ...winner, priceMsatPerKiB: p }, runnerUp, valueMsatPerKiB) < 0;
  let lo = winner.priceMsatPerKiB; // wins here by construction
  let hi = max;
  if (wins(hi)) return hi;
  // Invariant: wins(lo) && !wins(hi).
  while (hi - lo > 1) {
    const mid = lo + Math.floor((hi - lo) / 2);
    if (wins(mid)) lo = mid;
    else hi = mid;
  }
  return lo;
}
