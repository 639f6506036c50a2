// The channel's funding output (DESIGN.md §6): P2TR whose internal key is the MuSig2
// aggregate of (payer, payee) — the cooperative key path — with two leaves: A (close
// with the latest state, both signatures) and B (payer refund after `expiryHeight`).
import { scriptToAddress } from './btc/address.js';
import { p2tr } from './btc/taproot.js';
import { btcNetwork, type ChainNetwork } from './network.js';
import { channelKeyContext, keyAggXonly, plainFromXonly, type MusigKeyContext } from './musig.js';
import { channelLeafA, channelLeafB, checkExpiryHeight } from './script-channel.js';
import { TxBuildError } from './tx-errors.js';
import { checkBytes } from './tx-taproot.js';

export interface ChannelFundingParams {
  readonly payerX: Uint8Array;
  readonly payeeX: Uint8Array;
  readonly expiryHeight: number;
  readonly network: ChainNetwork;
}

export interface TapLeaf {
  readonly script: Uint8Array;
  /** BIP341 control block for spending this leaf: version|parity, internal key, path. */
  readonly controlBlock: Uint8Array;
  readonly leafHash: Uint8Array;
}

export interface ChannelFunding extends ChannelFundingParams {
  /** scriptPubKey of the funding output: OP_1 <outputKeyX>. */
  readonly script: Uint8Array;
  readonly address: string;
  readonly internalKeyX: Uint8Array;
  readonly outputKeyX: Uint8Array;
  readonly merkleRoot: Uint8Array;
  readonly leafA: TapLeaf;
  readonly leafB: TapLeaf;
  /** MuSig2 context for the cooperative (key-path) close. */
  readonly musig: MusigKeyContext;
}

export function channelFunding(params: ChannelFundingParams): ChannelFunding {
  const { payerX, payeeX, expiryHeight, network } = params;
  checkBytes('payerX', payerX, 32);
  checkBytes('payeeX', payeeX, 32);
  checkExpiryHeight(expiryHeight);
  let internalKeyX: Uint8Array;
  try {
    internalKeyX = keyAggXonly([plainFromXonly(payerX), plainFromXonly(payeeX)]);
  } catch (e) {
    throw new TxBuildError('tx.bad-param', `payerX/payeeX: not valid x-only keys (${(e as Error).message})`);
  }
  const scriptA = channelLeafA(payerX, payeeX);
  const scriptB = channelLeafB(expiryHeight, payerX);
  const out = p2tr(internalKeyX, [scriptA, scriptB]);
  const [leafA, leafB] = out.leaves as [TapLeaf, TapLeaf];
  const merkleRoot = out.merkleRoot!;
  const musig = channelKeyContext(payerX, payeeX, merkleRoot);
  if (!equal(musig.outputKeyX, out.outputX)) throw new Error('funding: MuSig2 tweak disagrees with P2TR'); // cannot happen
  return {
    payerX,
    payeeX,
    expiryHeight,
    network,
    script: out.script,
    address: scriptToAddress(out.script, btcNetwork(network)),
    internalKeyX,
    outputKeyX: out.outputX,
    merkleRoot,
    leafA,
    leafB,
    musig,
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
