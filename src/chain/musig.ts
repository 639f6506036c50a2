// MuSig2 (BIP327) for the channel's key path, as a pure API: every nonce comes from
// randomness the caller passes in, and nothing is kept between calls. The two
// participants are (payer, payee) in that fixed order — no KeySort — and their
// x-only keys enter KeyAgg as even-y compressed keys (0x02 || x), so a signer whose
// secret key maps to an odd-y point signs with its negation.
//
// Partial signing is scalar arithmetic done by btc/musig2.ts (BIP327); it cannot go
// through the Crypto facade (which offers only whole BIP340 signatures).
import { etc } from '@noble/secp256k1';
import * as musig2 from './btc/musig2.js';
import { tapTweak } from './btc/taproot.js';
import { TxBuildError, TxRejectedError } from './tx-errors.js';
import { checkBytes } from './tx-taproot.js';

export type ChannelRole = 'payer' | 'payee';
export const ROLE_INDEX: Readonly<Record<ChannelRole, 0 | 1>> = { payer: 0, payee: 1 };

const CURVE_ORDER = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;
const { bytesToNumberBE, numberToBytesBE } = etc;

/** Key aggregation context for one funding output. */
export interface MusigKeyContext {
  /** 33-byte plain keys in signer order (payer, payee). */
  readonly publicKeys: readonly Uint8Array[];
  /** BIP327 tweaks applied after KeyAgg (here: the one BIP341 TapTweak, x-only). */
  readonly tweaks: readonly Uint8Array[];
  readonly isXonly: readonly boolean[];
  /** x-only KeyAgg result before tweaking: the Taproot internal key. */
  readonly internalKeyX: Uint8Array;
  /** x-only key after the tweaks: the Taproot output key the signature verifies against. */
  readonly outputKeyX: Uint8Array;
}

export interface MusigNonce {
  /** 97 bytes; use for exactly one partial signature, then forget it. */
  readonly secretNonce: Uint8Array;
  /** 66 bytes; send to the other signer. */
  readonly publicNonce: Uint8Array;
}

/** Even-y compressed form of an x-only key. */
export function plainFromXonly(x: Uint8Array): Uint8Array {
  checkBytes('x-only key', x, 32);
  const out = new Uint8Array(33);
  out[0] = 0x02;
  out.set(x, 1);
  return out;
}

/** BIP327 KeyAgg (+ optional tweaks), x-only result. Exposed for the BIP327 vectors. */
export function keyAggXonly(publicKeys: readonly Uint8Array[], tweaks: readonly Uint8Array[] = [], isXonly: readonly boolean[] = []): Uint8Array {
  return musig2.keyAggExport(musig2.keyAggregate([...publicKeys], [...tweaks], [...isXonly]));
}

/**
 * The channel's key context: KeyAgg(payer, payee), then the BIP341 TapTweak with the
 * script tree's merkle root as an x-only tweak (BIP327 ApplyTweak).
 */
export function channelKeyContext(payerX: Uint8Array, payeeX: Uint8Array, merkleRoot: Uint8Array): MusigKeyContext {
  checkBytes('merkleRoot', merkleRoot, 32);
  const publicKeys = [plainFromXonly(payerX), plainFromXonly(payeeX)];
  const internalKeyX = keyAggXonly(publicKeys);
  const t = tapTweak(internalKeyX, merkleRoot);
  const tweak = numberToBytesBE(t);
  const outputKeyX = keyAggXonly(publicKeys, [tweak], [true]);
  return { publicKeys, tweaks: [tweak], isXonly: [true], internalKeyX, outputKeyX };
}

/** The signer's secret key as KeyAgg sees it: negated when its point has odd y. */
export function evenSecretKey(secretKey: Uint8Array): Uint8Array {
  checkBytes('secretKey', secretKey, 32);
  const pk = musig2.IndividualPubkey(secretKey);
  if (pk[0] === 0x02) return secretKey;
  return numberToBytesBE(CURVE_ORDER - bytesToNumberBE(secretKey));
}

/**
 * BIP327 NonceGen for one signing session. `rand` must be 32 fresh random bytes; the
 * message and output key are mixed in as the BIP recommends (defence in depth).
 */
export function musigNonceGen(ctx: MusigKeyContext, secretKey: Uint8Array, msg: Uint8Array, rand: Uint8Array): MusigNonce {
  checkBytes('rand', rand, 32);
  const sk = evenSecretKey(secretKey);
  const pk = musig2.IndividualPubkey(sk);
  const n = musig2.nonceGen(pk, sk, ctx.outputKeyX, msg, new Uint8Array(0), rand);
  return { secretNonce: n.secret, publicNonce: n.public };
}

function session(ctx: MusigKeyContext, pubNonces: readonly Uint8Array[], msg: Uint8Array): musig2.Session {
  if (pubNonces.length !== ctx.publicKeys.length) {
    throw new TxRejectedError('tx.bad-nonce', `expected ${ctx.publicKeys.length} public nonces, got ${pubNonces.length}`);
  }
  let aggNonce: Uint8Array;
  try {
    pubNonces.forEach((n, i) => checkBytes(`pubNonces[${i}]`, n, 66));
    aggNonce = musig2.nonceAggregate([...pubNonces]);
  } catch (e) {
    throw new TxRejectedError('tx.bad-nonce', `invalid public nonce: ${(e as Error).message}`);
  }
  return new musig2.Session(aggNonce, [...ctx.publicKeys], msg, [...ctx.tweaks], [...ctx.isXonly]);
}

/**
 * Partial signature by the signer holding `secretKey`. Zeroes `secretNonce` so a
 * second use fails (nonce reuse would leak the key).
 */
export function musigPartialSign(
  ctx: MusigKeyContext,
  secretNonce: Uint8Array,
  secretKey: Uint8Array,
  pubNonces: readonly Uint8Array[],
  msg: Uint8Array,
): Uint8Array {
  checkBytes('secretNonce', secretNonce, 97);
  if (secretNonce.subarray(0, 64).every((b) => b === 0)) {
    throw new TxBuildError('tx.bad-param', 'secret nonce already used');
  }
  return session(ctx, pubNonces, msg).sign(secretNonce, evenSecretKey(secretKey));
}

/** Check the other signer's partial signature before aggregating (blames the right party). */
export function musigPartialVerify(
  ctx: MusigKeyContext,
  partialSig: Uint8Array,
  pubNonces: readonly Uint8Array[],
  role: ChannelRole,
  msg: Uint8Array,
): boolean {
  if (!(partialSig instanceof Uint8Array) || partialSig.length !== 32) return false;
  try {
    return session(ctx, pubNonces, msg).partialSigVerify(partialSig, [...pubNonces], ROLE_INDEX[role]);
  } catch {
    return false;
  }
}

/** Aggregate both partial signatures into the final 64-byte BIP340 signature. */
export function musigAggregate(
  ctx: MusigKeyContext,
  pubNonces: readonly Uint8Array[],
  partialSigs: readonly Uint8Array[],
  msg: Uint8Array,
): Uint8Array {
  try {
    partialSigs.forEach((s, i) => checkBytes(`partialSigs[${i}]`, s, 32));
    return session(ctx, pubNonces, msg).partialSigAgg([...partialSigs]);
  } catch (e) {
    if (e instanceof TxRejectedError) throw e;
    throw new TxRejectedError('tx.bad-partial-signature', `cannot aggregate: ${(e as Error).message}`);
  }
}
