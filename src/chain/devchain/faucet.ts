// The faucet's wallet: one key, its coins, and signed payments from them. The faucet's
// output is P2TR with the key itself as the output key (no BIP86 tweak): consensus only
// asks that a key-path signature verify under the output key, and this keeps signing to
// one plain BIP340 signature through the crypto facade.
import { Transaction } from '@scure/btc-signer';
import type { Crypto } from '../../crypto/facade.js';
import { DEVCHAIN_FEERATE_SAT_VB, DUST_SAT } from './constants.js';

export interface FaucetCoin {
  readonly txid: string;
  readonly vout: number;
  readonly valueSat: bigint;
}

export function faucetScript(crypto: Crypto, secretKey: Uint8Array): Uint8Array {
  return Uint8Array.of(0x51, 0x20, ...crypto.schnorrPublicKey(secretKey));
}

/** Virtual size of a tx with `inputs` P2TR key-path inputs and outputs of these script lengths. */
function estimateVsize(inputs: number, outputScriptLens: readonly number[]): number {
  const outs = outputScriptLens.reduce((a, len) => a + 9 + len, 0);
  return Math.ceil(10.5 + 57.5 * inputs + outs);
}

/**
 * A signed transaction paying `amountSat` to `toScript` (change back to the faucet), or
 * undefined when the coins do not cover amount and fee. Largest coins are spent first.
 */
export function buildFaucetTx(
  crypto: Crypto,
  secretKey: Uint8Array,
  coins: readonly FaucetCoin[],
  toScript: Uint8Array,
  amountSat: bigint,
  aux: Uint8Array,
): Uint8Array | undefined {
  const own = faucetScript(crypto, secretKey);
  const sorted = [...coins].sort((a, b) => (a.valueSat < b.valueSat ? 1 : a.valueSat > b.valueSat ? -1 : 0));
  const picked: FaucetCoin[] = [];
  let inSum = 0n;
  let fee = 0n;
  for (const c of sorted) {
    picked.push(c);
    inSum += c.valueSat;
    fee = BigInt(estimateVsize(picked.length, [toScript.length, own.length]) * DEVCHAIN_FEERATE_SAT_VB);
    if (inSum >= amountSat + fee) break;
  }
  if (inSum < amountSat + fee) return undefined;

  const tx = new Transaction({ allowUnknownOutputs: true });
  for (const c of picked) {
    tx.addInput({ txid: c.txid, index: c.vout, sequence: 0xffffffff, witnessUtxo: { script: own, amount: c.valueSat } });
  }
  tx.addOutput({ script: toScript, amount: amountSat });
  const change = inSum - amountSat - fee;
  if (change >= DUST_SAT) tx.addOutput({ script: own, amount: change });

  const scripts = picked.map(() => own);
  const amounts = picked.map((c) => c.valueSat);
  for (let i = 0; i < picked.length; i++) {
    const msg = tx.preimageWitnessV1(i, scripts, 0x00, amounts);
    // One fresh aux per input, derived so a single random draw serves the whole tx.
    const auxI = crypto.sha256(Uint8Array.of(...aux, i & 0xff, (i >> 8) & 0xff));
    const sig = crypto.schnorrSign(msg, secretKey, auxI);
    tx.updateInput(i, { finalScriptWitness: [sig] }, true);
  }
  return tx.toBytes(true, true);
}
