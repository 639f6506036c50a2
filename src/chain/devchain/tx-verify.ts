// Witness verification for the spends the devchain understands: Taproot (segwit v1)
// key path, and script path through a leaf the tapscript subset can run, with the
// control block checked against the output key (BIP341). Everything else is refused
// as `unsupported-script`. Sighashes come from @scure/btc-signer's BIP341 preimage;
// tagged hashes and signature checks go through the crypto facade.
import { Transaction, utils as btcUtils } from '@scure/btc-signer';
import type { Crypto } from '../../crypto/facade.js';
import { runTapscript } from './tapscript.js';
import type { ScriptFailure } from './tapscript.js';

export interface Prevout {
  readonly script: Uint8Array;
  readonly amount: bigint;
}

export type VerifyFailure = ScriptFailure | 'Witness program was passed an empty witness' | 'Witness requires empty scriptSig' | 'Invalid Taproot control block size' | 'Witness program hash mismatch';

const TAPROOT_LEAF_TAPSCRIPT = 0xc0;
const ANNEX_TAG = 0x50;
const VALID_HASH_TYPES = new Set([0x01, 0x02, 0x03, 0x81, 0x82, 0x83]);
const SIGHASH_SINGLE = 0x03;

/** 0x51 0x20 <32 bytes>: the only output type whose spends we verify. */
export function taprootOutputKey(script: Uint8Array): Uint8Array | undefined {
  return script.length === 34 && script[0] === 0x51 && script[1] === 0x20 ? script.subarray(2) : undefined;
}

function compactSize(n: number): Uint8Array {
  if (n < 0xfd) return Uint8Array.of(n);
  if (n <= 0xffff) return Uint8Array.of(0xfd, n & 0xff, n >> 8);
  return Uint8Array.of(0xfe, n & 0xff, (n >> 8) & 0xff, (n >> 16) & 0xff, n >>> 24);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < a.length && i < b.length; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

function equal(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && compare(a, b) === 0;
}

export function tapLeafHash(crypto: Crypto, leafVersion: number, script: Uint8Array): Uint8Array {
  return crypto.taggedHash('TapLeaf', Uint8Array.of(leafVersion), compactSize(script.length), script);
}

/** The Merkle root a control block proves for `leafHash`. */
export function tapMerkleRoot(crypto: Crypto, leafHash: Uint8Array, path: readonly Uint8Array[]): Uint8Array {
  let k = leafHash;
  for (const e of path) k = compare(k, e) <= 0 ? crypto.taggedHash('TapBranch', k, e) : crypto.taggedHash('TapBranch', e, k);
  return k;
}

/**
 * Verifies input `idx` of `tx` spending `prevouts[idx]`; `prevouts` holds all inputs'
 * prevouts (BIP341 signs all amounts and scripts). Null when valid.
 */
export function verifyInput(crypto: Crypto, tx: Transaction, idx: number, prevouts: readonly Prevout[]): VerifyFailure | null {
  const input = tx.getInput(idx);
  const prev = prevouts[idx];
  if (!prev) throw new RangeError(`no prevout for input ${idx}`);
  const outputKey = taprootOutputKey(prev.script);
  if (!outputKey) return 'unsupported-script';
  if (input.finalScriptSig && input.finalScriptSig.length > 0) return 'Witness requires empty scriptSig';
  const witness = [...(input.finalScriptWitness ?? [])];
  if (witness.length === 0) return 'Witness program was passed an empty witness';
  let annex: Uint8Array | undefined;
  const last = witness[witness.length - 1]!;
  if (witness.length >= 2 && last[0] === ANNEX_TAG) {
    annex = last;
    witness.pop();
  }
  const scripts = prevouts.map((p) => p.script);
  const amounts = prevouts.map((p) => p.amount);

  const checkSig = (sigWithType: Uint8Array, pubkey: Uint8Array, leaf?: Uint8Array): boolean => {
    let hashType = 0;
    if (sigWithType.length === 65) {
      hashType = sigWithType[64]!;
      if (!VALID_HASH_TYPES.has(hashType)) return false; // includes an explicit 0x00
    } else if (sigWithType.length !== 64) return false;
    if ((hashType & 0x03) === SIGHASH_SINGLE && idx >= tx.outputsLength) return false;
    let msg: Uint8Array;
    try {
      msg = leaf
        ? tx.preimageWitnessV1(idx, scripts, hashType, amounts, -1, leaf, TAPROOT_LEAF_TAPSCRIPT, annex)
        : tx.preimageWitnessV1(idx, scripts, hashType, amounts, -1, undefined, undefined, annex);
    } catch {
      return false; // no digest defined for this input/hash type
    }
    return crypto.schnorrVerify(sigWithType.subarray(0, 64), msg, pubkey);
  };

  if (witness.length === 1) {
    return checkSig(witness[0]!, outputKey) ? null : 'Invalid Schnorr signature';
  }
  const control = witness.pop()!;
  const script = witness.pop()!;
  if (control.length < 33 || (control.length - 33) % 32 !== 0 || control.length > 33 + 128 * 32) {
    return 'Invalid Taproot control block size';
  }
  // Other leaf versions are upgrade hooks that succeed unconditionally; refuse them.
  if ((control[0]! & 0xfe) !== TAPROOT_LEAF_TAPSCRIPT) return 'unsupported-script';
  const internalKey = control.subarray(1, 33);
  const path: Uint8Array[] = [];
  for (let o = 33; o < control.length; o += 32) path.push(control.subarray(o, o + 32));
  const root = tapMerkleRoot(crypto, tapLeafHash(crypto, TAPROOT_LEAF_TAPSCRIPT, script), path);
  let tweaked: [Uint8Array, number];
  try {
    tweaked = btcUtils.taprootTweakPubkey(internalKey, root) as [Uint8Array, number];
  } catch {
    return 'Witness program hash mismatch'; // internal key not on the curve
  }
  if (!equal(tweaked[0], outputKey) || tweaked[1] !== (control[0]! & 1)) return 'Witness program hash mismatch';
  return runTapscript(script, witness, {
    checkSig: (sig, pub) => checkSig(sig, pub, script),
    txLockTime: tx.lockTime,
    inputSequence: input.sequence ?? 0xffffffff,
  });
}
