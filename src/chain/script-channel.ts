// The two tapscript leaves of a channel's funding output (DESIGN.md §6):
//   leaf A (close with a state):  <payee_x> OP_CHECKSIGVERIFY <payer_x> OP_CHECKSIG
//   leaf B (payer refund):        <expiry> OP_CHECKLOCKTIMEVERIFY OP_DROP <payer_x> OP_CHECKSIG
// Leaf A checks the payee's signature first (top of the witness stack), then the payer's,
// so its witness is [payer_sig, payee_sig, script, control].
import { OP, encodeScript } from './btc/script.js';
import { TxBuildError } from './tx-errors.js';
import { checkBytes } from './tx-taproot.js';

/** nLockTime values at or above this are UNIX times, not heights. */
export const LOCKTIME_THRESHOLD = 500_000_000;

export function channelLeafA(payerX: Uint8Array, payeeX: Uint8Array): Uint8Array {
  checkBytes('payerX', payerX, 32);
  checkBytes('payeeX', payeeX, 32);
  return encodeScript([payeeX, { op: OP.CHECKSIGVERIFY }, payerX, { op: OP.CHECKSIG }]);
}

export function channelLeafB(expiryHeight: number, payerX: Uint8Array): Uint8Array {
  checkExpiryHeight(expiryHeight);
  checkBytes('payerX', payerX, 32);
  // encodeScript pushes numbers minimally (CScriptNum), as CLTV expects.
  return encodeScript([expiryHeight, { op: OP.CHECKLOCKTIMEVERIFY }, { op: OP.DROP }, payerX, { op: OP.CHECKSIG }]);
}

/** A refund height must be a block height, not a time, and above OP_16's range. */
export function checkExpiryHeight(expiryHeight: number): number {
  if (!Number.isInteger(expiryHeight) || expiryHeight <= 16 || expiryHeight >= LOCKTIME_THRESHOLD) {
    throw new TxBuildError('tx.bad-param', `"expiryHeight" expected a block height in 17..${LOCKTIME_THRESHOLD - 1}, got ${expiryHeight}`);
  }
  return expiryHeight;
}
