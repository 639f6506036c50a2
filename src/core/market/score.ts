// How a client values a gateway: expected goodput per unit price, and the one total
// order every ranking in the market uses.
//
// Expected goodput (kbit/s):
// - no own measurement:  min(wanted, claim × reputation discount × link quality, path throughput)
// - own measurement:     min(wanted, own, claim × reputation discount)
//   Our own measurement comes first — it already includes the mesh path, so link
//   quality is not applied again — and the discounted claim stays a ceiling, so a
//   gateway with a bad record cannot hide behind one good measurement.
// - times the gateway's reliability in [0, 1] (the client passes its reputation
//   discount): a gateway caught over-claiming sells capacity it does not have, so
//   what it delivers us now shrinks as the clients it oversold arrive; and its claim
//   is worth less in every comparison, not only when the claim is what binds.
// - times the incumbent bonus (≥ 1) for the gateway currently awarded, in re-auctions.
//   Both are quality factors independent of the bid price, so truthfulness is untouched.
//
// Order: higher goodput/price first (price 0 is infinitely good), then higher goodput,
// then lower gateway id — total and deterministic.

/** What the client knows about one gateway besides its bid. */
export interface GatewayView {
  /** Reputation discount on claims, in [0, 1]. */
  readonly discount: number;
  /** Mesh link quality to the gateway in [0, 1]; undefined when no source is configured. */
  readonly linkQuality?: number;
  /** Throughput of the mesh path to the gateway (kbit/s), when the link source measures it. */
  readonly pathKbps?: number;
  /** Fresh goodput this client measured through the gateway. */
  readonly ownGoodputKbps?: number;
  /** ≥ 1 for the incumbent in a re-auction, else 1 (or undefined). */
  readonly incumbentBonus?: number;
  /** Multiplier in [0, 1] on the whole expected goodput; undefined = 1. */
  readonly reliability?: number;
}

export function expectedGoodputKbps(claimKbps: number, wantedKbps: number, view: GatewayView): number {
  const discounted = nonNeg(claimKbps) * clamp01(view.discount);
  const base =
    view.ownGoodputKbps !== undefined
      ? Math.min(nonNeg(wantedKbps), nonNeg(view.ownGoodputKbps), discounted)
      : Math.min(
          nonNeg(wantedKbps),
          discounted * (view.linkQuality === undefined ? 1 : clamp01(view.linkQuality)),
          view.pathKbps === undefined ? Infinity : nonNeg(view.pathKbps),
        );
  const bonus = view.incumbentBonus !== undefined && view.incumbentBonus > 1 ? view.incumbentBonus : 1;
  const reliability = view.reliability === undefined ? 1 : clamp01(view.reliability);
  return base * reliability * bonus;
}

/** A scored offer: who, at what price, how much goodput. */
export interface Scored {
  readonly gateway: string;
  readonly priceMsatPerKiB: number;
  readonly goodputKbps: number;
}

/**
 * Negative when `a` ranks before `b`. With `valueMsatPerKiB` (the client's value, its
 * max price), rank by the client's surplus (value − price) × goodput instead of
 * goodput per price: the order that maximises what the bytes are worth to the client
 * minus what they cost, when it is the client's value that bounds the price.
 */
export function compareScored(a: Scored, b: Scored, valueMsatPerKiB?: number): number {
  const byScore =
    valueMsatPerKiB === undefined
      ? b.goodputKbps * a.priceMsatPerKiB - a.goodputKbps * b.priceMsatPerKiB
      : (valueMsatPerKiB - b.priceMsatPerKiB) * b.goodputKbps - (valueMsatPerKiB - a.priceMsatPerKiB) * a.goodputKbps;
  if (byScore !== 0) return byScore;
  if (a.goodputKbps !== b.goodputKbps) return b.goodputKbps - a.goodputKbps;
  return a.gateway < b.gateway ? -1 : a.gateway > b.gateway ? 1 : 0;
}

/** Goodput per msat/KiB, for display and hysteresis ratios; Infinity at price 0. */
export function scoreOf(s: Scored): number {
  return s.priceMsatPerKiB === 0 ? (s.goodputKbps > 0 ? Infinity : 0) : s.goodputKbps / s.priceMsatPerKiB;
}

function nonNeg(x: number): number {
  return x > 0 ? x : 0;
}

function clamp01(x: number): number {
  if (!(x > 0)) return 0;
  return x > 1 ? 1 : x;
}
