// Absolute locktime rules (Bitcoin Core IsFinalTx and CheckLockTime). Values below
// 500,000,000 are block heights, the rest unix times.
export const LOCKTIME_THRESHOLD = 500_000_000;
export const SEQUENCE_FINAL = 0xffffffff;

/**
 * IsFinalTx: may a transaction with this nLockTime go into the block at `blockHeight`
 * whose median-time-past is `blockTime`? A transaction whose inputs all have the final
 * sequence ignores its locktime.
 */
export function isFinalTx(lockTime: number, sequences: readonly number[], blockHeight: number, blockTime: number): boolean {
  if (lockTime === 0) return true;
  const bound = lockTime < LOCKTIME_THRESHOLD ? blockHeight : blockTime;
  if (lockTime < bound) return true;
  return sequences.every((s) => s === SEQUENCE_FINAL);
}

/** OP_CHECKLOCKTIMEVERIFY: the script demands `required`; the spending tx offers `txLockTime`. */
export function lockTimeSatisfied(required: number, txLockTime: number, inputSequence: number): boolean {
  const sameKind = (required < LOCKTIME_THRESHOLD) === (txLockTime < LOCKTIME_THRESHOLD);
  if (!sameKind || required > txLockTime) return false;
  // A final sequence would let the tx skip its nLockTime altogether, defeating the check.
  return inputSequence !== SEQUENCE_FINAL;
}
