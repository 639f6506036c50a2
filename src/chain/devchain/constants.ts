// Devchain parameters. Spec constants (Bitcoin consensus) first, then tuning.
import type { BTC_NETWORK } from '@scure/btc-signer/utils.js';

// ---- Bitcoin consensus / regtest ----
export const MAX_MONEY_SAT = 2_100_000_000_000_000n;
/** Regtest's first-era subsidy. Kept constant (no halvings) so a long demo never runs dry. */
export const BLOCK_SUBSIDY_SAT = 5_000_000_000n;
/** Standard transaction weight limit (policy, MAX_STANDARD_TX_WEIGHT). */
export const MAX_TX_WEIGHT = 400_000;
/** Regtest address parameters (bech32 HRP `bcrt`). */
export const REGTEST: BTC_NETWORK = { bech32: 'bcrt', pubKeyHash: 0x6f, scriptHash: 0xc4, wif: 0xef };

// ---- bitcoind RPC error codes used in `sendrawtransaction RPC error <code>: ...` ----
export const RPC_DESERIALIZATION_ERROR = -22;
export const RPC_VERIFY_ERROR = -25;
export const RPC_VERIFY_REJECTED = -26;
export const RPC_VERIFY_ALREADY_IN_CHAIN = -27;

// ---- tuning ----
export const DEVCHAIN_DEFAULT_PORT = 4280;
export const DEVCHAIN_DEFAULT_HOST = '127.0.0.1';
export const MAX_MEMPOOL_TXS = 5_000;
/** Feerate the faucet pays and `/fee-estimates` reports, sat/vB. */
export const DEVCHAIN_FEERATE_SAT_VB = 1;
/** Change below this is given to the miner instead of making a dust output. */
export const DUST_SAT = 330n;
/** Largest faucet payment: 1 BTC, so one request cannot drain the faucet. */
export const MAX_FAUCET_SAT = 100_000_000n;
/** Largest request body the HTTP adapter reads (a raw tx in hex, a JSON command). */
export const MAX_REQUEST_BYTES = 2 * MAX_TX_WEIGHT + 1024;
/** Mining more than this per request is almost certainly a typo. */
export const MAX_BLOCKS_PER_MINE = 1_000;
/** The state file is rewritten at most this often while the chain changes. */
export const STORE_MIN_INTERVAL_MS = 1_000;
