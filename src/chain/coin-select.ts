// Coin selection: largest-first. Simple and predictable on a router with a handful of
// coins; it uses few inputs (small, cheap transactions). We add coins, largest first,
// until the payment plus fee is covered; a change output is made only when the change
// would be at least dust, otherwise the remainder (less than dust plus the cost of a
// change output) goes to the fee. Coins worth less than their own spending cost are
// skipped. Ties are broken by outpoint so the result is deterministic.
import { DUST_SAT, KEY_PATH_WITNESS, P2TR_SCRIPT_LEN, feeForVsize, txVsize } from './fees.js';
import { TxBuildError } from './tx-errors.js';

export interface CoinCandidate {
  readonly txid: string;
  readonly vout: number;
  readonly valueSat: bigint;
}

export interface SelectionParams {
  readonly candidates: readonly CoinCandidate[];
  /** Sum of the payment outputs. */
  readonly targetSat: bigint;
  readonly outputScriptLengths: readonly number[];
  readonly feeRate: number;
  readonly changeScriptLength?: number;
  /** Witness size of each input (default: a key-path P2TR spend). */
  readonly inputWitnessSize?: number;
}

export interface Selection<C extends CoinCandidate = CoinCandidate> {
  readonly inputs: readonly C[];
  readonly feeSat: bigint;
  /** 0n means no change output. */
  readonly changeSat: bigint;
  readonly vsize: number;
}

export function selectCoins<C extends CoinCandidate>(p: SelectionParams & { candidates: readonly C[] }): Selection<C> {
  if (p.targetSat <= 0n) throw new TxBuildError('tx.bad-param', `targetSat: expected > 0, got ${p.targetSat}`);
  const witness = p.inputWitnessSize ?? KEY_PATH_WITNESS;
  const changeLen = p.changeScriptLength ?? P2TR_SCRIPT_LEN;
  const vsize = (n: number, change: boolean) =>
    txVsize({
      inputWitnessSizes: new Array<number>(n).fill(witness),
      outputScriptLengths: change ? [...p.outputScriptLengths, changeLen] : p.outputScriptLengths,
    });
  // Marginal cost of one more input, to skip coins that cost more than they bring.
  const inputCost = feeForVsize(p.feeRate, vsize(2, false) - vsize(1, false));
  const sorted = [...p.candidates]
    .filter((c) => c.valueSat > inputCost)
    .sort((a, b) => (a.valueSat !== b.valueSat ? (b.valueSat > a.valueSat ? 1 : -1) : a.txid < b.txid ? -1 : a.txid > b.txid ? 1 : a.vout - b.vout));
  const chosen: C[] = [];
  let total = 0n;
  for (const c of sorted) {
    chosen.push(c);
    total += c.valueSat;
    const n = chosen.length;
    const withChange = vsize(n, true);
    const feeWithChange = feeForVsize(p.feeRate, withChange);
    const change = total - p.targetSat - feeWithChange;
    if (change >= DUST_SAT) return { inputs: chosen, feeSat: feeWithChange, changeSat: change, vsize: withChange };
    const noChange = vsize(n, false);
    const feeNoChange = feeForVsize(p.feeRate, noChange);
    if (total >= p.targetSat + feeNoChange) {
      return { inputs: chosen, feeSat: total - p.targetSat, changeSat: 0n, vsize: noChange };
    }
  }
  throw new TxBuildError('tx.insufficient-funds', `need ${p.targetSat} sat plus fee, spendable ${total} sat`);
}
