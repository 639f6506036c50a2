// Test support (imported only by *.test.ts): spends built and signed with
// @scure/btc-signer on its own, so the devchain's validator is checked against an
// independent signer rather than against itself.
import { p2tr, Script, SigHash, Transaction, TaprootControlBlock } from '@scure/btc-signer';
import { pubSchnorr, signSchnorr, taprootTweakPrivKey } from '@scure/btc-signer/utils.js';
import { hex } from '@scure/base';
import { REGTEST } from './constants.js';

export interface SpendableCoin {
  readonly txid: string;
  readonly vout: number;
  readonly valueSat: bigint;
}

export interface Output {
  readonly script: Uint8Array;
  readonly amount: bigint;
}

/** A deterministic secret key for tests: 31 zero bytes then `n` (1..255). */
export function testKey(n: number): Uint8Array {
  const k = new Uint8Array(32);
  k[31] = n;
  k[0] = 0x11; // keep it away from tiny scalars some libraries treat specially
  return k;
}

export const xOnly = (sk: Uint8Array): Uint8Array => pubSchnorr(sk);

/** A single-key BIP86 P2TR wallet spending by key path. */
export class KeyPathWallet {
  readonly script: Uint8Array;
  readonly address: string;
  constructor(readonly secretKey: Uint8Array) {
    const pay = p2tr(xOnly(secretKey), undefined, REGTEST);
    this.script = pay.script;
    this.address = pay.address;
  }

  spend(coins: readonly SpendableCoin[], outputs: readonly Output[], opts: { lockTime?: number; sequence?: number } = {}): Uint8Array {
    const tx = new Transaction({ allowUnknownOutputs: true, lockTime: opts.lockTime ?? 0 });
    for (const c of coins) {
      tx.addInput({
        txid: c.txid,
        index: c.vout,
        sequence: opts.sequence ?? 0xfffffffd,
        witnessUtxo: { script: this.script, amount: c.valueSat },
      });
    }
    for (const o of outputs) tx.addOutput({ script: o.script, amount: o.amount });
    // Signed by hand (not tx.sign/finalize) so tests can also build invalid spends,
    // e.g. outputs above inputs, that btc-signer would refuse to finalize.
    const scripts = coins.map(() => this.script);
    const amounts = coins.map((c) => c.valueSat);
    const tweaked = taprootTweakPrivKey(this.secretKey, new Uint8Array());
    coins.forEach((_, i) => {
      const msg = tx.preimageWitnessV1(i, scripts, SigHash.DEFAULT, amounts);
      tx.updateInput(i, { finalScriptWitness: [signSchnorr(msg, tweaked, new Uint8Array(32))] }, true);
    });
    return tx.toBytes(true, true);
  }
}

/** A P2TR output committing to `leaves`, spent through one of them with a hand-made stack. */
export class TreeOutput {
  readonly script: Uint8Array;
  readonly #controls = new Map<string, Uint8Array>();

  constructor(internalKey: Uint8Array, leaves: readonly Uint8Array[]) {
    const pay = p2tr(xOnly(internalKey), leaves.map((script) => ({ script })), REGTEST, true);
    this.script = pay.script;
    for (const [cb, s] of pay.tapLeafScript ?? []) this.#controls.set(hex.encode(s.subarray(0, -1)), TaprootControlBlock.encode(cb));
  }

  control(leaf: Uint8Array): Uint8Array {
    const c = this.#controls.get(hex.encode(leaf));
    if (!c) throw new Error('leaf not in tree');
    return c;
  }

  spend(coin: SpendableCoin, outputs: readonly Output[], leaf: Uint8Array, stack: readonly Uint8Array[]): Uint8Array {
    const tx = new Transaction({ allowUnknownOutputs: true });
    tx.addInput({ txid: coin.txid, index: coin.vout, sequence: 0xfffffffd, witnessUtxo: { script: this.script, amount: coin.valueSat } });
    for (const o of outputs) tx.addOutput({ script: o.script, amount: o.amount });
    tx.updateInput(0, { finalScriptWitness: [...stack, leaf, this.control(leaf)] }, true);
    return tx.toBytes(true, true);
  }
}

/**
 * The channel-shaped output of DESIGN §6: internal key (here a plain key), leaf A
 * `<payee> CHECKSIGVERIFY <payer> CHECKSIG` and leaf B `<expiry> CLTV DROP <payer> CHECKSIG`.
 */
export class ChannelOutput {
  readonly leafA: Uint8Array;
  readonly leafB: Uint8Array;
  readonly script: Uint8Array;
  readonly #tree: TreeOutput;

  constructor(
    internalKey: Uint8Array,
    readonly payerKey: Uint8Array,
    readonly payeeKey: Uint8Array,
    readonly expiry: number,
  ) {
    this.leafA = Script.encode([xOnly(payeeKey), 'CHECKSIGVERIFY', xOnly(payerKey), 'CHECKSIG']);
    this.leafB = Script.encode([expiry, 'CHECKLOCKTIMEVERIFY', 'DROP', xOnly(payerKey), 'CHECKSIG']);
    this.#tree = new TreeOutput(internalKey, [this.leafA, this.leafB]);
    this.script = this.#tree.script;
  }

  /** Spend through leaf B (refund) or leaf A (both sign), signing DEFAULT sighashes by hand. */
  spend(
    coin: SpendableCoin,
    outputs: readonly Output[],
    via: 'A' | 'B',
    opts: { lockTime?: number; sequence?: number; tamper?: (witness: Uint8Array[]) => void } = {},
  ): Uint8Array {
    const tx = new Transaction({ allowUnknownOutputs: true, lockTime: opts.lockTime ?? 0 });
    tx.addInput({ txid: coin.txid, index: coin.vout, sequence: opts.sequence ?? 0xfffffffe, witnessUtxo: { script: this.script, amount: coin.valueSat } });
    for (const o of outputs) tx.addOutput({ script: o.script, amount: o.amount });
    const leaf = via === 'A' ? this.leafA : this.leafB;
    const msg = tx.preimageWitnessV1(0, [this.script], SigHash.DEFAULT, [coin.valueSat], -1, leaf, 0xc0);
    const aux = new Uint8Array(32);
    const payerSig = signSchnorr(msg, this.payerKey, aux);
    const witness =
      via === 'A'
        ? [payerSig, signSchnorr(msg, this.payeeKey, aux), leaf, this.#tree.control(leaf)]
        : [payerSig, leaf, this.#tree.control(leaf)];
    opts.tamper?.(witness);
    tx.updateInput(0, { finalScriptWitness: witness }, true);
    return tx.toBytes(true, true);
  }
}
