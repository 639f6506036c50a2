// Snapshots are JSON-safe: bytes as lowercase hex, bigints as decimal strings. A
// snapshot read back from flash is outside input, so reading one checks every field
// and refuses a bad one with ChannelError('bad_snapshot') naming the field.
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { ChannelError } from './errors.js';

export const hex = bytesToHex;

export class SnapshotReader {
  constructor(
    private readonly o: Record<string, unknown>,
    private readonly where: string,
  ) {}

  static of(v: unknown, where: string): SnapshotReader {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) throw bad(where, 'expected an object');
    return new SnapshotReader(v as Record<string, unknown>, where);
  }

  child(name: string): SnapshotReader {
    return SnapshotReader.of(this.o[name], `${this.where}.${name}`);
  }
  optionalChild(name: string): SnapshotReader | undefined {
    return this.o[name] === null || this.o[name] === undefined ? undefined : this.child(name);
  }
  uint(name: string): number {
    const v = this.o[name];
    if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw bad(`${this.where}.${name}`, 'expected an unsigned integer');
    return v;
  }
  /** An unsigned integer added in a later format revision: absent reads as `fallback`. */
  optionalUint(name: string, fallback: number): number {
    return this.o[name] === undefined ? fallback : this.uint(name);
  }
  bigint(name: string): bigint {
    const v = this.o[name];
    if (typeof v !== 'string' || !/^(0|[1-9][0-9]{0,30})$/.test(v)) throw bad(`${this.where}.${name}`, 'expected a decimal string');
    return BigInt(v);
  }
  bytes(name: string, length: number): Uint8Array {
    const v = this.o[name];
    if (typeof v !== 'string' || v.length !== length * 2 || !/^[0-9a-f]*$/.test(v)) {
      throw bad(`${this.where}.${name}`, `expected ${length} bytes as lowercase hex`);
    }
    return hexToBytes(v);
  }
  oneOf<T extends string>(name: string, values: readonly T[]): T {
    const v = this.o[name];
    if (typeof v !== 'string' || !(values as readonly string[]).includes(v)) throw bad(`${this.where}.${name}`, `expected one of ${values.join(', ')}`);
    return v as T;
  }
  literal<T extends string | number>(name: string, value: T): T {
    if (this.o[name] !== value) throw bad(`${this.where}.${name}`, `expected ${JSON.stringify(value)}`);
    return value;
  }
}

function bad(where: string, what: string): ChannelError {
  return new ChannelError('bad_snapshot', `${where}: ${what}`);
}
