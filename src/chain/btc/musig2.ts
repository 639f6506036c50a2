// BIP327 MuSig2 on @noble/secp256k1 points, with the part of @scure/btc-signer/musig2.js's API that
// src/chain/musig.ts uses, so the router bundle needs no @noble/curves. Names follow the BIP text.
// KeySort is deliberately absent: callers fix the signer order themselves.
import { Point, etc } from '@noble/secp256k1';
import { nobleBackend } from '../../crypto/noble.js';
import { TaggedHasher } from '../../crypto/tagged-hash.js';
import { bytesEqual } from '../../core/channel/hash-chain.js';

const N = Point.CURVE().n;
const ZERO33 = new Uint8Array(33); // cbytes_ext(infinity), also GetSecondKey's "no second key"

/** BIP327 InvalidContributionError: names the signer at fault (null: the aggregator). */
export class InvalidContributionError extends Error {
  constructor(readonly signer: number | null, readonly contrib: 'pubkey' | 'pubnonce' | 'aggnonce' | 'psig') {
    super(`invalid ${contrib}${signer === null ? '' : ` from signer ${signer}`}`);
    this.name = 'InvalidContributionError';
  }
}

/** Key generation context after KeyAgg and any ApplyTweak steps. */
export type KeyAggContext = Readonly<{ Q: Point; gacc: bigint; tacc: bigint }>;

const tagged = new TaggedHasher(() => nobleBackend);
const taggedHash = (tag: string, ...parts: Uint8Array[]): Uint8Array => tagged.hash(tag, ...parts);
const modN = (a: bigint): bigint => etc.mod(a, N);
const int = etc.bytesToNumberBE;
const bytes32 = etc.numberToBytesBE;
const hashInt = (tag: string, ...parts: Uint8Array[]): bigint => modN(int(taggedHash(tag, ...parts)));
const xbytes = (P: Point): Uint8Array => bytes32(P.x);
const hasEvenY = (P: Point): boolean => (P.y & 1n) === 0n;
const lenBytes = (n: number, size: number): Uint8Array => bytes32(BigInt(n)).subarray(32 - size);

function checkBytes(name: string, b: unknown, ...lens: number[]): asserts b is Uint8Array {
  if (!(b instanceof Uint8Array)) throw new Error(`${name}: expected Uint8Array`);
  if (lens.length && !lens.includes(b.length)) throw new Error(`${name}: expected ${lens.join(' or ')} bytes, got ${b.length}`);
}

/** Runs fn, turning any failure into BIP327's blame for `signer`'s `contrib`. */
function blame<T>(signer: number | null, contrib: InvalidContributionError['contrib'], fn: () => T): T {
  try {
    return fn();
  } catch {
    throw new InvalidContributionError(signer, contrib);
  }
}

/** k*P with BIP327's point_mul semantics: 0*P and k*infinity are infinity (noble rejects k = 0). */
function mul(P: Point, k: bigint, secret = false): Point {
  k = modN(k);
  return k === 0n || P.is0() ? Point.ZERO : secret ? P.multiply(k) : P.multiplyUnsafe(k);
}

/** cpoint: exactly 33 bytes, prefix 02/03, x < p and on the curve (noble alone also takes 65-byte keys). */
function cpoint(b: Uint8Array): Point {
  if (b.length !== 33 || (b[0] !== 2 && b[0] !== 3)) throw new Error('invalid point encoding');
  return Point.fromBytes(b);
}
const cpointExt = (b: Uint8Array): Point => (bytesEqual(b, ZERO33) ? Point.ZERO : cpoint(b));
const cbytesExt = (P: Point): Uint8Array => (P.is0() ? ZERO33.slice() : P.toBytes(true));

function secretScalar(sk: Uint8Array): bigint {
  checkBytes('secretKey', sk, 32);
  const d = int(sk);
  if (d === 0n || d >= N) throw new Error('secret key out of range');
  return d;
}

export function IndividualPubkey(sk: Uint8Array): Uint8Array {
  return Point.BASE.multiply(secretScalar(sk)).toBytes(true);
}

