// Fee policy: pick a feerate from Esplora's `/fee-estimates` (confirmation target in
// blocks → sat/vB), and estimate each transaction kind's virtual size so the fee can
// be fixed before signing. Sizes follow BIP141 weight: non-witness bytes × 4 + witness.
import { TxBuildError } from './tx-errors.js';

/** Dust limit for a P2TR output (Bitcoin Core's relay policy at 3 sat/vB discard rate). */
export const DUST_SAT = 330n;
/** Minimum relay feerate. */
export const MIN_FEE_RATE = 1;
/** Refuse estimates above this: a hostile or broken Esplora must not drain the wallet. */
export const DEFAULT_MAX_FEE_RATE = 1000;
export const DEFAULT_TARGET_BLOCKS = 6;

/** Esplora's `/fee-estimates` body, already decoded: target → sat/vB. */
export type FeeEstimates = Readonly<Record<string, number>> | ReadonlyMap<number, number>;

export interface FeePolicyOptions {
  readonly targetBlocks?: number;
  readonly minFeeRate?: number;
  readonly maxFeeRate?: number;
}

/**
 * Feerate for confirmation within `targetBlocks`: the estimate for the largest listed
 * target not above it (so never slower than asked); if every listed target is larger,
 * the smallest one. No usable estimate → the minimum. Clamped to [min, max].
 */
export function feeRateFromEstimates(estimates: FeeEstimates, opts: FeePolicyOptions = {}): number {
  const target = opts.targetBlocks ?? DEFAULT_TARGET_BLOCKS;
  const min = opts.minFeeRate ?? MIN_FEE_RATE;
  const max = opts.maxFeeRate ?? DEFAULT_MAX_FEE_RATE;
  if (!Number.isInteger(target) || target < 1) throw new TxBuildError('tx.bad-param', `targetBlocks: expected integer ≥ 1, got ${target}`);
  const entries: [number, number][] = [];
  const pairs = estimates instanceof Map ? [...estimates.entries()] : Object.entries(estimates).map(([k, v]) => [Number(k), v] as const);
  for (const [k, v] of pairs) {
    if (Number.isInteger(k) && k >= 1 && typeof v === 'number' && Number.isFinite(v) && v > 0) entries.push([k, v]);
  }
  if (entries.length === 0) return min;
  entries.sort((a, b) => a[0] - b[0]);
  let chosen = entries[0]![1];
  for (const [k, v] of entries) if (k <= target) chosen = v;
  return Math.min(max, Math.max(min, chosen));
}

/** Whole-sat fee for `vsize` at `feeRate` sat/vB, rounded up. */
export function feeForVsize(feeRate: number, vsize: number): bigint {
  if (!(Number.isFinite(feeRate) && feeRate > 0)) throw new TxBuildError('tx.bad-param', `feeRate: expected > 0, got ${feeRate}`);
  return BigInt(Math.ceil(feeRate * vsize));
}

// --- size model -----------------------------------------------------------------

const varintLen = (n: number): number => (n < 0xfd ? 1 : n <= 0xffff ? 3 : 5);
const TX_OVERHEAD_BYTES = 4 + 4; // version + locktime
const SEGWIT_MARKER_WU = 2;
const INPUT_BYTES = 32 + 4 + 1 + 4; // outpoint + empty scriptSig + sequence
export const P2TR_SCRIPT_LEN = 34;

/** Serialized witness size for a stack of items with these lengths. */
export function witnessSize(itemLengths: readonly number[]): number {
  return varintLen(itemLengths.length) + itemLengths.reduce((s, l) => s + varintLen(l) + l, 0);
}

export interface TxShape {
  /** One entry per input: its serialized witness size in bytes. */
  readonly inputWitnessSizes: readonly number[];
  /** One entry per output: its scriptPubKey length. */
  readonly outputScriptLengths: readonly number[];
}

export function txVsize(shape: TxShape): number {
  const { inputWitnessSizes: ins, outputScriptLengths: outs } = shape;
  const base =
    TX_OVERHEAD_BYTES +
    varintLen(ins.length) +
    ins.length * INPUT_BYTES +
    varintLen(outs.length) +
    outs.reduce((s, l) => s + 8 + varintLen(l) + l, 0);
  const witness = ins.reduce((s, w) => s + w, 0);
  return Math.ceil((base * 4 + SEGWIT_MARKER_WU + witness) / 4);
}

/** Key-path spend: one signature, 64 bytes, or 65 with an explicit sighash byte. */
export const KEY_PATH_WITNESS = witnessSize([64]);
/** Leaf A close: [payer sig + sighash byte, payee sig, 68-byte script, 65-byte control]. */
export const LEAF_A_WITNESS = witnessSize([65, 64, 68, 65]);
/** Leaf B refund: [sig, script (≤ 41 bytes with a 4-byte height push), control]. */
export const LEAF_B_WITNESS = witnessSize([64, 41, 65]);

/** Payee close of a state: one funding input; payer change (if any) and payee output. */
export function payeeCloseVsize(hasChange: boolean, payeeScriptLen = P2TR_SCRIPT_LEN): number {
  const outs = hasChange ? [P2TR_SCRIPT_LEN, payeeScriptLen] : [payeeScriptLen];
  return txVsize({ inputWitnessSizes: [LEAF_A_WITNESS], outputScriptLengths: outs });
}

export function cooperativeCloseVsize(outputScriptLengths: readonly number[]): number {
  return txVsize({ inputWitnessSizes: [KEY_PATH_WITNESS], outputScriptLengths });
}

export function refundVsize(outputScriptLen = P2TR_SCRIPT_LEN): number {
  return txVsize({ inputWitnessSizes: [LEAF_B_WITNESS], outputScriptLengths: [outputScriptLen] });
}

/** A wallet spend of `inputs` key-path P2TR inputs to the given outputs. */
export function walletSpendVsize(inputs: number, outputScriptLengths: readonly number[]): number {
  return txVsize({ inputWitnessSizes: new Array<number>(inputs).fill(KEY_PATH_WITNESS), outputScriptLengths });
}
