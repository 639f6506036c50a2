// Payment-channel constants (DESIGN.md §6). Spec constants are fixed by the design;
// defaults are the design's stated defaults (overridable by config); tuning constants
// are this implementation's choices and may change without touching the protocol.

// --- spec ---
export const MSAT_PER_SAT = 1000n;
export const BYTES_PER_KIB = 1024;
/** Below this the payer's change output is dropped (P2TR dust). */
export const DUST_SAT = 330n;
/** The payee must have closed with its best state this many blocks before expiry. */
export const PAYEE_CLOSE_MARGIN_BLOCKS = 144;
/** A payee verifies at most this many hashes for one TICK: H^(i−j)(W_i) = W_j, i − j ≤ 64. */
export const MAX_TICK_GAP = 64;

// --- spec defaults (config may override) ---
export const DEFAULT_TICK_KIB = 16;
export const DEFAULT_INITIAL_CREDIT_KIB = 64;
/** The credit never grows past this much money at the channel price: 1 sat. */
export const DEFAULT_MAX_CREDIT_MSAT = 1000;
/** Share of served bytes the payee tolerates unpaid on top of the credit: 2 %. */
export const DEFAULT_LOSS_TOLERANCE_PERMILLE = 20;
export const DEFAULT_PERSIST_INTERVAL_MS = 2000;

// --- tuning ---
/** Hash-chain checkpoints: 2^20 elements keep 1024 × 32 B instead of 32 MiB. */
export const CHAIN_CHECKPOINT_INTERVAL = 1024;
/** Longest chain a payee accepts in OPEN (2^24 ticks of 16 KiB = 256 GiB). */
export const MAX_CHAIN_LENGTH = 1 << 24;
/**
 * Hashes per ChainBuilder.step an adapter should run between yields: about 4 ms with
 * noble on a laptop, tens of ms on a slow router, always below the 50 ms budget.
 */
export const CHAIN_STEP_HASHES = 4096;
/** A due COMMIT may be this late (received and durable) before the payee revokes. */
export const DEFAULT_COMMIT_LAG_MS = 5000;
/** …or this many ticks past the satoshi boundary, whichever comes first. */
export const DEFAULT_COMMIT_LAG_TICKS = 4096;
/** Payee: confirmations wanted for a funding above the zero-conf cap. */
export const DEFAULT_MIN_CONFIRMATIONS = 1;
/** Credit target = measured rate × smoothed payment round trip × this. */
export const CREDIT_HEADROOM = 2;
/** The smallest payment round trip is remembered this long (BBR's min-RTT window). */
export const MIN_RTT_WINDOW_MS = 10_000;
/** Served-rate samples span at least this long (a shorter span is too noisy). */
export const RATE_SAMPLE_MIN_MS = 5;
/**
 * Durable reservations (see reservation.ts): renew when less than this share of the
 * reserve is left, sized to cover this many persist intervals at the measured rate.
 */
export const RESERVE_LOW_WATER_PERMILLE = 500;
export const RESERVE_INTERVALS = 4;
/** Payee: the grant ceiling reserve, in bytes (bounds what a payee crash can lose). */
export const DEFAULT_MIN_GRANT_RESERVE_BYTES = 1 << 20;
export const DEFAULT_MAX_GRANT_RESERVE_BYTES = 64 << 20;
/** Payer: the tick reserve (bounds what a payer crash can overpay). */
export const DEFAULT_MIN_TICK_RESERVE = 16;
export const DEFAULT_MAX_TICK_RESERVE = 4096;
/** Retransmit OPEN / FUNDED / the last payment with this backoff while no progress is seen. */
export const RESEND_INITIAL_MS = 500;
export const RESEND_MAX_MS = 8000;
/** Payer: after this many fruitless payment resends the gateway counts as stalled. */
export const STALL_RESENDS = 4;
/** Payer: a resend ladder reveals at most this many older elements (64 apart) so a
 * payee restored from an older snapshot can catch up one verifiable gap at a time. */
export const MAX_LADDER_RUNGS = 64;
/**
 * Payee: blocked at the grant this long with more than the credit unpaid while the payer
 * has nothing left to pay for → the unmatched bytes were lost on our link: write them off.
 */
export const DEFAULT_LOSS_STALL_MS = 3000;
/**
 * Payee: the loss tolerance is the loss share of the last this many ticks of bytes
 * served (not of the channel's whole life), so it stays bounded however long the
 * channel lives: 1024 ticks of 16 KiB = 16 MiB, 2 % of it ≈ 328 KiB.
 */
export const LOSS_WINDOW_TICKS = 1024;
/** Payee: RTT samples kept for tick thresholds (bounded table). */
export const MAX_THRESHOLD_SAMPLES = 128;
