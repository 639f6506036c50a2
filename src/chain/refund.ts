// Payer refund through leaf B once the chain reaches the channel's expiry height:
// nLockTime = expiry (CLTV compares against it) and nSequence 0xfffffffe (a final
// sequence would switch nLockTime off and CLTV fails), SIGHASH_DEFAULT.
import { txInput, withWitness, type Tx } from './btc/tx.js';
import type { Crypto } from '../crypto/facade.js';
import { fundingPrevout, type ChannelTerms } from './commitment.js';
import { DUST_SAT } from './fees.js';
import { TxBuildError } from './tx-errors.js';
import { SIGHASH, checkBytes, checkOutpoint, signSighash, signedTx, taprootSighash, type SignedTx } from './tx-taproot.js';

export const REFUND_SEQUENCE = 0xfffffffe;

export interface RefundParams {
  readonly terms: Pick<ChannelTerms, 'funding' | 'fundingOutpoint' | 'capacitySat'>;
  readonly payerSecretKey: Uint8Array;
  readonly toScript: Uint8Array;
  readonly feeSat: bigint;
  /** 32 fresh random bytes. */
  readonly aux: Uint8Array;
}

/** Minable once the tip is at expiryHeight (a block at height > nLockTime may include it). */
export function buildRefund(crypto: Crypto, p: RefundParams): SignedTx {
  const { terms } = p;
  checkOutpoint('fundingOutpoint', terms.fundingOutpoint);
  checkBytes('payerSecretKey', p.payerSecretKey, 32);
  if (typeof p.feeSat !== 'bigint' || p.feeSat < 0n) throw new TxBuildError('tx.bad-param', `feeSat: expected ≥ 0, got ${p.feeSat}`);
  const amount = terms.capacitySat - p.feeSat;
  if (amount < DUST_SAT) throw new TxBuildError('tx.below-dust', `refund output ${amount} sat is below dust`);
  const prevout = fundingPrevout(terms);
  const tx: Tx = {
    version: 2,
    lockTime: terms.funding.expiryHeight,
    inputs: [txInput(terms.fundingOutpoint.txid, terms.fundingOutpoint.vout, REFUND_SEQUENCE)],
    outputs: [{ script: p.toScript, amount }],
  };
  const leaf = terms.funding.leafB;
  const sighash = taprootSighash(tx, 0, [prevout], SIGHASH.DEFAULT, leaf.script);
  const sig = signSighash(crypto, sighash, p.payerSecretKey, p.aux, SIGHASH.DEFAULT);
  return signedTx(withWitness(tx, 0, [sig, leaf.script, leaf.controlBlock]), [prevout]);
}
