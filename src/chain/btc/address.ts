// Address ⇄ scriptPubKey for the standard output types: P2PKH and P2SH (base58check),
// segwit v0 (bech32, BIP173) and v1+ (bech32m, BIP350). Anything else has no address.
import { base58checkDecode, base58checkEncode } from '../../core/encoding/base58check.js';
import { bech32Decode, bech32Encode, fromWords, toWords } from '../../core/encoding/bech32.js';
import { OP, encodeScript, witnessScript } from './script.js';

/** Address parameters of one network (the fields btc-signer's network type also has). */
export interface AddressParams {
  readonly bech32: string;
  readonly pubKeyHash: number;
  readonly scriptHash: number;
  readonly wif: number;
}

export class AddressError extends Error {}

function segwitDecode(address: string, params: AddressParams): Uint8Array {
  let decoded;
  try {
    decoded = bech32Decode(address);
  } catch (e) {
    throw new AddressError((e as Error).message);
  }
  if (decoded.hrp !== params.bech32) throw new AddressError(`expected prefix ${params.bech32}1`);
  const [version, ...words] = decoded.words;
  if (version === undefined || version > 16) throw new AddressError(`witness version ${version}`);
  // BIP350: v0 is written in bech32, v1 and later in bech32m; never the other way.
  if (decoded.variant !== (version === 0 ? 'bech32' : 'bech32m')) throw new AddressError(`witness v${version} in the wrong checksum`);
  let program: Uint8Array;
  try {
    program = fromWords(words);
  } catch (e) {
    throw new AddressError((e as Error).message);
  }
  if (program.length < 2 || program.length > 40) throw new AddressError('bad witness program length');
  if (version === 0 && program.length !== 20 && program.length !== 32) throw new AddressError('v0 program must be 20 or 32 bytes');
  return witnessScript(version, program);
}

export function addressToScript(address: string, params: AddressParams): Uint8Array {
  if (typeof address !== 'string' || address.length > 90) throw new AddressError('expected an address string');
  if (address.toLowerCase().startsWith(`${params.bech32}1`)) return segwitDecode(address, params);
  let data: Uint8Array;
  try {
    data = base58checkDecode(address);
  } catch {
    throw new AddressError('neither a bech32 nor a base58check address of this network');
  }
  if (data.length !== 21) throw new AddressError('bad base58 payload length');
  const hash = data.subarray(1);
  if (data[0] === params.pubKeyHash) return encodeScript([{ op: OP.DUP }, { op: OP.HASH160 }, hash, { op: OP.EQUALVERIFY }, { op: OP.CHECKSIG }]);
  if (data[0] === params.scriptHash) return encodeScript([{ op: OP.HASH160 }, hash, { op: OP.EQUAL }]);
  throw new AddressError(`version byte ${data[0]} is not this network's`);
}

const same = (a: Uint8Array, b: readonly number[]): boolean => a.length === b.length && b.every((x, i) => a[i] === x);

export function scriptToAddress(script: Uint8Array, params: AddressParams): string {
  const n = script.length;
  // Segwit: OP_0 or OP_1..OP_16, then one direct push of 2..40 bytes filling the rest.
  if (n >= 4 && n <= 42 && (script[0] === 0 || (script[0]! >= 0x51 && script[0]! <= 0x60)) && script[1] === n - 2) {
    const version = script[0] === 0 ? 0 : script[0]! - 0x50;
    const program = script.subarray(2);
    if (version === 0 && program.length !== 20 && program.length !== 32) throw new AddressError('v0 program must be 20 or 32 bytes');
    return bech32Encode(params.bech32, [version, ...toWords(program)], version === 0 ? 'bech32' : 'bech32m');
  }
  if (n === 25 && same(script.subarray(0, 3), [0x76, 0xa9, 20]) && same(script.subarray(23), [0x88, 0xac])) {
    return base58checkEncode(Uint8Array.of(params.pubKeyHash, ...script.subarray(3, 23)));
  }
  if (n === 23 && same(script.subarray(0, 2), [0xa9, 20]) && script[22] === 0x87) {
    return base58checkEncode(Uint8Array.of(params.scriptHash, ...script.subarray(2, 22)));
  }
  throw new AddressError('not a standard output script');
}
