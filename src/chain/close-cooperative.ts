// Cooperative close through the MuSig2 key path. Both sides build the same unsigned tx
// from the same terms (deterministic amounts and output order), exchange public
// nonces, partial-sign its BIP341 sighash (SIGHASH_DEFAULT) with musig.ts, and either
// side aggregates and finalizes.
//
// Split: payer gets its change, payee floor(paid/1000); the fee is shared, the payer
// paying the odd sat. A side whose output would fall below dust gets none, and the
// other side pays what its share did not cover of the fee.
import { txInput, withWitness, type Tx } from './btc/tx.js';
import type { Crypto } from '../crypto/facade.js';
import { COMMITMENT_SEQUENCE, commitmentSplit, fundingPrevout, type ChannelTerms } from './commitment.js';
import { DUST_SAT } from './fees.js';
import { TxBuildError, TxRejectedError } from './tx-errors.js';
import { SIGHASH, checkBytes, checkOutpoint, signedTx, taprootSighash, type SignedTx } from './tx-taproot.js';

export interface CooperativeCloseParams {
  readonly terms: ChannelTerms;
  readonly paidMsat: bigint;
  readonly payeeScript: Uint8Array;
  readonly feeSat: bigint;
}

export interface CooperativeClose {
  /** Unsigned; finalizeCooperativeClose adds the key-path witness. */
  readonly tx: Tx;
  /** The message both signers MuSig2-sign. */
  readonly sighash: Uint8Array;
  readonly payerSat: bigint;
  readonly payeeSat: bigint;
  readonly terms: ChannelTerms;
}

/** Outputs after fees: [payer, payee] amounts, 0n meaning "no output". */
export function cooperativeSplit(capacitySat: bigint, paidMsat: bigint, feeSat: bigint): { payerSat: bigint; payeeSat: bigint } {
  if (typeof feeSat !== 'bigint' || feeSat < 0n) throw new TxBuildError('tx.bad-param', `feeSat: expected ≥ 0, got ${feeSat}`);
  const { payeeSat: payeeShare, changeSat: payerShare } = commitmentSplit(capacitySat, paidMsat);
  if (feeSat > capacitySat - DUST_SAT) throw new TxBuildError('tx.fee-exceeds-amount', `fee ${feeSat} leaves less than dust of ${capacitySat}`);
  const payeeFee = feeSat / 2n;
  const payerFee = feeSat - payeeFee;
  let payer = payerShare - payerFee;
  let payee = payeeShare - payeeFee;
  if (payer < DUST_SAT && payee < DUST_SAT) throw new TxBuildError('tx.below-dust', 'both close outputs below dust');
  if (payee < DUST_SAT) {
    payee = 0n;
    payer = payerShare - (feeSat > payeeShare ? feeSat - payeeShare : 0n);
  } else if (payer < DUST_SAT) {
    payer = 0n;
    payee = payeeShare - (feeSat > payerShare ? feeSat - payerShare : 0n);
  }
  return { payerSat: payer, payeeSat: payee };
}

export function buildCooperativeClose(p: CooperativeCloseParams): CooperativeClose {
  const { terms } = p;
  checkOutpoint('fundingOutpoint', terms.fundingOutpoint);
  const { payerSat, payeeSat } = cooperativeSplit(terms.capacitySat, p.paidMsat, p.feeSat);
  const outputs = [];
  if (payerSat > 0n) outputs.push({ script: terms.payerScript, amount: payerSat });
  if (payeeSat > 0n) outputs.push({ script: p.payeeScript, amount: payeeSat });
  const tx: Tx = {
    version: 2,
    lockTime: 0,
    inputs: [txInput(terms.fundingOutpoint.txid, terms.fundingOutpoint.vout, COMMITMENT_SEQUENCE)],
    outputs,
  };
  const sighash = taprootSighash(tx, 0, [fundingPrevout(terms)], SIGHASH.DEFAULT);
  return { tx, sighash, payerSat, payeeSat, terms };
}

/** Attach the aggregated MuSig2 signature after checking it against the output key. */
export function finalizeCooperativeClose(crypto: Crypto, close: CooperativeClose, aggregateSig: Uint8Array): SignedTx {
  checkBytes('aggregateSig', aggregateSig, 64);
  if (!crypto.schnorrVerify(aggregateSig, close.sighash, close.terms.funding.outputKeyX)) {
    throw new TxRejectedError('tx.bad-signature', 'aggregate signature does not verify against the funding output key');
  }
  return signedTx(withWitness(close.tx, 0, [aggregateSig]), [fundingPrevout(close.terms)]);
}
