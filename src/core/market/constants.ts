// Market constants: fixed scales first, then tuning defaults that options override.
// Every default says why it has its value; the simulator is where they get tuned.

// --- fixed scales ---
export const PERMILLE = 1000;
/** kbit/s from bytes over milliseconds: bytes × 8 bit / ms = kbit/s. */
export const BITS_PER_BYTE = 8;

// --- capability estimate (gateway) ---
/** A counter window shorter than this is a burst, not sustained throughput. */
export const DEFAULT_SUSTAIN_WINDOW_MS = 5_000;
/** Throughput older than this no longer says what the uplink can do now. */
export const DEFAULT_CAPACITY_HORIZON_MS = 60 * 60_000;
/** Cap on remembered throughput observations (one per window, plus probes). */
export const DEFAULT_MAX_OBSERVATIONS = 1024;
/** Advertise this share of the best sustained measurement: leave headroom for variance. */
export const DEFAULT_CAPACITY_MARGIN = 0.9;
/** Observations needed for half confidence. */
export const DEFAULT_CONFIDENCE_HALF_COUNT = 4;
/** Confidence halves when the newest measurement is this old. */
export const DEFAULT_CONFIDENCE_HALF_LIFE_MS = 10 * 60_000;
/** Probe results kept for latency, loss and stability. */
export const DEFAULT_MAX_PROBES = 64;
/** Consecutive failed probes after which the uplink counts as down. */
export const DEFAULT_DOWN_AFTER_FAILURES = 3;
/** Latency and loss are judged over probes this recent. */
export const DEFAULT_PROBE_WINDOW_MS = 5 * 60_000;
/** A throughput above this (1 Tbit/s) is a broken reading, not a measurement. */
export const MAX_PLAUSIBLE_KBPS = 1_000_000_000;
/** Served-load readings older than this are ignored (the agent stopped reporting). */
export const DEFAULT_LOAD_MAX_AGE_MS = 10_000;

// --- offer beacons (gateway) ---
/**
 * Periodic offers only refresh what clients know; changes go out within
 * DEFAULT_OFFER_MIN_GAP_MS and auctions ask by RFQ. At 5 s, offers flooded 4 hops took
 * 1.85 kbit/s per node of air in the 1000-node simulation, most of a 2 kbit/s budget.
 */
export const DEFAULT_OFFER_INTERVAL_MS = 30_000;
/** Least time between two offers sent because something changed. */
export const DEFAULT_OFFER_MIN_GAP_MS = 1_000;
/** Capacity or spare moving by more than this share is a change worth announcing. */
export const DEFAULT_OFFER_CHANGE_RATIO = 0.1;
/** Confidence, latency or loss moving by at least this many units is a change. */
export const DEFAULT_OFFER_CONFIDENCE_STEP = 100;
export const DEFAULT_OFFER_LATENCY_STEP_MS = 20;
export const DEFAULT_OFFER_LOSS_STEP_PERMILLE = 10;

// --- bids and awards (gateway) ---
export const DEFAULT_TERM_MS = 5 * 60_000;
/** A bid not awarded within this time is forgotten. */
export const DEFAULT_BID_VALIDITY_MS = 10_000;
export const DEFAULT_MAX_OUTSTANDING_BIDS = 256;
export const DEFAULT_MAX_AWARDS = 256;
/** RFQs are unsigned; one stamped further than this from our clock is stale. */
export const DEFAULT_RFQ_SKEW_MS = 30_000;

/**
 * An accepted award holds the spare its bid promised until the client's load shows up
 * (or this long): otherwise every client auctioning within one estimate period is
 * told the same spare, all of them award us, and none gets the rate we bid.
 */
export const DEFAULT_RESERVE_MS = 5_000;

// --- reputation (client) ---
/** Discount of a gateway we know nothing about: take its word until it is tested. */
export const DEFAULT_REPUTATION_PRIOR = 1;
/** Effective samples at which measurement and prior weigh the same. */
export const DEFAULT_REPUTATION_HALF_COUNT = 3;
/** Least weight of a new sample in the delivered/claimed average (EWMA floor). */
export const DEFAULT_REPUTATION_ALPHA = 0.1;
/**
 * The discount is ratio^exponent. Squared so that over-claiming is a loss, not a wash:
 * a gateway claiming k× its capacity ends at capacity/k of effective claim, below an
 * honest gateway of the same real capacity.
 */
export const DEFAULT_REPUTATION_EXPONENT = 2;
/** Evidence halves in weight over this time, so a reformed gateway can come back. */
export const DEFAULT_REPUTATION_HALF_LIFE_MS = 6 * 60 * 60_000;
export const DEFAULT_REPUTATION_MAX_ENTRIES = 1024;
export const REPUTATION_FILE_VERSION = 1;

