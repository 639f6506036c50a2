// The devchain's state machine: blocks, a UTXO set, a mempool and the faucet's key.
// No I/O, no clock, no randomness: times and signing randomness come in as arguments,
// so the same machine runs in unit tests, behind the HTTP adapter, and from a snapshot.
//
// Rules (a subset of Bitcoin Core's, enough to catch what a wrong signer would do):
// - A transaction enters the mempool only via `acceptTx`, which checks, in this order:
//   decoding, non-empty vin/vout, not already known, not a coinbase, no duplicate
//   inputs, output amounts in range, no input spent by another mempool tx (no RBF),
//   inputs exist, inputs ≥ outputs, absolute locktime final for the next block,
//   BIP68 height-based relative locks, weight, and every input's witness (tx-verify.ts).
// - Mining takes the whole mempool in arrival order (parents always arrive first), plus
//   a coinbase paying subsidy + fees to the faucet. There are no reorgs.
// - Coins carry `height: null` while their transaction is in the mempool. Coinbase
//   maturity is not enforced: the faucet spends fresh coinbases at once.
import { Transaction } from '@scure/btc-signer';
import { hex } from '@scure/base';
import type { Crypto } from '../../crypto/facade.js';
import { blockHash, coinbaseTx, displayHash } from './block.js';
import {
  BLOCK_SUBSIDY_SAT,
  MAX_MEMPOOL_TXS,
  MAX_MONEY_SAT,
  MAX_TX_WEIGHT,
  RPC_DESERIALIZATION_ERROR,
  RPC_VERIFY_ALREADY_IN_CHAIN,
  RPC_VERIFY_ERROR,
  RPC_VERIFY_REJECTED,
} from './constants.js';
import { buildFaucetTx, faucetScript } from './faucet.js';
import type { FaucetCoin } from './faucet.js';
import { isFinalTx } from './locktime.js';
import { verifyInput } from './tx-verify.js';
import type { Prevout } from './tx-verify.js';

export interface Block {
  readonly height: number;
  readonly hash: string;
  readonly prevHash: string;
  /** Unix seconds. */
  readonly time: number;
  /** Coinbase first. */
  readonly txids: readonly string[];
}

export interface Coin {
  readonly txid: string;
  readonly vout: number;
  readonly valueSat: bigint;
  readonly script: Uint8Array;
  /** Null while the creating transaction is in the mempool. */
  readonly height: number | null;
}

export type ConfirmationStatus =
  | { readonly confirmed: false }
  | { readonly confirmed: true; readonly blockHeight: number; readonly blockHash: string; readonly blockTime: number };

export interface TxRecord {
  readonly txid: string;
  readonly raw: Uint8Array;
  readonly tx: Transaction;
  /** Empty for a coinbase. */
  readonly prevouts: readonly Prevout[];
  readonly feeSat: bigint;
  readonly coinbase: boolean;
  height: number | null;
}

export type AcceptResult =
  | { readonly ok: true; readonly txid: string; readonly feeSat: bigint }
  | { readonly ok: false; readonly rpcCode: number; readonly reason: string };

export type OutspendView =
  | { readonly spent: false }
  | { readonly spent: true; readonly txid: string; readonly vin: number; readonly status: ConfirmationStatus };

export interface ChainSnapshot {
  readonly format: 'bitmesh-devchain/1';
  readonly faucetSecretKey: string;
  readonly blocks: readonly { readonly hash: string; readonly time: number; readonly txs: readonly string[] }[];
  readonly mempool: readonly string[];
}

const GENESIS_PREV = '00'.repeat(32);
const TX_OPTS = { allowUnknownOutputs: true, allowUnknownInputs: true, disableScriptCheck: true, allowUnknownVersion: true } as const;
const SEQUENCE_DISABLE_FLAG = 0x80000000;
const SEQUENCE_TYPE_FLAG = 0x00400000;
const SEQUENCE_MASK = 0x0000ffff;

const outpoint = (txid: string, vout: number): string => `${txid}:${vout}`;
const reject = (rpcCode: number, reason: string): AcceptResult => ({ ok: false, rpcCode, reason });
const scriptFail = (why: string): AcceptResult =>
  why === 'unsupported-script' ? reject(RPC_VERIFY_REJECTED, why) : reject(RPC_VERIFY_REJECTED, `mandatory-script-verify-flag-failed (${why})`);

export class ChainState {
  readonly #crypto: Crypto;
  readonly #faucetKey: Uint8Array;
  readonly faucetScript: Uint8Array;
  readonly #blocks: Block[] = [];
  readonly #txs = new Map<string, TxRecord>();
  /** Unspent outputs of confirmed and mempool transactions. */
  readonly #coins = new Map<string, Coin>();
  /** Outpoint → the mempool tx spending it. */
  readonly #mempoolSpends = new Map<string, string>();
  /** Mempool txids in arrival order. */
  readonly #mempool = new Set<string>();
  /** Every spend ever seen (confirmed or in the mempool), for `/outspend`. */
  readonly #spentBy = new Map<string, { txid: string; vin: number }>();
  #issuedSat = 0n;

