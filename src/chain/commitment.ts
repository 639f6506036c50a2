// Channel states (DESIGN.md §6). A state is the payer's leaf-A signature over a
// commitment tx: version 2, locktime 0, one input (the funding outpoint, nSequence
// 0xfffffffd) and output 0 = payer change. SIGHASH_SINGLE|ANYONECANPAY commits only
// to that input and output 0, so the payee can later add its own output, fee and
// signature. When the change is below dust the output is dropped and the payer signs
// SIGHASH_NONE|ANYONECANPAY: the whole capacity goes to the payee (and the fee).
//
// Amounts: msat inside, whole sats on chain. The payee gets floor(paid_msat / 1000)
// sats and the payer keeps the rest, so the payer never pays more than it owes.
import { txInput, withWitness, type Tx } from './btc/tx.js';
import type { Crypto } from '../crypto/facade.js';
import type { ChannelFunding } from './funding.js';
import { DUST_SAT } from './fees.js';
import { TxBuildError, TxRejectedError } from './tx-errors.js';
import {
  SIGHASH,
  SIGHASH_NONE_ANYONECANPAY,
  SIGHASH_SINGLE_ANYONECANPAY,
  checkBytes,
  checkOutpoint,
  decodeTaprootSig,
  signSighash,
  signedTx,
  taprootSighash,
  type Outpoint,
  type Prevout,
  type SignedTx,
} from './tx-taproot.js';

export const COMMITMENT_VERSION = 2;
export const COMMITMENT_LOCKTIME = 0;
/** Non-final, signals RBF (BIP125) so the payee can bump its close. */
export const COMMITMENT_SEQUENCE = 0xfffffffd;

/** What both sides agreed at OPEN; every state is signed against these. */
export interface ChannelTerms {
  readonly funding: ChannelFunding;
  readonly fundingOutpoint: Outpoint;
  readonly capacitySat: bigint;
  /** The payer's change scriptPubKey (its wallet address). */
  readonly payerScript: Uint8Array;
}

export interface CommitmentSplit {
  /** On-chain sats owed to the payee: floor(paidMsat / 1000). */
  readonly payeeSat: bigint;
  /** capacity − payeeSat. */
  readonly changeSat: bigint;
  /** False when the change is below dust and output 0 is dropped. */
  readonly hasChange: boolean;
  /** The payer's sighash: SINGLE|ANYONECANPAY with change, NONE|ANYONECANPAY without. */
  readonly hashType: number;
}

export interface CommitmentState {
  readonly paidMsat: bigint;
  /** 65 bytes: BIP340 signature + sighash byte. */
  readonly payerSig: Uint8Array;
}

export function commitmentSplit(capacitySat: bigint, paidMsat: bigint): CommitmentSplit {
  if (typeof capacitySat !== 'bigint' || capacitySat <= 0n) throw new TxBuildError('tx.bad-param', `capacitySat: expected > 0, got ${capacitySat}`);
  if (typeof paidMsat !== 'bigint' || paidMsat < 0n || paidMsat > capacitySat * 1000n) {
    throw new TxBuildError('tx.bad-param', `paidMsat: expected 0..${capacitySat * 1000n}, got ${paidMsat}`);
  }
  const payeeSat = paidMsat / 1000n; // bigint division floors for non-negative values
  const changeSat = capacitySat - payeeSat;
  const hasChange = changeSat >= DUST_SAT;
  return { payeeSat, changeSat, hasChange, hashType: hasChange ? SIGHASH_SINGLE_ANYONECANPAY : SIGHASH_NONE_ANYONECANPAY };
}

export function fundingPrevout(terms: Pick<ChannelTerms, 'funding' | 'capacitySat'>): Prevout {
  return { script: terms.funding.script, amount: terms.capacitySat };
}

/** The commitment tx the payer signs: funding input and (if not dust) output 0. */
export function buildCommitmentTx(terms: ChannelTerms, paidMsat: bigint): { tx: Tx; split: CommitmentSplit } {
  checkOutpoint('fundingOutpoint', terms.fundingOutpoint);
  const split = commitmentSplit(terms.capacitySat, paidMsat);
  const tx: Tx = {
    version: COMMITMENT_VERSION,
    lockTime: COMMITMENT_LOCKTIME,
    inputs: [txInput(terms.fundingOutpoint.txid, terms.fundingOutpoint.vout, COMMITMENT_SEQUENCE)],
    outputs: split.hasChange ? [{ script: terms.payerScript, amount: split.changeSat }] : [],
  };
  return { tx, split };
}