const getSecondKey = (pks: readonly Uint8Array[]): Uint8Array => pks.find((pk) => !bytesEqual(pk, pks[0]!)) ?? ZERO33;
/** KeyAggCoeffInternal with L = HashKeys(pk1..u) precomputed; pk2 gets 1 (the second-key optimisation). */
const keyAggCoeff = (L: Uint8Array, pk: Uint8Array, pk2: Uint8Array): bigint =>
  bytesEqual(pk, pk2) ? 1n : hashInt('KeyAgg coefficient', L, pk);

/** KeyAgg (in the given order, no KeySort), then ApplyTweak for each tweak in turn. */
export function keyAggregate(publicKeys: Uint8Array[], tweaks: Uint8Array[] = [], isXonly: boolean[] = []): KeyAggContext {
  if (!Array.isArray(publicKeys) || publicKeys.length === 0) throw new Error('expected at least one public key');
  publicKeys.forEach((pk, i) => checkBytes(`publicKeys[${i}]`, pk, 33));
  if (!Array.isArray(tweaks) || !Array.isArray(isXonly) || tweaks.length !== isXonly.length) {
    throw new Error('tweaks and isXonly must be arrays of the same length');
  }
  tweaks.forEach((t, i) => checkBytes(`tweaks[${i}]`, t, 32));
  if (!isXonly.every((x) => typeof x === 'boolean')) throw new Error('isXonly: expected booleans');
  const L = taggedHash('KeyAgg list', ...publicKeys);
  const pk2 = getSecondKey(publicKeys);
  let Q = Point.ZERO;
  for (const [i, pk] of publicKeys.entries()) Q = Q.add(mul(blame(i, 'pubkey', () => cpoint(pk)), keyAggCoeff(L, pk, pk2)));
  if (Q.is0()) throw new Error('The aggregate public key cannot be infinity.'); // unreachable short of a hash break
  let [gacc, tacc] = [1n, 0n];
  tweaks.forEach((tweak, i) => {
    // An x-only tweak applies to the even-y lift of Q, so Q is negated (g = -1) when its y is odd.
    const negate = isXonly[i]! && !hasEvenY(Q);
    const t = int(tweak);
    if (t >= N) throw new Error('The tweak must be less than n.');
    Q = (negate ? Q.negate() : Q).add(mul(Point.BASE, t));
    if (Q.is0()) throw new Error('The result of tweaking cannot be infinity.');
    gacc = negate ? modN(-gacc) : gacc;
    tacc = modN(t + (negate ? -tacc : tacc));
  });
  return Object.freeze({ Q, gacc, tacc });
}

/** GetXonlyPubkey: xbytes(Q). */
export function keyAggExport(ctx: KeyAggContext): Uint8Array {
  if (!(ctx?.Q instanceof Point) || ctx.Q.is0()) throw new Error('invalid key aggregation context');
  return xbytes(ctx.Q);
}

/** NonceGen. `rand` (rand') defaults to 32 CSPRNG bytes; secnonce = k1 || k2 || pk, pubnonce = cbytes(k1*G) || cbytes(k2*G). */
export function nonceGen(
  publicKey: Uint8Array, secretKey?: Uint8Array, aggPublicKey: Uint8Array = new Uint8Array(0), msg?: Uint8Array,
  extraIn: Uint8Array = new Uint8Array(0), rand: Uint8Array = etc.randomBytes(32),
): { secret: Uint8Array; public: Uint8Array } {
  checkBytes('publicKey', publicKey, 33);
  checkBytes('aggPublicKey', aggPublicKey, 0, 32);
  checkBytes('extraIn', extraIn);
  if (extraIn.length >= 2 ** 32) throw new Error('extraIn too long');
  checkBytes('rand', rand, 32);
  if (secretKey !== undefined) {
    // Defence in depth against a weak RNG: the nonce then also depends on sk.
    checkBytes('secretKey', secretKey, 32);
    const mask = taggedHash('MuSig/aux', rand);
    rand = secretKey.map((b, i) => b ^ mask[i]!);
  }
  // An absent message (0x00) and an empty one (0x01 || len 0) must give different nonces.
  let msgPrefixed = Uint8Array.of(0);
  if (msg !== undefined) {
    checkBytes('msg', msg);
    msgPrefixed = etc.concatBytes(Uint8Array.of(1), lenBytes(msg.length, 8), msg);
  }
  const pkPart = etc.concatBytes(Uint8Array.of(publicKey.length), publicKey, Uint8Array.of(aggPublicKey.length), aggPublicKey);
  const tail = etc.concatBytes(msgPrefixed, lenBytes(extraIn.length, 4), extraIn);
  const k = [0, 1].map((i) => hashInt('MuSig/nonce', rand, pkPart, tail, Uint8Array.of(i)));
  if (k[0] === 0n || k[1] === 0n) throw new Error('nonce generation produced a zero nonce');
  const R = k.map((ki) => Point.BASE.multiply(ki).toBytes(true));
  return { secret: etc.concatBytes(bytes32(k[0]!), bytes32(k[1]!), publicKey), public: etc.concatBytes(R[0]!, R[1]!) };
}

