// A single-key P2TR wallet: tracks its coins, selects, builds and signs payments
// (channel funding, plain sends) through the Crypto facade. Randomness for the
// signatures' aux comes in as `rand`. Outputs keep the caller's order; change, if
// any, is last.
import { txInput, type Tx } from './btc/tx.js';
import type { Crypto } from '../crypto/facade.js';
import { selectCoins } from './coin-select.js';
import { DUST_SAT } from './fees.js';
import type { ChannelFunding } from './funding.js';
import type { ChainNetwork } from './network.js';
import { addressToScript } from './script-address.js';
import { TxBuildError } from './tx-errors.js';
import { SIGHASH, signSighash, signedTx, taprootSighash, type Outpoint, type Prevout, type SignedTx } from './tx-taproot.js';
import { UtxoSet, type SpendableFilter } from './wallet-utxos.js';
import { walletKey, type WalletKey } from './wallet-key.js';

/** 32 fresh random bytes per call. */
export type Random32 = () => Uint8Array;

/** Non-final (RBF-signalling) so a stuck payment can be bumped. */
export const WALLET_SEQUENCE = 0xfffffffd;

export interface PaymentOutput {
  readonly script: Uint8Array;
  readonly amountSat: bigint;
}

export interface Payment {
  readonly signed: SignedTx;
  /** Spent prevouts, in input order (what a verifier needs). */
  readonly prevouts: readonly Prevout[];
  readonly spent: readonly Outpoint[];
  /** The change output we added to our coins, if any. */
  readonly change: Outpoint | null;
}

export interface PayOptions {
  readonly feeRate: number;
  readonly rand: Random32;
  /** Which coins may be spent; default: confirmed or not, any tip. */
  readonly filter?: SpendableFilter;
}

export class Wallet {
  readonly key: WalletKey;
  readonly utxos = new UtxoSet();
  readonly #crypto: Crypto;
  readonly #secretKey: Uint8Array;

  constructor(crypto: Crypto, secretKey: Uint8Array, network: ChainNetwork) {
    this.#crypto = crypto;
    this.key = walletKey(crypto, secretKey, network);
    this.#secretKey = this.key.tweakedSecretKey;
  }

  get address(): string {
    return this.key.address;
  }

  get script(): Uint8Array {
    return this.key.script;
  }

  /**
   * Build and sign a payment to `outputs`. Marks the spent coins and adds the change as
   * an unconfirmed coin; call `abandon` if the broadcast fails.
   */
  pay(outputs: readonly PaymentOutput[], opts: PayOptions): Payment {
    if (outputs.length === 0) throw new TxBuildError('tx.bad-param', 'payment needs at least one output');
    for (const o of outputs) {
      if (typeof o.amountSat !== 'bigint' || o.amountSat < DUST_SAT) {
        throw new TxBuildError('tx.below-dust', `output of ${o.amountSat} sat is below dust (${DUST_SAT})`);
      }
    }
    const candidates = this.utxos.spendable(opts.filter ?? { minConfirmations: 0, tipHeight: 0 });
    const sel = selectCoins({
      candidates,
      targetSat: outputs.reduce((s, o) => s + o.amountSat, 0n),
      outputScriptLengths: outputs.map((o) => o.script.length),
      feeRate: opts.feeRate,
      changeScriptLength: this.key.script.length,
    });
    const prevouts: Prevout[] = sel.inputs.map((c) => ({ script: this.key.script, amount: c.valueSat }));
    const tx: Tx = {
      version: 2,
      lockTime: 0,
      inputs: sel.inputs.map((c) => txInput(c.txid, c.vout, WALLET_SEQUENCE)),
      outputs: [
        ...outputs.map((o) => ({ script: o.script, amount: o.amountSat })),
        ...(sel.changeSat > 0n ? [{ script: this.key.script, amount: sel.changeSat }] : []),
      ],
    };
    // Sign every input first (sighashes do not depend on witnesses), then attach.
    const sigs = sel.inputs.map((_, i) =>
      signSighash(this.#crypto, taprootSighash(tx, i, prevouts, SIGHASH.DEFAULT), this.#secretKey, opts.rand(), SIGHASH.DEFAULT),
    );
    const signedInputs = tx.inputs.map((inp, i) => ({ ...inp, witness: [sigs[i]!] }));
    const signed = signedTx({ ...tx, inputs: signedInputs }, prevouts);
    const spent = sel.inputs.map((c) => ({ txid: c.txid, vout: c.vout }));
    this.utxos.markSpent(spent);
    let change: Outpoint | null = null;
    if (sel.changeSat > 0n) {
      change = { txid: signed.txid, vout: outputs.length };
      this.utxos.add({ ...change, valueSat: sel.changeSat, height: null });
    }
    return { signed, prevouts, spent, change };
  }

  /** Undo a payment's local effects (the broadcast failed or it was replaced). */
  abandon(p: Payment): void {
    this.utxos.release(p.spent);
    if (p.change) this.utxos.remove(p.change);
  }

  /** Fund a channel: output 0 pays `capacitySat` to the funding output. */
  fundChannel(funding: ChannelFunding, capacitySat: bigint, opts: PayOptions): Payment & { fundingOutpoint: Outpoint } {
    const p = this.pay([{ script: funding.script, amountSat: capacitySat }], opts);
    return { ...p, fundingOutpoint: { txid: p.signed.txid, vout: 0 } };
  }

  /** Send to an address on this wallet's network. */
  send(address: string, amountSat: bigint, opts: PayOptions): Payment {
    return this.pay([{ script: addressToScript(address, this.key.network), amountSat }], opts);
  }
}
