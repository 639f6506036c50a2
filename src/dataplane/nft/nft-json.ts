// Strict decoder of `nft -j list …` output (libnftables JSON, schema version 1):
// `{"nftables": [ {"metainfo": {…}}, {"<kind>": {…}}, … ]}`. The kinds the backend reads
// (table, chain, rule, counter, quota, set, map) are checked field by field; other kinds
// are kept as `other`. Unknown fields are ignored so a newer nft can add some.

import { NftDecodeError } from './errors.js';

export type NftVerdict = { readonly verdict: 'goto' | 'jump'; readonly target: string } | { readonly verdict: 'accept' | 'drop' | 'continue' | 'return' };

export interface NftSetElement {
  readonly key: string;
  /** Present in verdict maps. */
  readonly verdict?: NftVerdict;
}

export type NftItem =
  | { readonly kind: 'metainfo'; readonly schema: number }
  | { readonly kind: 'table'; readonly family: string; readonly name: string }
  | { readonly kind: 'chain'; readonly family: string; readonly table: string; readonly name: string; readonly hook?: string; readonly prio?: number; readonly policy?: string }
  | { readonly kind: 'rule'; readonly family: string; readonly table: string; readonly chain: string }
  | { readonly kind: 'counter'; readonly family: string; readonly table: string; readonly name: string; readonly packets: number; readonly bytes: number }
  | { readonly kind: 'quota'; readonly family: string; readonly table: string; readonly name: string; readonly bytes: number; readonly used: number; readonly inv: boolean }
  | { readonly kind: 'set' | 'map'; readonly family: string; readonly table: string; readonly name: string; readonly elements: readonly NftSetElement[] }
  | { readonly kind: 'other'; readonly type: string };

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

function obj(v: unknown, path: string): Obj {
  if (!isObj(v)) throw new NftDecodeError(path, 'expected an object');
  return v;
}
function str(o: Obj, k: string, path: string): string {
  const v = o[k];
  if (typeof v !== 'string') throw new NftDecodeError(`${path}.${k}`, 'expected a string');
  return v;
}
function count(o: Obj, k: string, path: string): number {
  const v = o[k];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new NftDecodeError(`${path}.${k}`, 'expected a non-negative integer');
  return v;
}
function optStr(o: Obj, k: string, path: string): string | undefined {
  return o[k] === undefined ? undefined : str(o, k, path);
}

function verdictOf(v: unknown, path: string): NftVerdict {
  const o = obj(v, path);
  const keys = Object.keys(o);
  if (keys.length !== 1) throw new NftDecodeError(path, 'expected one verdict');
  const k = keys[0] as string;
  if (k === 'goto' || k === 'jump') return { verdict: k, target: str(obj(o[k], `${path}.${k}`), 'target', `${path}.${k}`) };
  if (k === 'accept' || k === 'drop' || k === 'continue' || k === 'return') {
    if (o[k] !== null) throw new NftDecodeError(`${path}.${k}`, 'expected null');
    return { verdict: k };
  }
  throw new NftDecodeError(path, `unknown verdict ${JSON.stringify(k)}`);
}

function elementOf(v: unknown, isMap: boolean, path: string): NftSetElement {
  if (isMap) {
    if (!Array.isArray(v) || v.length !== 2 || typeof v[0] !== 'string') throw new NftDecodeError(path, 'expected [key, verdict]');
    return { key: v[0], verdict: verdictOf(v[1], `${path}[1]`) };
  }
  if (typeof v === 'string') return { key: v };
  // Elements with statements (counters, timeouts): {"elem": {"val": "1.2.3.4", …}}.
  const e = obj(obj(v, path)['elem'], `${path}.elem`);
  return { key: str(e, 'val', `${path}.elem`) };
}

function itemOf(v: unknown, path: string): NftItem {
  const o = obj(v, path);
  const keys = Object.keys(o);
  if (keys.length !== 1) throw new NftDecodeError(path, `expected one kind, got ${keys.length}`);
  const kind = keys[0] as string;
  const p = `${path}.${kind}`;
  const b = obj(o[kind], p);
  switch (kind) {
    case 'metainfo':
      return { kind, schema: count(b, 'json_schema_version', p) };
    case 'table':
      return { kind, family: str(b, 'family', p), name: str(b, 'name', p) };
    case 'chain': {
      const prio = b['prio'];
      if (prio !== undefined && (typeof prio !== 'number' || !Number.isInteger(prio))) throw new NftDecodeError(`${p}.prio`, 'expected an integer');
      const base = { kind, family: str(b, 'family', p), table: str(b, 'table', p), name: str(b, 'name', p) } as const;
      const hook = optStr(b, 'hook', p);
      const policy = optStr(b, 'policy', p);
      return { ...base, ...(hook === undefined ? {} : { hook }), ...(prio === undefined ? {} : { prio }), ...(policy === undefined ? {} : { policy }) };
    }
    case 'rule':
      if (!Array.isArray(b['expr'])) throw new NftDecodeError(`${p}.expr`, 'expected an array');
      return { kind, family: str(b, 'family', p), table: str(b, 'table', p), chain: str(b, 'chain', p) };
    case 'counter':
      return { kind, family: str(b, 'family', p), table: str(b, 'table', p), name: str(b, 'name', p), packets: count(b, 'packets', p), bytes: count(b, 'bytes', p) };
    case 'quota': {
      const inv = b['inv'];
      if (inv !== undefined && typeof inv !== 'boolean') throw new NftDecodeError(`${p}.inv`, 'expected a boolean');
      return { kind, family: str(b, 'family', p), table: str(b, 'table', p), name: str(b, 'name', p), bytes: count(b, 'bytes', p), used: count(b, 'used', p), inv: inv === true };
    }
    case 'set':
    case 'map': {
      const elem = b['elem'];
      if (elem !== undefined && !Array.isArray(elem)) throw new NftDecodeError(`${p}.elem`, 'expected an array');
      const elements = (elem ?? []).map((e, i) => elementOf(e, kind === 'map', `${p}.elem[${i}]`));
      return { kind, family: str(b, 'family', p), table: str(b, 'table', p), name: str(b, 'name', p), elements };
    }
    default:
      return { kind: 'other', type: kind };
  }
}

/** Decodes one `nft -j` document (one line of `nft -j -i` output). */
export function decodeNftJson(text: string): NftItem[] {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new NftDecodeError('$', `not JSON (${(e as Error).message})`);
  }
  const top = obj(doc, '$');
  const list = top['nftables'];
  if (!Array.isArray(list)) throw new NftDecodeError('$.nftables', 'expected an array');
  const items = list.map((v, i) => itemOf(v, `$.nftables[${i}]`));
  const meta = items[0];
  if (meta?.kind !== 'metainfo') throw new NftDecodeError('$.nftables[0]', 'expected metainfo first');
  if (meta.schema !== 1) throw new NftDecodeError('$.nftables[0].metainfo', `unsupported schema version ${meta.schema}`);
  return items;
}
