// Payer refund through leaf B once the chain reaches the channel's expiry height:
// nLockTime = expiry (CLTV compares against it) and nSequence 0xfffffffe (a final
// sequence would switch nLockTime off and CLTV fails), SIGHASH_DEFAULT.
import { Transaction } from '@scure/btc-signer';
import type { Crypto } from '../crypto/facade.js';
import { fundingPrevout, type ChannelTerms } from './commitment.js';
import { DUST_SAT } from './fees.js';
import { TxBuildError } from './tx-errors.js';
import { SIGHASH, checkBytes, checkOutpoint, signSighash, signedTx, taprootSighash, txidBytes, type SignedTx } from './tx-taproot.js';

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
  const tx = new Transaction({ version: 2, lockTime: terms.funding.expiryHeight, allowUnknownOutputs: true });
  const prevout = fundingPrevout(terms);
  tx.addInput({
    txid: txidBytes(terms.fundingOutpoint.txid),
    index: terms.fundingOutpoint.vout,
    sequence: REFUND_SEQUENCE,
    witnessUtxo: prevout,
  });
  tx.addOutput({ script: p.toScript, amount });
  const leaf = terms.funding.leafB;
  const sighash = taprootSighash(tx, 0, [prevout], SIGHASH.DEFAULT, leaf.script);
  const sig = signSighash(crypto, sighash, p.payerSecretKey, p.aux, SIGHASH.DEFAULT);
  tx.updateInput(0, { finalScriptWitness: [sig, leaf.script, leaf.controlBlock] }, true);
  return signedTx(tx, [prevout]);
}
