// The in-process twin of EsploraClient: the same EsploraApi answered straight from a
// ChainState, with the same typed values and errors, for tests and the simulator where
// thousands of nodes cannot each open HTTP connections.
import { hex } from '@scure/base';
import type { EsploraApi } from '../esplora-client.js';
import { decodeFeeEstimates } from '../esplora-decode.js';
import type { AddressUtxo, FeeEstimates, OutSpend, TxStatus } from '../esplora-decode.js';
import { EsploraError } from '../esplora-error.js';
import type { ChainState, ConfirmationStatus } from './chain-state.js';
import { addressToScript, feeEstimatesJson } from './esplora-views.js';

const TXID = /^[0-9a-f]{64}$/;

function checkTxid(txid: string): void {
  if (!TXID.test(txid)) throw new TypeError(`"txid" expected 64 lowercase hex chars, got ${JSON.stringify(txid)}`);
}

const toStatus = (s: ConfirmationStatus): TxStatus => s;

export class InMemoryEsplora implements EsploraApi {
  constructor(readonly chain: ChainState) {}

  async tipHeight(): Promise<number> {
    return this.chain.tipHeight;
  }
  async tipHash(): Promise<string> {
    return this.chain.tipHash;
  }
  async blockHashAtHeight(height: number): Promise<string | null> {
    return this.chain.blockAt(height)?.hash ?? null;
  }
  async txStatus(txid: string): Promise<TxStatus | null> {
    checkTxid(txid);
    const s = this.chain.status(txid);
    return s ? toStatus(s) : null;
  }
  async txHex(txid: string): Promise<string | null> {
    checkTxid(txid);
    const r = this.chain.tx(txid);
    return r ? hex.encode(r.raw) : null;
  }
  async txOutspend(txid: string, vout: number): Promise<OutSpend | null> {
    checkTxid(txid);
    return this.chain.outspend(txid, vout) ?? null;
  }
  async addressUtxos(address: string): Promise<AddressUtxo[]> {
    const script = addressToScript(address);
    if (!script) throw new EsploraError('http_status', 'Invalid Bitcoin address', { status: 400, path: '/address/:addr/utxo' });
    return this.chain.utxosFor(script).map((c) => ({ txid: c.txid, vout: c.vout, valueSat: c.valueSat, status: toStatus(this.chain.status(c.txid)!) }));
  }
  async feeEstimates(): Promise<FeeEstimates> {
    return decodeFeeEstimates(JSON.stringify(feeEstimatesJson()));
  }
  async broadcast(txHex: string): Promise<string> {
    if (txHex.length === 0 || !/^(?:[0-9a-fA-F]{2})+$/.test(txHex)) throw new TypeError('"txHex" expected non-empty hex');
    const r = this.chain.acceptTx(hex.decode(txHex.toLowerCase()));
    if (!r.ok) throw new EsploraError('broadcast_rejected', `broadcast rejected: ${r.reason}`, { status: 400, path: '/tx', rpcCode: r.rpcCode, reason: r.reason });
    return r.txid;
  }
}
