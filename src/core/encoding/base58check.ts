// Base58Check (legacy P2PKH / P2SH addresses): base58 of payload || first 4 bytes of
// SHA-256d(payload). Inputs are address-sized; longer text is refused before the
// quadratic conversion runs.
import { sha256 } from '@noble/hashes/sha2.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const MAX_CHARS = 128;

export class Base58Error extends Error {}

function checksum(payload: Uint8Array): Uint8Array {
  return sha256(sha256(payload)).subarray(0, 4);
}

export function base58checkEncode(payload: Uint8Array): string {
  const data = Uint8Array.from([...payload, ...checksum(payload)]);
  let n = 0n;
  for (const b of data) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)]! + out;
    n /= 58n;
  }
  for (let i = 0; i < data.length && data[i] === 0; i++) out = `1${out}`; // one '1' per leading zero byte
  return out;
}

export function base58checkDecode(text: string): Uint8Array {
  if (typeof text !== 'string' || text.length === 0 || text.length > MAX_CHARS) throw new Base58Error(`expected 1..${MAX_CHARS} characters`);
  let n = 0n;
  for (const c of text) {
    const d = ALPHABET.indexOf(c);
    if (d < 0) throw new Base58Error(`'${c}' is not a base58 character`);
    n = n * 58n + BigInt(d);
  }
  const bytes: number[] = [];
  while (n > 0n) {
    bytes.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  for (let i = 0; i < text.length && text[i] === '1'; i++) bytes.unshift(0);
  if (bytes.length < 4) throw new Base58Error('shorter than its checksum');
  const data = Uint8Array.from(bytes);
  const payload = data.subarray(0, -4);
  if (!checksum(payload).every((b, i) => b === data[data.length - 4 + i])) throw new Base58Error('bad checksum');
  return payload.slice();
}
