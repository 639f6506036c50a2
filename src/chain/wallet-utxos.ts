// The wallet's view of its coins. Entries come from chain data in Esplora's
// `/address/:addr/utxo` shape and are validated here (the chain backend is outside
// our trust boundary); spends we make are marked locally until the chain catches up.
import { RemoteError } from '../core/errors.js';
import type { Outpoint } from './tx-taproot.js';

/** Esplora's UTXO entry, as decoded JSON. */
export interface EsploraUtxo {
  readonly txid: string;
  readonly vout: number;
  readonly value: number;
  readonly status: {
    readonly confirmed: boolean;
    readonly block_height?: number;
    readonly block_hash?: string;
    readonly block_time?: number;
  };
}

export interface WalletUtxo {
  readonly txid: string;
  readonly vout: number;
  readonly valueSat: bigint;
  /** Height of the confirming block, or null while in the mempool. */
  readonly height: number | null;
}

export class BadUtxoError extends RemoteError {
  constructor(message: string) {
    super('chain.bad-utxo', message);
  }
}

/** A wallet with more coins than this is not what a router runs; refuse to grow unbounded. */
export const MAX_UTXOS = 5_000;

const key = (o: Outpoint): string => `${o.txid}:${o.vout}`;

export function parseEsploraUtxo(u: unknown): WalletUtxo {
  if (typeof u !== 'object' || u === null) throw new BadUtxoError('utxo: expected object');
  const r = u as Record<string, unknown>;
  const { txid, vout, value, status } = r;
  if (typeof txid !== 'string' || !/^[0-9a-f]{64}$/.test(txid)) throw new BadUtxoError('utxo.txid: expected 64 lowercase hex chars');
  if (typeof vout !== 'number' || !Number.isInteger(vout) || vout < 0 || vout > 0xffffffff) throw new BadUtxoError(`utxo.vout: expected u32, got ${String(vout)}`);
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0 || value > 21e14) throw new BadUtxoError(`utxo.value: expected sats, got ${String(value)}`);
  if (typeof status !== 'object' || status === null) throw new BadUtxoError('utxo.status: expected object');
  const s = status as Record<string, unknown>;
  if (typeof s.confirmed !== 'boolean') throw new BadUtxoError('utxo.status.confirmed: expected boolean');
  let height: number | null = null;
  if (s.confirmed) {
    if (typeof s.block_height !== 'number' || !Number.isInteger(s.block_height) || s.block_height < 0) {
      throw new BadUtxoError('utxo.status.block_height: expected a height for a confirmed utxo');
    }
    height = s.block_height;
  }
  return { txid, vout, valueSat: BigInt(value), height };
}

/**
 * A UTXO already decoded by the Esplora client (esplora-decode.ts `AddressUtxo`),
 * described structurally so the wallet does not depend on the client.
 */
export interface DecodedUtxo {
  readonly txid: string;
  readonly vout: number;
  readonly valueSat: bigint;
  readonly status: { readonly confirmed: boolean; readonly blockHeight?: number };
}

export function walletUtxoFromDecoded(u: DecodedUtxo): WalletUtxo {
  const height = u.status.confirmed ? (u.status.blockHeight ?? null) : null;
  if (u.status.confirmed && height === null) throw new BadUtxoError('utxo: confirmed without a height');
  return { txid: u.txid, vout: u.vout, valueSat: u.valueSat, height };
}

export interface SpendableFilter {
  /** 0 allows mempool coins. */
  readonly minConfirmations: number;
  readonly tipHeight: number;
}

export class UtxoSet {
  readonly #coins = new Map<string, WalletUtxo>();
  readonly #spent = new Set<string>();

  /** Add or update one coin from chain data (e.g. a confirmation arrived). */
  add(u: EsploraUtxo | WalletUtxo): void {
    const coin = 'valueSat' in u ? u : parseEsploraUtxo(u);
    const k = key(coin);
    if (!this.#coins.has(k) && this.#coins.size >= MAX_UTXOS) throw new BadUtxoError(`more than ${MAX_UTXOS} utxos`);
    this.#coins.set(k, coin);
  }

  /**
   * Replace the set with the chain's current list. Local spend marks survive for coins
   * still listed (our spend is not indexed yet) and are dropped for coins that are gone.
   */
  replaceFromChain(list: readonly unknown[]): void {
    this.replaceWith(list.map(parseEsploraUtxo));
  }

  /** As replaceFromChain, for coins already decoded (see walletUtxoFromDecoded). */
  replaceWith(parsed: readonly WalletUtxo[]): void {
    if (parsed.length > MAX_UTXOS) throw new BadUtxoError(`more than ${MAX_UTXOS} utxos`);
    this.#coins.clear();
    for (const c of parsed) this.#coins.set(key(c), c);
    for (const k of [...this.#spent]) if (!this.#coins.has(k)) this.#spent.delete(k);
  }

  markSpent(outpoints: readonly Outpoint[]): void {
    for (const o of outpoints) if (this.#coins.has(key(o))) this.#spent.add(key(o));
  }

  /** Undo markSpent, e.g. when a broadcast failed. */
  release(outpoints: readonly Outpoint[]): void {
    for (const o of outpoints) this.#spent.delete(key(o));
  }

  remove(outpoint: Outpoint): void {
    this.#coins.delete(key(outpoint));
    this.#spent.delete(key(outpoint));
  }

  isSpent(o: Outpoint): boolean {
    return this.#spent.has(key(o));
  }

  get(o: Outpoint): WalletUtxo | undefined {
    return this.#coins.get(key(o));
  }

  all(): WalletUtxo[] {
    return [...this.#coins.values()];
  }

  spendable(f: SpendableFilter): WalletUtxo[] {
    return this.all().filter((c) => {
      if (this.#spent.has(key(c))) return false;
      // A confirmed coin has at least one confirmation even if our tip lags behind.
      const conf = c.height === null ? 0 : Math.max(1, f.tipHeight - c.height + 1);
      return conf >= f.minConfirmations;
    });
  }

  /** Unspent value, split by confirmation. */
  balance(): { confirmedSat: bigint; unconfirmedSat: bigint } {
    let confirmedSat = 0n;
    let unconfirmedSat = 0n;
    for (const c of this.all()) {
      if (this.#spent.has(key(c))) continue;
      if (c.height === null) unconfirmedSat += c.valueSat;
      else confirmedSat += c.valueSat;
    }
    return { confirmedSat, unconfirmedSat };
  }
}
