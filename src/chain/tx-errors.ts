// Errors raised while building, signing or checking channel and wallet transactions.
// TxBuildError: our own inputs cannot make a valid tx (not enough funds, below dust,
// bad parameters) — local. TxRejectedError: something a peer or an outside wallet
// handed us (a state signature, a partial signature, a PSBT) is wrong — remote.
import { LocalError, RemoteError } from '../core/errors.js';

export type TxBuildCode =
  | 'tx.bad-param'
  | 'tx.insufficient-funds'
  | 'tx.below-dust'
  | 'tx.fee-exceeds-amount';

export type TxRejectCode =
  | 'tx.bad-signature'
  | 'tx.bad-nonce'
  | 'tx.bad-partial-signature'
  | 'tx.bad-psbt'
  | 'tx.psbt-wrong-output'
  | 'tx.psbt-not-final'
  | 'tx.malformed';

export class TxBuildError extends LocalError {
  constructor(code: TxBuildCode, message: string) {
    super(code, message);
  }
}

export class TxRejectedError extends RemoteError {
  constructor(code: TxRejectCode, message: string) {
    super(code, message);
  }
}