// --- client market ---
/** How long bids are collected after an RFQ: a few mesh round trips. */
export const DEFAULT_COLLECT_MS = 500;
/** Retry an auction that drew no usable bid after this long. */
export const DEFAULT_RETRY_MS = 5_000;
export const DEFAULT_MIN_TERM_MS = 30_000;
export const DEFAULT_MAX_TERM_MS = 10 * 60_000;
/** One tick interval: nothing delivered while backlogged for this long is a failure. */
export const DEFAULT_FAILOVER_MS = 1_000;
/** After an award, time for the channel to open before delivery is expected. */
export const DEFAULT_STARTUP_GRACE_MS = 10_000;
/** A failed gateway sits out auctions this long. */
export const DEFAULT_FAILURE_BAN_MS = 60_000;
/** An award is kept at least this long before a better offer may replace it. */
export const DEFAULT_MIN_HOLD_MS = 30_000;
/** A challenger's offer must score this much better to trigger an early re-auction. */
export const DEFAULT_BETTER_OFFER_RATIO = 1.2;
/**
 * The incumbent's expected goodput is multiplied by this in re-auctions (switching
 * costs). Off: at 1.1, clients stayed at term end on gateways 10 % worse for them than
 * one with room, so the better-offer rule kept re-auctioning them to no effect. Without
 * it the 1000-node simulation gains 0.3 points of welfare on seeds 1–11 (0.2 on 1–17)
 * and spends less control, and channel set-ups barely change: a client mostly moves to
 * a gateway it already has a channel with (docs/benchmarks.md, Simulator). Hysteresis
 * stays with `minHoldMs`, the better-offer ratio and the term.
 */
export const DEFAULT_INCUMBENT_BONUS = 1;
/** Share of auctions in which a rarely-tried gateway may win a short trial. */
export const DEFAULT_EXPLORATION_RATE = 0.05;
/** A gateway with fewer effective reputation samples than this counts as rarely tried. */
export const DEFAULT_EXPLORE_MAX_SAMPLES = 3;
export const DEFAULT_TRIAL_TERM_MS = 60_000;
/** Delivered goodput is measured over windows of this length. */
export const DEFAULT_MEASURE_WINDOW_MS = 2_000;
/**
 * Our own goodput measurement of a gateway counts for this long. What we got from a
 * gateway says how loaded it was then; within a term (5 minutes) its load moves
 * (clients come, go and are re-quoted away), so after that its offers speak again. Over-claiming is remembered by the reputation table for hours. At 30
 * minutes, clients kept ignoring gateways that had since freed up: 0.05–0.17 points of
 * the 1000-node simulation's welfare (docs/benchmarks.md, Simulator).
 */
export const DEFAULT_OWN_GOODPUT_MAX_AGE_MS = 5 * 60_000;
/** Offers heard longer ago than this are not compared with the incumbent. */
export const DEFAULT_OFFER_MAX_AGE_MS = 30_000;
export const DEFAULT_MAX_GATEWAYS = 256;
/**
 * Capacity probe after each award (new or renewed): this long a full-rate pull up to
 * the claimed spare. Two measurement windows' worth, long enough to fill a TCP window
 * on a mesh path, short enough that a gateway's other clients barely notice. 0 = off.
 */
export const DEFAULT_PROBE_MS = 2_000;
/** Probes start at a random moment within this long of the award: clients awarded together spread out. */
export const DEFAULT_PROBE_DELAY_MAX_MS = 20_000;
/** A probe is one clear test of the claim: it counts as this many reputation samples. */
export const DEFAULT_PROBE_WEIGHT = 4;
/**
 * A probe passes when it gets this share of its target: two clients probing one honest
 * uplink at the same moment each get half of it (more, as gateways advertise 0.9 of
 * what they measured); a gateway claiming 3× gets at most a third.
 */
export const DEFAULT_PROBE_PASS_RATIO = 0.5;
/** A claim at most this factor above what we want is tested by ordinary windows; no probe. */
export const DEFAULT_PROBE_MIN_EXCESS = 1.25;
/**
 * A gateway's clients probe it together every this long (joint-probe.ts): a liar is
 * caught within two minutes of filling up, and an honest gateway's spare is pulled
 * for one probe (2 s) in sixty.
 */
export const DEFAULT_JOINT_PROBE_PERIOD_MS = 120_000;
/**
 * A gateway keeps its offered spare this long from each of its joint-probe slots: the
 * probes start within a delivery report of the slot, last DEFAULT_PROBE_MS, and its load
 * estimate lags them by a counter sample or a flow tick.
 */
export const JOINT_PROBE_QUIET_MS = DEFAULT_PROBE_MS + 3_000;

// --- reports (client; report.ts) ---
/**
 * A probe under this share of its target is reported. A gateway claiming 3× delivers at
 * most 1/3 × (1/0.9 margin) ≈ 0.37; an honest one probed by two clients at once gives
 * each about 0.5.
 */
export const DEFAULT_REPORT_MAX_RATIO = 0.4;
/** A report heard is half a probe of our own: weaker evidence, it is someone else's. */
export const DEFAULT_REPORT_WEIGHT = 2;
/**
 * Distinct reporters (each with its own accepted channel) that get a gateway banned. One
 * could be a client whose probe met a burst of others'; three independent failures are
 * over-claiming. Measured in the 1000-node simulation (docs/benchmarks.md, Simulator).
 */
export const DEFAULT_REPORT_BAN_COUNT = 3;
/** Reports count this long, and a reported gateway sits out auctions this long. */
export const DEFAULT_REPORT_BAN_MS = 10 * 60_000;
/** A failed probe waits this long for the gateway's next offer (one periodic offer and a margin). */
export const DEFAULT_REPORT_CONFIRM_MS = DEFAULT_OFFER_INTERVAL_MS + 5_000;
/** Rank offers by goodput per price (false) or by the client's surplus at its max price (true). */
export const DEFAULT_RANK_BY_SURPLUS = false;
