// BIP341 output keys and script trees: the published scriptPubKey vectors, then
// btc-signer (independent, dev only) on random keys.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { p2tr as theirP2tr, TaprootControlBlock } from '@scure/btc-signer';
import { taprootTweakPrivKey } from '@scure/btc-signer/utils.js';
import { hex } from '@scure/base';
import * as secp from '@noble/secp256k1';
import vectors from '../testing/vectors/bip341-wallet-test-vectors.json' with { type: 'json' };
import { scriptToAddress } from './address.js';
import { OP, encodeScript } from './script.js';
import { p2tr, tapBranchHash, tapLeafHash, tapTweak, taprootOutputKey, tweakSecretKey } from './taproot.js';

const MAINNET = { bech32: 'bc', pubKeyHash: 0x00, scriptHash: 0x05, wif: 0x80 };
type Leaf = { script: string; leafVersion: number };
type Tree = Leaf | Tree[];

function treeHash(t: Tree): Uint8Array {
  if (!Array.isArray(t)) return tapLeafHash(hex.decode(t.script), t.leafVersion);
  return tapBranchHash(treeHash(t[0]!), treeHash(t[1]!));
}

describe('BIP341 scriptPubKey vectors', () => {
  it.each(vectors.scriptPubKey.map((v, i) => [i, v] as const))('vector %i', (_, v) => {
    const internal = hex.decode(v.given.internalPubkey);
    const tree = v.given.scriptTree as Tree | null;
    const root = tree ? treeHash(tree) : undefined;
    expect(root ? hex.encode(root) : null).toBe(v.intermediary.merkleRoot);
    expect(tapTweak(internal, root).toString(16).padStart(64, '0')).toBe(v.intermediary.tweak);
    expect(hex.encode(taprootOutputKey(internal, root).x)).toBe(v.intermediary.tweakedPubkey);
    // Trees of at most two tapscript (0xc0) leaves are the ones p2tr builds.
    const leaves = tree === null ? [] : Array.isArray(tree) ? tree : [tree];
    if (leaves.length <= 2 && leaves.every((l) => !Array.isArray(l) && l.leafVersion === 0xc0)) {
      const out = p2tr(internal, (leaves as Leaf[]).map((l) => hex.decode(l.script)));
      expect(hex.encode(out.script)).toBe(v.expected.scriptPubKey);
      expect(scriptToAddress(out.script, MAINNET)).toBe(v.expected.bip350Address);
      const blocks = (v.expected as { scriptPathControlBlocks?: string[] }).scriptPathControlBlocks ?? [];
      expect(out.leaves.map((l) => hex.encode(l.controlBlock))).toEqual(blocks);
    }
  });

  it('tweaks the secret keys of the keyPathSpending vectors', () => {
    for (const v of vectors.keyPathSpending[0]!.inputSpending) {
      const root = v.given.merkleRoot ? hex.decode(v.given.merkleRoot) : undefined;
      expect(hex.encode(tweakSecretKey(hex.decode(v.given.internalPrivkey), root))).toBe(v.intermediary.tweakedPrivkey);
    }
  });
});

describe('against btc-signer', () => {
  // btc-signer parses the leaves, so they are real scripts: a few data pushes and a CHECKSIG.
  const pushes = fc.array(fc.uint8Array({ minLength: 2, maxLength: 40 }), { minLength: 1, maxLength: 3 }).map((items) => encodeScript([...items, { op: OP.CHECKSIG }]));
  const secretKey = fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp.utils.isValidSecretKey(k));
  it('same output, address and control blocks for 0, 1 or 2 leaves; same tweaked secret', () => {
    fc.assert(
      fc.property(secretKey, fc.array(pushes, { maxLength: 2 }), (sk, scripts) => {
        const x = secp.schnorr.getPublicKey(sk);
        const ours = p2tr(x, scripts);
        const theirs = scripts.length === 0 ? theirP2tr(x, undefined, undefined, true) : theirP2tr(x, scripts.map((script) => ({ script })), undefined, true);
        expect(hex.encode(ours.script)).toBe(hex.encode(theirs.script));
        for (const leaf of ours.leaves) {
          const leafScripts = (theirs as { tapLeafScript?: [Parameters<typeof TaprootControlBlock.encode>[0], Uint8Array][] }).tapLeafScript ?? [];
          const found = leafScripts.find(([, s]) => hex.encode(s.subarray(0, -1)) === hex.encode(leaf.script))!;
          expect(hex.encode(leaf.controlBlock)).toBe(hex.encode(TaprootControlBlock.encode(found[0])));
        }
        if (scripts.length === 0) {
          const tweaked = tweakSecretKey(sk);
          expect(hex.encode(tweaked)).toBe(hex.encode(taprootTweakPrivKey(sk)));
          expect(hex.encode(secp.schnorr.getPublicKey(tweaked))).toBe(hex.encode(ours.outputX));
        }
      }),
      { numRuns: 100 },
    );
  });

  it('refuses an x-only key off the curve and more than two leaves', () => {
    const offCurve = hex.decode('ff'.repeat(32));
    expect(() => p2tr(offCurve)).toThrow(/not on the curve/);
    expect(() => p2tr(secp.schnorr.getPublicKey(secp.utils.randomSecretKey()), [Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)])).toThrow(/two/);
  });
});