  private constructor(crypto: Crypto, faucetSecretKey: Uint8Array) {
    if (faucetSecretKey.length !== 32) throw new TypeError('"faucetSecretKey" expected 32 bytes');
    this.#crypto = crypto;
    this.#faucetKey = faucetSecretKey;
    this.faucetScript = faucetScript(crypto, faucetSecretKey);
  }

  /** A new chain: the genesis block pays its coinbase to the faucet. */
  static create(crypto: Crypto, faucetSecretKey: Uint8Array, genesisTime: number): ChainState {
    const s = new ChainState(crypto, faucetSecretKey);
    s.mine(1, genesisTime);
    return s;
  }

  /** Rebuilds a chain from `toSnapshot()`; throws on a snapshot that does not replay exactly. */
  static fromSnapshot(crypto: Crypto, snap: ChainSnapshot): ChainState {
    if (snap.format !== 'bitmesh-devchain/1') throw new TypeError(`unknown devchain snapshot format ${String(snap.format)}`);
    const s = new ChainState(crypto, hex.decode(snap.faucetSecretKey));
    for (const b of snap.blocks) {
      // Our own file: its blocks were validated when made, so they are connected as they are.
      const records = b.txs.map((h, i) => s.#record(hex.decode(h), i === 0));
      s.#connectBlock(records, b.time);
      if (s.tipHash !== b.hash) throw new Error(`devchain snapshot: block ${s.tipHeight} hash mismatch`);
    }
    for (const h of snap.mempool) s.acceptTx(hex.decode(h)); // re-validated; a now-invalid one is dropped
    return s;
  }

  toSnapshot(): ChainSnapshot {
    return {
      format: 'bitmesh-devchain/1',
      faucetSecretKey: hex.encode(this.#faucetKey),
      blocks: this.#blocks.map((b) => ({ hash: b.hash, time: b.time, txs: b.txids.map((t) => hex.encode(this.#txs.get(t)!.raw)) })),
      mempool: [...this.#mempool].map((t) => hex.encode(this.#txs.get(t)!.raw)),
    };
  }

  // ---- views ----

  get tipHeight(): number {
    return this.#blocks.length - 1;
  }
  get tipHash(): string {
    return this.#blocks[this.#blocks.length - 1]?.hash ?? GENESIS_PREV;
  }
  get tipTime(): number {
    return this.#blocks[this.#blocks.length - 1]?.time ?? 0;
  }
  blockAt(height: number): Block | undefined {
    return this.#blocks[height];
  }
  get mempoolTxids(): readonly string[] {
    return [...this.#mempool];
  }
  /** Total block subsidies so far: what all coins add up to once the mempool is mined. */
  get issuedSat(): bigint {
    return this.#issuedSat;
  }
  tx(txid: string): TxRecord | undefined {
    return this.#txs.get(txid);
  }

  status(txid: string): ConfirmationStatus | undefined {
    const r = this.#txs.get(txid);
    if (!r) return undefined;
    if (r.height === null) return { confirmed: false };
    const b = this.#blocks[r.height]!;
    return { confirmed: true, blockHeight: b.height, blockHash: b.hash, blockTime: b.time };
  }

  /** Undefined when the transaction or output does not exist. */
  outspend(txid: string, vout: number): OutspendView | undefined {
    const r = this.#txs.get(txid);
    if (!r || vout >= r.tx.outputsLength) return undefined;
    const s = this.#spentBy.get(outpoint(txid, vout));
    if (!s) return { spent: false };
    return { spent: true, txid: s.txid, vin: s.vin, status: this.status(s.txid)! };
  }

  /** Coins paying `script` that no mempool transaction spends (what `/address/:a/utxo` shows). */
  utxosFor(script: Uint8Array): Coin[] {
    const want = hex.encode(script);
    const out: Coin[] = [];
    for (const [key, c] of this.#coins) {
      if (!this.#mempoolSpends.has(key) && hex.encode(c.script) === want) out.push(c);
    }
    return out;
  }

  /** Every coin; `spendable: false` when a mempool tx spends it. For invariants and tests. */
  allCoins(): { coin: Coin; spendable: boolean }[] {
    return [...this.#coins].map(([key, coin]) => ({ coin, spendable: !this.#mempoolSpends.has(key) }));
  }

  // ---- inputs ----

  acceptTx(raw: Uint8Array): AcceptResult {
    let rec: TxRecord;
    try {
      rec = this.#record(raw, false);
    } catch {
      return reject(RPC_DESERIALIZATION_ERROR, 'TX decode failed. Make sure the tx has at least one input.');
    }
    const { tx, txid } = rec;
    if (tx.inputsLength === 0) return reject(RPC_VERIFY_REJECTED, 'bad-txns-vin-empty');
    if (tx.outputsLength === 0) return reject(RPC_VERIFY_REJECTED, 'bad-txns-vout-empty');
    const known = this.#txs.get(txid);
    if (known) {
      // Like bitcoind: re-sending a mempool tx is fine, a confirmed one is an error.
      if (known.height === null) return { ok: true, txid, feeSat: known.feeSat };
      return reject(RPC_VERIFY_ALREADY_IN_CHAIN, 'Transaction already in block chain');
    }
    if (tx.weight > MAX_TX_WEIGHT) return reject(RPC_VERIFY_REJECTED, 'tx-size');
    if (this.#mempool.size >= MAX_MEMPOOL_TXS) return reject(RPC_VERIFY_REJECTED, 'mempool full');

    const inputs: { key: string; sequence: number }[] = [];
    const seen = new Set<string>();
    for (let i = 0; i < tx.inputsLength; i++) {
      const inp = tx.getInput(i);
      const prevTxid = hex.encode(inp.txid!);
      if (inp.index === 0xffffffff && prevTxid === GENESIS_PREV) return reject(RPC_VERIFY_REJECTED, 'coinbase');
      const key = outpoint(prevTxid, inp.index!);
      if (seen.has(key)) return reject(RPC_VERIFY_REJECTED, 'bad-txns-inputs-duplicate');
      seen.add(key);
      inputs.push({ key, sequence: inp.sequence ?? 0xffffffff });
    }
    let outSum = 0n;
    for (let i = 0; i < tx.outputsLength; i++) {
      const amount = tx.getOutput(i).amount!;
      if (amount > MAX_MONEY_SAT) return reject(RPC_VERIFY_REJECTED, 'bad-txns-vout-toolarge');
      outSum += amount;
      if (outSum > MAX_MONEY_SAT) return reject(RPC_VERIFY_REJECTED, 'bad-txns-txouttotal-toolarge');
    }
    if (inputs.some((i) => this.#mempoolSpends.has(i.key))) return reject(RPC_VERIFY_REJECTED, 'txn-mempool-conflict');
    const coins: Coin[] = [];
    for (const i of inputs) {
      const c = this.#coins.get(i.key);
      if (!c) return reject(RPC_VERIFY_ERROR, 'bad-txns-inputs-missingorspent');
      coins.push(c);
    }
    const inSum = coins.reduce((a, c) => a + c.valueSat, 0n);
    if (inSum < outSum) return reject(RPC_VERIFY_REJECTED, `bad-txns-in-belowout, value in (${inSum}) < value out (${outSum})`);

    const nextHeight = this.tipHeight + 1;
    // Median-time-past is approximated by the tip's time.
    if (!isFinalTx(tx.lockTime, inputs.map((i) => i.sequence), nextHeight, this.tipTime)) return reject(RPC_VERIFY_REJECTED, 'non-final');
    if (!this.#relativeLocksMet(tx.version, inputs, coins, nextHeight)) return reject(RPC_VERIFY_REJECTED, 'non-BIP68-final');

    const prevouts: Prevout[] = coins.map((c) => ({ script: c.script, amount: c.valueSat }));
    for (let i = 0; i < tx.inputsLength; i++) {
      const why = verifyInput(this.#crypto, tx, i, prevouts);
      if (why) return scriptFail(why);
    }

    const accepted: TxRecord = { ...rec, prevouts, feeSat: inSum - outSum, height: null };
    this.#txs.set(txid, accepted);
    this.#mempool.add(txid);
    inputs.forEach((inp, vin) => {
      this.#mempoolSpends.set(inp.key, txid);
      this.#spentBy.set(inp.key, { txid, vin });
    });
    this.#addOutputs(accepted, null);
    return { ok: true, txid, feeSat: accepted.feeSat };
  }

  /** Mines `count` blocks holding the whole mempool (first block) at `now` (unix seconds). */
  mine(count: number, now: number): Block[] {
    const made: Block[] = [];
    for (let n = 0; n < count; n++) {
      const txs = [...this.#mempool].map((t) => this.#txs.get(t)!);
      const fees = txs.reduce((a, r) => a + r.feeSat, 0n);
      const cb = this.#record(coinbaseTx(this.tipHeight + 1, BLOCK_SUBSIDY_SAT + fees, this.faucetScript), true);
      const time = Math.max(Math.floor(now), this.tipTime + 1);
      made.push(this.#connectBlock([cb, ...txs], time));
    }
    return made;
  }

  /**
   * Pays `amountSat` to `script` from the faucet's coins with a signed transaction that
   * goes through `acceptTx` like any other. `aux` is 32 fresh random bytes (BIP340).
   */
  faucet(script: Uint8Array, amountSat: bigint, aux: Uint8Array): AcceptResult {
    const mine: FaucetCoin[] = this.utxosFor(this.faucetScript).map((c) => ({ txid: c.txid, vout: c.vout, valueSat: c.valueSat }));
    const raw = buildFaucetTx(this.#crypto, this.#faucetKey, mine, script, amountSat, aux);
    if (!raw) return reject(RPC_VERIFY_REJECTED, 'faucet has too little to pay that');
    return this.acceptTx(raw);
  }

  // ---- internals ----

  #record(raw: Uint8Array, coinbase: boolean): TxRecord {
    const tx = Transaction.fromRaw(raw, TX_OPTS);
    const canonical = tx.toBytes(true, true);
    if (canonical.length !== raw.length || hex.encode(canonical) !== hex.encode(raw)) throw new Error('non-canonical encoding');
    const txid = displayHash(this.#crypto, tx.toBytes(true, false));
    return { txid, raw, tx, prevouts: [], feeSat: 0n, coinbase, height: null };
  }

  #relativeLocksMet(version: number, inputs: readonly { sequence: number }[], coins: readonly Coin[], nextHeight: number): boolean {
    if (version < 2) return true;
    return inputs.every((inp, i) => {
      const seq = inp.sequence >>> 0;
      if (seq & SEQUENCE_DISABLE_FLAG) return true;
      // Time-based relative locks are not modelled (the project never uses them).
      if (seq & SEQUENCE_TYPE_FLAG) return true;
      const coinHeight = coins[i]!.height ?? nextHeight;
      return coinHeight + (seq & SEQUENCE_MASK) - 1 < nextHeight;
    });
  }

  #addOutputs(r: TxRecord, height: number | null): void {
    for (let vout = 0; vout < r.tx.outputsLength; vout++) {
      const o = r.tx.getOutput(vout);
      this.#coins.set(outpoint(r.txid, vout), { txid: r.txid, vout, valueSat: o.amount!, script: o.script!, height });
    }
  }

  /** Appends a block; `records[0]` is its coinbase, the rest come from the mempool or a snapshot. */
  #connectBlock(records: readonly TxRecord[], time: number): Block {
    const height = this.#blocks.length;
    const txids = records.map((r) => r.txid);
    const hash = blockHash(this.#crypto, this.tipHash, txids, time);
    const block: Block = { height, hash, prevHash: this.tipHash, time, txids };
    this.#blocks.push(block);
    this.#issuedSat += BLOCK_SUBSIDY_SAT;
    for (const [i, r] of records.entries()) {
      const inMempool = this.#mempool.delete(r.txid);
      if (i > 0 && !inMempool) this.#connectFromSnapshot(r);
      for (let vin = 0; i > 0 && vin < r.tx.inputsLength; vin++) {
        const inp = r.tx.getInput(vin);
        const key = outpoint(hex.encode(inp.txid!), inp.index!);
        this.#coins.delete(key);
        this.#mempoolSpends.delete(key);
      }
      const stored = this.#txs.get(r.txid) ?? r;
      stored.height = height;
      this.#txs.set(r.txid, stored);
      if (inMempool) {
        for (const key of this.#coinKeys(stored)) {
          const c = this.#coins.get(key);
          if (c) this.#coins.set(key, { ...c, height });
        }
      } else this.#addOutputs(stored, height);
    }
    return block;
  }

  /** A non-coinbase tx arriving in a snapshot block: take its prevouts and fee from the coins it spends. */
  #connectFromSnapshot(r: TxRecord): void {
    const prevouts: Prevout[] = [];
    let inSum = 0n;
    for (let vin = 0; vin < r.tx.inputsLength; vin++) {
      const inp = r.tx.getInput(vin);
      const key = outpoint(hex.encode(inp.txid!), inp.index!);
      const c = this.#coins.get(key);
      if (!c) throw new Error(`devchain snapshot: ${r.txid} spends missing ${key}`);
      prevouts.push({ script: c.script, amount: c.valueSat });
      inSum += c.valueSat;
      this.#spentBy.set(key, { txid: r.txid, vin });
    }
    let outSum = 0n;
    for (let vout = 0; vout < r.tx.outputsLength; vout++) outSum += r.tx.getOutput(vout).amount!;
    this.#txs.set(r.txid, { ...r, prevouts, feeSat: inSum - outSum });
  }

  #coinKeys(r: TxRecord): string[] {
    return Array.from({ length: r.tx.outputsLength }, (_, vout) => outpoint(r.txid, vout));
  }
}