/** NonceAgg: component-wise sums of the signers' nonce points; an infinite sum is 33 zero bytes. */
export function nonceAggregate(pubNonces: Uint8Array[]): Uint8Array {
  if (!Array.isArray(pubNonces) || pubNonces.length === 0) throw new Error('expected at least one public nonce');
  let [R1, R2] = [Point.ZERO, Point.ZERO];
  for (const [i, pn] of pubNonces.entries()) {
    [R1, R2] = blame<[Point, Point]>(i, 'pubnonce', () => {
      checkBytes(`pubNonces[${i}]`, pn, 66);
      return [R1.add(cpoint(pn.subarray(0, 33))), R2.add(cpoint(pn.subarray(33, 66)))];
    });
  }
  return etc.concatBytes(cbytesExt(R1), cbytesExt(R2));
}

/** A signing session: BIP327's session context with GetSessionValues computed once. */
export class Session {
  readonly #aggNonce: Uint8Array;
  readonly #publicKeys: readonly Uint8Array[];
  readonly #coeffs: readonly bigint[]; // KeyAggCoeff of each signer, in publicKeys order
  readonly #ctx: KeyAggContext;
  readonly #g: bigint; // g = -1 when Q has odd y: the final signature verifies against Q's even-y lift
  readonly #b: bigint;
  readonly #R: Point;
  readonly #e: bigint;

