// Joint capacity probes: all of a gateway's clients test it at the same moment.
//
// Why: a client probes a gateway up to what its own mesh path carries. A liar whose
// real uplink is larger than any one path (it claims 350 Mbit/s, has 118, and no path
// carries more than 60) passes every such probe, and keeps every client it attracts.
// Only a pull by its clients together, above its real uplink, shows the lie.
//
// When: the slots of a gateway are k·periodMs + offset, the offset drawn from its node
// id, so its clients meet there with no message and no coordinator, and every
// gateway's slots fall elsewhere. Clocks that disagree by more than a probe's length
// only make probes overlap less: each prober pulls less than it would alone, never more.
//
// How much: each prober pulls its own rate plus the gateway's claimed spare in
// proportion to its own share of the gateway's claimed load (capacity − spare). The
// probers of an honest gateway together pull at most its load plus its spare, its
// claimed capacity, which it has: each gets its target. A gateway claiming three times
// its uplink is pulled for three times what it has, and each prober gets about a third.
// Weighting by load needs no count of the probers, which nobody could check.
//
// What it cannot catch: a gateway that also claims a load it does not carry (capacity
// and spare both inflated) shrinks every prober's share; and the slots are public, so
// a liar could lower its claim just before each. Either liar still promises the spare
// to newcomers between slots, whose solo probes test it as before.

/** 32-bit FNV-1a of the id's characters: a fixed, spread-out offset, nothing secret. */
function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The gateway's first joint-probe slot strictly after `after` (ms, the shared clock). */
export function nextJointProbeSlot(gateway: string, periodMs: number, after: number): number {
  const offset = fnv1a(gateway) % periodMs;
  const k = Math.floor((after - offset) / periodMs) + 1;
  return k * periodMs + offset;
}

/**
 * Whether `now` falls within `windowMs` of one of the gateway's slots: the moments its
 * own clients' joint probes fill its spare, by design (offer.ts keeps its spare then).
 */
export function inJointProbeWindow(gateway: string, periodMs: number, windowMs: number, now: number): boolean {
  return nextJointProbeSlot(gateway, periodMs, now - windowMs) <= now;
}

/** What the gateway's latest offer claims. */
export interface ClaimedLoad {
  readonly capacityKbps: number;
  readonly spareKbps: number;
}

/**
 * One prober's pull in a joint probe (kbit/s): its own rate plus its load share of the
 * claimed spare; undefined when there is nothing to test (no traffic of ours, no claimed
 * load or no spare).
 */
export function jointProbeTargetKbps(ownKbps: number, claim: ClaimedLoad): number | undefined {
  const spare = Math.min(claim.spareKbps, claim.capacityKbps);
  const load = claim.capacityKbps - spare;
  if (!(ownKbps > 0 && load > 0 && spare > 0)) return undefined;
  // A load estimate behind our own rate (we just arrived) must not make us pull more
  // than the whole spare.
  return ownKbps + spare * Math.min(1, ownKbps / load);
}