function commitmentSighash(terms: ChannelTerms, paidMsat: bigint): { sighash: Uint8Array; split: CommitmentSplit } {
  const { tx, split } = buildCommitmentTx(terms, paidMsat);
  const sighash = taprootSighash(tx, 0, [fundingPrevout(terms)], split.hashType, terms.funding.leafA.script);
  return { sighash, split };
}

/** Payer: sign the state "paidMsat paid so far". `aux` is 32 fresh random bytes. */
export function signCommitment(
  crypto: Crypto,
  terms: ChannelTerms,
  paidMsat: bigint,
  payerSecretKey: Uint8Array,
  aux: Uint8Array,
): CommitmentState {
  checkBytes('payerSecretKey', payerSecretKey, 32);
  const { sighash, split } = commitmentSighash(terms, paidMsat);
  return { paidMsat, payerSig: signSighash(crypto, sighash, payerSecretKey, aux, split.hashType) };
}

/**
 * Payee: is `payerSig` a valid state for `paidMsat`? Checks the sighash type is the one
 * this amount requires (a SINGLE signature must not stand in for a NONE state, and
 * vice versa) and the Schnorr signature against the payer's key.
 */
export function verifyCommitment(crypto: Crypto, terms: ChannelTerms, state: CommitmentState): boolean {
  let decoded: { body: Uint8Array; hashType: number };
  let expected: { sighash: Uint8Array; split: CommitmentSplit };
  try {
    decoded = decodeTaprootSig(state.payerSig);
    expected = commitmentSighash(terms, state.paidMsat);
  } catch {
    return false;
  }
  if (decoded.hashType !== expected.split.hashType) return false;
  return crypto.schnorrVerify(decoded.body, expected.sighash, terms.funding.payerX);
}

export interface PayeeCloseParams {
  readonly terms: ChannelTerms;
  readonly state: CommitmentState;
  readonly payeeSecretKey: Uint8Array;
  /** Where the payee's share goes. */
  readonly payeeScript: Uint8Array;
  /** Whole-sat fee, paid out of the payee's share (see fees.ts payeeCloseVsize). */
  readonly feeSat: bigint;
  /** 32 fresh random bytes for the payee's signature. */
  readonly aux: Uint8Array;
}

/**
 * Payee: complete a state into a broadcastable close through leaf A. Keeps the input
 * and output 0 exactly as the payer signed them, appends its own output (share − fee)
 * and signs SIGHASH_DEFAULT. Witness: [payer_sig, payee_sig, leafA, control].
 */
export function buildPayeeClose(crypto: Crypto, p: PayeeCloseParams): SignedTx {
  const { terms, state } = p;
  checkBytes('payeeSecretKey', p.payeeSecretKey, 32);
  if (!verifyCommitment(crypto, terms, state)) {
    throw new TxRejectedError('tx.bad-signature', 'payer signature does not verify for this state');
  }
  if (typeof p.feeSat !== 'bigint' || p.feeSat < 0n) throw new TxBuildError('tx.bad-param', `feeSat: expected ≥ 0, got ${p.feeSat}`);
  const { tx: signed, split } = buildCommitmentTx(terms, state.paidMsat);
  const share = split.hasChange ? split.payeeSat : terms.capacitySat;
  const payeeAmount = share - p.feeSat;
  if (payeeAmount < DUST_SAT) {
    throw new TxBuildError('tx.below-dust', `payee output ${payeeAmount} sat (share ${share} − fee ${p.feeSat}) is below dust`);
  }
  const tx: Tx = { ...signed, outputs: [...signed.outputs, { script: p.payeeScript, amount: payeeAmount }] };
  const prevouts = [fundingPrevout(terms)];
  const leaf = terms.funding.leafA;
  const sighash = taprootSighash(tx, 0, prevouts, SIGHASH.DEFAULT, leaf.script);
  const payeeSig = signSighash(crypto, sighash, p.payeeSecretKey, p.aux, SIGHASH.DEFAULT);
  return signedTx(withWitness(tx, 0, [state.payerSig, payeeSig, leaf.script, leaf.controlBlock]), prevouts);
}