  constructor(aggNonce: Uint8Array, publicKeys: Uint8Array[], msg: Uint8Array, tweaks: Uint8Array[] = [], isXonly: boolean[] = []) {
    checkBytes('aggNonce', aggNonce, 66);
    checkBytes('msg', msg);
    this.#ctx = keyAggregate(publicKeys, tweaks, isXonly);
    // Own copies (Uint8Array.from, as Buffer.slice shares memory): later caller edits cannot change the session.
    this.#aggNonce = Uint8Array.from(aggNonce);
    this.#publicKeys = publicKeys.map((pk) => Uint8Array.from(pk));
    const [L, pk2] = [taggedHash('KeyAgg list', ...this.#publicKeys), getSecondKey(this.#publicKeys)];
    this.#coeffs = this.#publicKeys.map((pk) => keyAggCoeff(L, pk, pk2));
    const Q = this.#ctx.Q;
    this.#g = hasEvenY(Q) ? 1n : N - 1n;
    this.#b = hashInt('MuSig/noncecoef', this.#aggNonce, xbytes(Q), msg);
    const [R1, R2] = blame(null, 'aggnonce', () => [0, 33].map((o) => cpointExt(this.#aggNonce.subarray(o, o + 33))));
    const R = R1!.add(mul(R2!, this.#b));
    this.#R = R.is0() ? Point.BASE : R; // R' is infinite only if the nonces cancel; BIP327 then uses G
    this.#e = hashInt('BIP0340/challenge', xbytes(this.#R), xbytes(Q), msg);
  }

  /** GetSessionKeyAggCoeff: fails when the key is not one of the session's signers. */
  #coeff(pk: Uint8Array): bigint {
    const i = this.#publicKeys.findIndex((p) => bytesEqual(p, pk));
    if (i < 0) throw new Error("The signer's pubkey must be included in the list of pubkeys.");
    return this.#coeffs[i]!;
  }

  /** Sign. Zeroes secretNonce[0:64] before anything else can fail, so a secret nonce never signs twice. */
  sign(secretNonce: Uint8Array, secretKey: Uint8Array): Uint8Array {
    checkBytes('secretNonce', secretNonce, 97);
    const [k1_, k2_] = [int(secretNonce.subarray(0, 32)), int(secretNonce.subarray(32, 64))];
    secretNonce.fill(0, 0, 64);
    if (k1_ === 0n || k1_ >= N) throw new Error('first secnonce value is out of range.');
    if (k2_ === 0n || k2_ >= N) throw new Error('second secnonce value is out of range.');
    const [k1, k2] = hasEvenY(this.#R) ? [k1_, k2_] : [N - k1_, N - k2_];
    const d_ = secretScalar(secretKey);
    const pk = Point.BASE.multiply(d_).toBytes(true);
    if (!bytesEqual(pk, secretNonce.subarray(64, 97))) throw new Error('secret key does not match the secret nonce');
    const a = this.#coeff(pk);
    const d = modN(this.#g * this.#ctx.gacc * d_);
    const psig = bytes32(modN(k1 + this.#b * k2 + this.#e * a * d));
    // BIP327's optional self-check: a fault (or bug) must not release a wrong psig.
    const pubNonce = etc.concatBytes(mul(Point.BASE, k1_, true).toBytes(true), mul(Point.BASE, k2_, true).toBytes(true));
    if (!this.#verifyInternal(psig, pubNonce, pk)) throw new Error('partial signature does not verify');
    return psig;
  }

  /** PartialSigVerifyInternal: s*G == Re* + e*a*g*gacc*P. */
  #verifyInternal(psig: Uint8Array, pubNonce: Uint8Array, pk: Uint8Array): boolean {
    const s = int(psig);
    if (s >= N) return false;
    const Re_ = cpoint(pubNonce.subarray(0, 33)).add(mul(cpoint(pubNonce.subarray(33, 66)), this.#b));
    const Re = hasEvenY(this.#R) ? Re_ : Re_.negate();
    const rhs = Re.add(mul(cpoint(pk), this.#e * this.#coeff(pk) * this.#g * this.#ctx.gacc));
    return mul(Point.BASE, s).equals(rhs);
  }

  /** PartialSigVerify for signer `index`; false if pubNonces do not aggregate to this session's aggNonce. */
  partialSigVerify(partialSig: Uint8Array, pubNonces: Uint8Array[], index: number): boolean {
    checkBytes('partialSig', partialSig, 32);
    const u = this.#publicKeys.length;
    if (!Array.isArray(pubNonces) || pubNonces.length !== u) throw new Error('expected one public nonce per signer');
    if (!Number.isSafeInteger(index) || index < 0 || index >= u) throw new Error('signer index out of range');
    if (!bytesEqual(nonceAggregate(pubNonces), this.#aggNonce)) return false;
    return this.#verifyInternal(partialSig, pubNonces[index]!, this.#publicKeys[index]!);
  }

  /** PartialSigAgg: xbytes(R) || bytes(32, s_1 + ... + s_u + e*g*tacc). */
  partialSigAgg(partialSigs: Uint8Array[]): Uint8Array {
    if (!Array.isArray(partialSigs) || partialSigs.length !== this.#publicKeys.length) throw new Error('expected one partial signature per signer');
    let s = modN(this.#e * this.#g * this.#ctx.tacc);
    for (const [i, psig] of partialSigs.entries()) {
      checkBytes(`partialSigs[${i}]`, psig, 32);
      if (int(psig) >= N) throw new InvalidContributionError(i, 'psig');
      s = modN(s + int(psig));
    }
    return etc.concatBytes(xbytes(this.#R), bytes32(s));
  }
}
