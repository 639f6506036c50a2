// The devchain's state rendered as Esplora REST JSON (Blockstream/esplora API.md field
// names, amounts as JSON numbers of satoshi), and addresses mapped to output scripts.
import { Address, NETWORK, OutScript, TEST_NETWORK } from '@scure/btc-signer';
import { hex } from '@scure/base';
import type { ChainState, Coin, ConfirmationStatus, OutspendView } from './chain-state.js';
import { DEVCHAIN_FEERATE_SAT_VB, REGTEST } from './constants.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

/** Regtest addresses first; testnet and mainnet encodings of a script are accepted too (same script). */
export function addressToScript(address: string): Uint8Array | undefined {
  for (const net of [REGTEST, TEST_NETWORK, NETWORK]) {
    try {
      return OutScript.encode(Address(net).decode(address));
    } catch {
      // try the next network
    }
  }
  return undefined;
}

export function scriptToAddress(script: Uint8Array): string | undefined {
  try {
    return Address(REGTEST).encode(OutScript.decode(script));
  } catch {
    return undefined; // OP_RETURN and other address-less scripts
  }
}

// Satoshi amounts stay below 2^53 (21e6 BTC < 2^51), so JSON numbers are exact.
const sat = (v: bigint): number => Number(v);

export function statusJson(s: ConfirmationStatus): Json {
  return s.confirmed
    ? { confirmed: true, block_height: s.blockHeight, block_hash: s.blockHash, block_time: s.blockTime }
    : { confirmed: false };
}

export function utxoJson(chain: ChainState, c: Coin): Json {
  return { txid: c.txid, vout: c.vout, status: statusJson(chain.status(c.txid)!), value: sat(c.valueSat) };
}

export function outspendJson(o: OutspendView): Json {
  return o.spent ? { spent: true, txid: o.txid, vin: o.vin, status: statusJson(o.status) } : { spent: false };
}

function outputJson(script: Uint8Array, value: bigint): Json {
  const address = scriptToAddress(script);
  return { scriptpubkey: hex.encode(script), ...(address ? { scriptpubkey_address: address } : {}), value: sat(value) };
}

/** `GET /tx/:txid`: the fields of Esplora's transaction format that the devchain knows. */
export function txJson(chain: ChainState, txid: string): Json | undefined {
  const r = chain.tx(txid);
  if (!r) return undefined;
  const vin: Json[] = [];
  for (let i = 0; i < r.tx.inputsLength; i++) {
    const inp = r.tx.getInput(i);
    const prev = r.prevouts[i];
    vin.push({
      txid: hex.encode(inp.txid!),
      vout: inp.index!,
      prevout: r.coinbase || !prev ? null : outputJson(prev.script, prev.amount),
      scriptsig: hex.encode(inp.finalScriptSig ?? new Uint8Array()),
      witness: (inp.finalScriptWitness ?? []).map((w) => hex.encode(w)),
      is_coinbase: r.coinbase,
      sequence: inp.sequence ?? 0xffffffff,
    });
  }
  const vout: Json[] = [];
  for (let i = 0; i < r.tx.outputsLength; i++) {
    const o = r.tx.getOutput(i);
    vout.push(outputJson(o.script!, o.amount!));
  }
  return {
    txid,
    version: r.tx.version,
    locktime: r.tx.lockTime,
    vin,
    vout,
    size: r.raw.length,
    weight: r.tx.weight,
    fee: sat(r.feeSat),
    status: statusJson(chain.status(txid)!),
  };
}

/** The devchain has no fee market: every target gets the same rate. */
export function feeEstimatesJson(): Json {
  const targets = [...Array.from({ length: 25 }, (_, i) => i + 1), 144, 504, 1008];
  return Object.fromEntries(targets.map((t) => [String(t), DEVCHAIN_FEERATE_SAT_VB]));
}
