// The channel's funding output (DESIGN.md §6): P2TR whose internal key is the MuSig2
// aggregate of (payer, payee) — the cooperative key path — with two leaves: A (close
// with the latest state, both signatures) and B (payer refund after `expiryHeight`).
import { TaprootControlBlock, p2tr } from '@scure/btc-signer';
import { tapLeafHash } from '@scure/btc-signer/payment.js';
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
  // allowUnknownOutputs: leaf B is a custom script btc-signer does not classify.
  const out = p2tr(internalKeyX, [{ script: scriptA }, { script: scriptB }], btcNetwork(network), true);
  const leaf = (script: Uint8Array): TapLeaf => {
    // tapLeafScript entries are [control block, script || leaf version].
    const found = (out.tapLeafScript ?? []).find(([, s]) => equal(s.subarray(0, -1), script));
    if (!found) throw new Error('funding: leaf missing from tree'); // cannot happen
    return { script, controlBlock: TaprootControlBlock.encode(found[0]), leafHash: tapLeafHash(script) };
  };
  const musig = channelKeyContext(payerX, payeeX, out.tapMerkleRoot);
  if (!equal(musig.outputKeyX, out.tweakedPubkey)) throw new Error('funding: MuSig2 tweak disagrees with P2TR'); // cannot happen
  return {
    payerX,
    payeeX,
    expiryHeight,
    network,
    script: out.script,
    address: out.address,
    internalKeyX,
    outputKeyX: out.tweakedPubkey,
    merkleRoot: out.tapMerkleRoot,
    leafA: leaf(scriptA),
    leafB: leaf(scriptB),
    musig,
  };
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}
