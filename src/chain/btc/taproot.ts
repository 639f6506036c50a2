// BIP341 output keys and script trees: leaf and branch hashes, the TapTweak, the
// tweaked output key and secret key, and control blocks. Our trees have at most two
// leaves (a channel's A and B), so a tree is a leaf or a pair of leaves.
import { Point, etc } from '@noble/secp256k1';
import { nobleBackend } from '../../crypto/noble.js';
import { TaggedHasher } from '../../crypto/tagged-hash.js';
import { TxBuildError } from '../tx-errors.js';
import { ByteWriter } from './tx.js';
import { witnessScript } from './script.js';

export const TAPSCRIPT_LEAF_VERSION = 0xc0;
const N = Point.CURVE().n;
const tagged = new TaggedHasher(() => nobleBackend);

export function tapLeafHash(script: Uint8Array, version = TAPSCRIPT_LEAF_VERSION): Uint8Array {
  return tagged.hash('TapLeaf', new ByteWriter().u8(version).varBytes(script).finish());
}

/** Branch hashes sort their children, so a tree's root does not depend on their order. */
export function tapBranchHash(a: Uint8Array, b: Uint8Array): Uint8Array {
  return compare(a, b) <= 0 ? tagged.hash('TapBranch', a, b) : tagged.hash('TapBranch', b, a);
}

function compare(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return a.length - b.length;
}

/** The even-y point with this x (BIP340 lift_x); throws on an x off the curve. */
export function liftX(x: Uint8Array): Point {
  if (x.length !== 32) throw new TxBuildError('tx.bad-param', 'x-only key: expected 32 bytes');
  const c = new Uint8Array(33);
  c[0] = 0x02;
  c.set(x, 1);
  try {
    return Point.fromBytes(c);
  } catch {
    throw new TxBuildError('tx.bad-param', 'x-only key is not on the curve');
  }
}

/** t = TapTweak(P || root) as a scalar; no root means a key-path-only output (BIP86). */
export function tapTweak(internalX: Uint8Array, merkleRoot?: Uint8Array): bigint {
  const t = etc.bytesToNumberBE(tagged.hash('TapTweak', internalX, merkleRoot ?? new Uint8Array(0)));
  if (t >= N) throw new TxBuildError('tx.bad-param', 'taproot tweak out of range'); // probability ~2^-128
  return t;
}

export interface OutputKey {
  readonly x: Uint8Array;
  /** 1 when Q has odd y: the control block's low bit. */
  readonly parity: 0 | 1;
}

export function taprootOutputKey(internalX: Uint8Array, merkleRoot?: Uint8Array): OutputKey {
  const t = tapTweak(internalX, merkleRoot);
  const q = liftX(internalX).add(Point.BASE.multiply(t));
  if (q.is0()) throw new TxBuildError('tx.bad-param', 'taproot output key is infinity');
  const bytes = q.toBytes(true);
  return { x: bytes.slice(1), parity: bytes[0] === 0x03 ? 1 : 0 };
}

/** The secret key for the tweaked output key (key-path spends of a BIP86 output). */
export function tweakSecretKey(secretKey: Uint8Array, merkleRoot?: Uint8Array): Uint8Array {
  const d0 = etc.bytesToNumberBE(secretKey);
  if (d0 <= 0n || d0 >= N) throw new TxBuildError('tx.bad-param', 'secret key out of range');
  const p = Point.BASE.multiply(d0).toBytes(true);
  const d = p[0] === 0x02 ? d0 : N - d0; // the internal key is P's even-y twin
  const tweaked = (d + tapTweak(p.slice(1), merkleRoot)) % N;
  if (tweaked === 0n) throw new TxBuildError('tx.bad-param', 'tweaked secret key is zero');
  return etc.numberToBytesBE(tweaked);
}

export interface TapLeafSpend {
  readonly script: Uint8Array;
  readonly leafHash: Uint8Array;
  /** Leaf version | output key parity, internal key, then the sibling hashes. */
  readonly controlBlock: Uint8Array;
}

export interface TaprootOutput {
  readonly internalX: Uint8Array;
  readonly outputX: Uint8Array;
  readonly merkleRoot: Uint8Array | undefined;
  /** OP_1 <outputX>. */
  readonly script: Uint8Array;
  /** In the order the scripts were given. */
  readonly leaves: readonly TapLeafSpend[];
}

/** A P2TR output with no script tree, one leaf, or two leaves under one branch. */
export function p2tr(internalX: Uint8Array, scripts: readonly Uint8Array[] = []): TaprootOutput {
  if (scripts.length > 2) throw new TxBuildError('tx.bad-param', 'at most two tapscript leaves');
  const hashes = scripts.map((s) => tapLeafHash(s));
  const merkleRoot = hashes.length === 0 ? undefined : hashes.length === 1 ? hashes[0]! : tapBranchHash(hashes[0]!, hashes[1]!);
  const out = taprootOutputKey(internalX, merkleRoot);
  const leaves = scripts.map((script, i) => {
    const sibling = hashes.length === 2 ? hashes[1 - i]! : new Uint8Array(0);
    const controlBlock = new ByteWriter()
      .u8(TAPSCRIPT_LEAF_VERSION | out.parity)
      .bytes(internalX)
      .bytes(sibling)
      .finish();
    return { script, leafHash: hashes[i]!, controlBlock };
  });
  return { internalX, outputX: out.x, merkleRoot, script: witnessScript(1, out.x), leaves };
}
