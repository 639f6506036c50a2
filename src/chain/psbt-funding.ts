// Funding a channel from an outside wallet (BIP174): we hand out a PSBT with just the
// funding output; the wallet adds inputs and change, signs, and hands it back. We
// finalize and extract it, after checking it pays the funding output exactly once
// with exactly the agreed capacity.
import { MAX_PSBT_BYTES, decodePsbt, encodePsbt, extractTx, finalizeInput, spentOutput, type Psbt } from './btc/psbt.js';
import { txHex, txid } from './btc/tx.js';
import type { ChannelFunding } from './funding.js';
import { TxRejectedError } from './tx-errors.js';
import type { Outpoint, Prevout } from './tx-taproot.js';
import { bytesEqual } from '../core/channel/hash-chain.js';

/** Upper bound on an accepted PSBT; a funding tx is a few kB at most. */
export { MAX_PSBT_BYTES };

/** An unsigned PSBT (v0, base64) with the funding output and no inputs. */
export function fundingPsbt(funding: ChannelFunding, capacitySat: bigint): string {
  return Buffer.from(encodePsbt({ version: 2, lockTime: 0, inputs: [], outputs: [{ script: funding.script, amount: capacitySat }] })).toString('base64');
}

export interface AcceptedFunding {
  readonly hex: string;
  readonly txid: string;
  readonly fundingOutpoint: Outpoint;
  /** Known when the PSBT carries every input's spent output (witness_utxo / non_witness_utxo). */
  readonly prevouts: readonly Prevout[] | null;
  readonly fee: bigint | null;
}


export function acceptFundingPsbt(psbtBase64: string, funding: ChannelFunding, capacitySat: bigint): AcceptedFunding {
  if (typeof psbtBase64 !== 'string' || psbtBase64.length > (MAX_PSBT_BYTES * 4) / 3 + 4) {
    throw new TxRejectedError('tx.bad-psbt', 'psbt: expected a base64 string of at most 100 kB');
  }
  const text = psbtBase64.trim();
  // Buffer's decoder skips what is not base64; a wallet's PSBT is plain padded base64.
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(text)) throw new TxRejectedError('tx.bad-psbt', 'psbt: not base64');
  const bytes = Uint8Array.from(Buffer.from(text, 'base64'));
  let psbt: Psbt = decodePsbt(bytes);
  const outputs = psbt.unsignedTx.outputs;
  const matches: number[] = [];
  outputs.forEach((o, i) => bytesEqual(o.script, funding.script) && matches.push(i));
  if (matches.length !== 1) throw new TxRejectedError('tx.psbt-wrong-output', `psbt pays the funding output ${matches.length} times, expected once`);
  const vout = matches[0]!;
  const amount = outputs[vout]!.amount;
  if (amount !== capacitySat) throw new TxRejectedError('tx.psbt-wrong-output', `psbt funds ${amount} sat, expected ${capacitySat}`);
  if (psbt.inputs.length === 0) throw new TxRejectedError('tx.psbt-not-final', 'psbt has no inputs');
  for (let i = 0; i < psbt.inputs.length; i++) psbt = finalizeInput(psbt, i);
  const tx = extractTx(psbt);
  const id = txid(tx);
  const prevouts = knownPrevouts(psbt);
  const outSum = outputs.reduce((s, o) => s + o.amount, 0n);
  const fee = prevouts ? prevouts.reduce((s, p) => s + p.amount, 0n) - outSum : null;
  return {
    hex: txHex(tx),
    txid: id,
    fundingOutpoint: { txid: id, vout },
    prevouts,
    fee,
  };
}

function knownPrevouts(psbt: Psbt): Prevout[] | null {
  const out: Prevout[] = [];
  for (let i = 0; i < psbt.inputs.length; i++) {
    const o = spentOutput(psbt, i);
    if (!o) return null;
    out.push({ script: o.script, amount: o.amount });
  }
  return out;
}
