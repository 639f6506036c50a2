// The agent's view of the chain: one Esplora client (an Esplora server, or the
// devchain, started in-process when configured and none answers), the tip height
// polled on a timer, funding outputs watched, fee rates, broadcasts. Every failure
// is logged and counted; nothing here throws into the agent's loops.
import path from 'node:path';
import { decodeTxHex } from '../chain/btc/tx.js';
import { bytesToHex } from '@noble/hashes/utils.js';
import type { ChainConfig } from '../config/schema.js';
import { EsploraClient, type EsploraApi } from '../chain/esplora-client.js';
import { ensureDevchain, type EnsuredDevchain } from '../chain/devchain/ensure.js';
import { feeRateFromEstimates, MIN_FEE_RATE } from '../chain/fees.js';
import type { Logger } from './log.js';

export interface FundingSeen {
  readonly confirmations: number;
  readonly valueSat: number;
}

export interface ChainServiceOptions {
  readonly config: ChainConfig;
  readonly stateDir: string;
  readonly log: Logger;
  readonly pollMs?: number;
}

export class ChainService {
  #esplora: EsploraApi | undefined;
  #devchain: EnsuredDevchain | undefined;
  #timer: NodeJS.Timeout | undefined;
  #tip: number | undefined;
  #stopped = false;
  readonly #tipListeners: ((height: number) => void)[] = [];
  readonly errors: Record<string, number> = {};

  constructor(private readonly opts: ChainServiceOptions) {}

  get tip(): number | undefined {
    return this.#tip;
  }

  get esplora(): EsploraApi {
    if (!this.#esplora) throw new Error('chain service not started');
    return this.#esplora;
  }

  get url(): string {
    return this.opts.config.esploraUrl;
  }

  onTip(listener: (height: number) => void): void {
    this.#tipListeners.push(listener);
  }

  async start(): Promise<void> {
    const { config, stateDir, log } = this.opts;
    if (config.backend === 'devchain') {
      this.#devchain = await ensureDevchain(config.esploraUrl, path.join(stateDir, 'devchain'));
      if (this.#devchain.started) log.info('started an in-process devchain', { url: this.#devchain.url });
    }
    this.#esplora = new EsploraClient({ baseUrl: config.esploraUrl, timeoutMs: 5000, retries: 2 });
    await this.#poll();
    this.#schedule();
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    if (this.#timer) clearTimeout(this.#timer);
    await this.#devchain?.close();
  }

  #schedule(): void {
    if (this.#stopped) return;
    const ms = this.opts.pollMs ?? (this.opts.config.backend === 'devchain' ? 1000 : 15_000);
    this.#timer = setTimeout(() => void this.#poll().finally(() => this.#schedule()), ms);
  }

  async #poll(): Promise<void> {
    try {
      const h = await this.esplora.tipHeight();
      if (h !== this.#tip) {
        this.#tip = h;
        for (const l of this.#tipListeners) l(h);
      }
    } catch (e) {
      this.#count(e, 'tip height unavailable');
    }
  }

  async feeRate(targetBlocks = 6): Promise<number> {
    try {
      return feeRateFromEstimates(await this.esplora.feeEstimates(), { targetBlocks });
    } catch (e) {
      this.#count(e, 'fee estimates unavailable; using the minimum');
      return MIN_FEE_RATE;
    }
  }

  /** Broadcasts; returns the txid, or throws the typed EsploraError for the caller to report. */
  async broadcast(hex: string): Promise<string> {
    return this.esplora.broadcast(hex);
  }

  /**
   * Where is the funding output? undefined while the tx is unknown; otherwise its
   * confirmations and the value of output `vout` — only if that output pays `script`.
   */
  async fundingStatus(txid: Uint8Array, vout: number, script: Uint8Array): Promise<FundingSeen | undefined> {
    const id = bytesToHex(txid);
    try {
      const [hex, status] = await Promise.all([this.esplora.txHex(id), this.esplora.txStatus(id)]);
      if (!hex || !status) return undefined;
      const out = decodeTxHex(hex).outputs[vout];
      if (!out || bytesToHex(out.script) !== bytesToHex(script)) return undefined;
      const tip = this.#tip ?? 0;
      const confirmations = status.confirmed ? Math.max(1, tip - status.blockHeight + 1) : 0;
      return { confirmations, valueSat: Number(out.amount) };
    } catch (e) {
      this.#count(e, 'funding lookup failed');
      return undefined;
    }
  }

  #count(e: unknown, msg: string): void {
    const code = (e as { code?: string }).code ?? 'error';
    this.errors[code] = (this.errors[code] ?? 0) + 1;
    if (this.errors[code] === 1 || this.errors[code] % 100 === 0) {
      this.opts.log.warn(msg, { error: (e as Error).message, count: this.errors[code] });
    }
  }
}
