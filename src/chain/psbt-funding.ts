// Funding a channel from an outside wallet (BIP174): we hand out a PSBT with just the
// funding output; the wallet adds inputs and change, signs, and hands it back. We
// finalize and extract it, after checking it pays the funding output exactly once
// with exactly the agreed capacity.
import { Transaction } from '@scure/btc-signer';
import { base64, hex } from '@scure/base';
import type { ChannelFunding } from './funding.js';
import { TxRejectedError } from './tx-errors.js';
import type { Outpoint, Prevout } from './tx-taproot.js';

/** Upper bound on an accepted PSBT; a funding tx is a few kB at most. */
export const MAX_PSBT_BYTES = 100_000;

/** An unsigned PSBT (v0, base64) with the funding output and no inputs. */
export function fundingPsbt(funding: ChannelFunding, capacitySat: bigint): string {
  const tx = new Transaction({ version: 2, allowUnknownOutputs: true });
  tx.addOutput({ script: funding.script, amount: capacitySat });
  return base64.encode(tx.toPSBT(0));
}

export interface AcceptedFunding {
  readonly hex: string;
  readonly txid: string;
  readonly fundingOutpoint: Outpoint;
  /** Known when the PSBT carries every input's spent output (witness_utxo / non_witness_utxo). */
  readonly prevouts: readonly Prevout[] | null;
  readonly fee: bigint | null;
}

const equal = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

export function acceptFundingPsbt(psbtBase64: string, funding: ChannelFunding, capacitySat: bigint): AcceptedFunding {
  if (typeof psbtBase64 !== 'string' || psbtBase64.length > (MAX_PSBT_BYTES * 4) / 3 + 4) {
    throw new TxRejectedError('tx.bad-psbt', 'psbt: expected a base64 string of at most 100 kB');
  }
  let tx: Transaction;
  try {
    tx = Transaction.fromPSBT(base64.decode(psbtBase64.trim()), { allowUnknownOutputs: true, allowUnknownInputs: true });
  } catch (e) {
    throw new TxRejectedError('tx.bad-psbt', `psbt: cannot decode (${(e as Error).message})`);
  }
  const matches: number[] = [];
  for (let i = 0; i < tx.outputsLength; i++) {
    const o = tx.getOutput(i);
    if (o.script && equal(o.script, funding.script)) matches.push(i);
  }
  if (matches.length !== 1) throw new TxRejectedError('tx.psbt-wrong-output', `psbt pays the funding output ${matches.length} times, expected once`);
  const vout = matches[0]!;
  const amount = tx.getOutput(vout).amount;
  if (amount !== capacitySat) throw new TxRejectedError('tx.psbt-wrong-output', `psbt funds ${amount} sat, expected ${capacitySat}`);
  if (tx.inputsLength === 0) throw new TxRejectedError('tx.psbt-not-final', 'psbt has no inputs');
  let bytes: Uint8Array;
  try {
    if (!tx.isFinal) tx.finalize();
    bytes = tx.extract();
  } catch (e) {
    throw new TxRejectedError('tx.psbt-not-final', `psbt is not fully signed: ${(e as Error).message}`);
  }
  const prevouts = knownPrevouts(tx);
  let outSum = 0n;
  for (let i = 0; i < tx.outputsLength; i++) outSum += tx.getOutput(i).amount ?? 0n;
  const fee = prevouts ? prevouts.reduce((s, p) => s + p.amount, 0n) - outSum : null;
  return {
    hex: hex.encode(bytes),
    txid: tx.id,
    fundingOutpoint: { txid: tx.id, vout },
    prevouts,
    fee,
  };
}

function knownPrevouts(tx: Transaction): Prevout[] | null {
  const out: Prevout[] = [];
  for (let i = 0; i < tx.inputsLength; i++) {
    const inp = tx.getInput(i);
    if (inp.witnessUtxo) {
      out.push({ script: inp.witnessUtxo.script, amount: inp.witnessUtxo.amount });
    } else if (inp.nonWitnessUtxo && inp.index !== undefined) {
      const o = inp.nonWitnessUtxo.outputs[inp.index];
      if (!o) return null;
      out.push({ script: o.script, amount: o.amount });
    } else {
      return null;
    }
  }
  return out;
}
