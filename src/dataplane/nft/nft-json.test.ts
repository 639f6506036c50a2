import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NftDecodeError } from './errors.js';
import { decodeNftJson } from './nft-json.js';

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8').trim();

describe('nft -j decoder', () => {
  it('reads our table: counters, quota, maps with goto targets, the base chain', () => {
    const items = decodeNftJson(fixture('list-table.json'));
    expect(items).toContainEqual({ kind: 'counter', family: 'inet', table: 'bitmesh', name: 'c_aa01_down', packets: 5, bytes: 54000 });
    expect(items).toContainEqual({ kind: 'quota', family: 'inet', table: 'bitmesh', name: 'q_aa01', bytes: 300000, used: 55200, inv: true });
    const up6 = items.find((i) => i.kind === 'map' && i.name === 'up6');
    expect(up6).toMatchObject({ elements: [{ key: 'fd77:1::2', verdict: { verdict: 'goto', target: 'cu_aa01' } }] });
    expect(items).toContainEqual({ kind: 'chain', family: 'inet', table: 'bitmesh', name: 'bm_fwd', hook: 'forward', prio: -1, policy: 'accept' });
    expect(items.filter((i) => i.kind === 'rule' && i.chain === 'bm_fwd')).toHaveLength(4);
  });

  it('reads a counters listing and a chain listing', () => {
    const counters = decodeNftJson(fixture('list-counters.json')).filter((i) => i.kind === 'counter');
    expect(counters.map((c) => c.kind === 'counter' && c.name)).toEqual(['c_aa01_up', 'c_aa01_down', 'c_aa01_drop', 'c_bb02_up', 'c_bb02_down', 'c_bb02_drop']);
    expect(decodeNftJson(fixture('list-chain-bm_fwd.json')).filter((i) => i.kind === 'rule')).toHaveLength(4);
  });

  it('reads set elements with statements and keeps unknown kinds as other', () => {
    const doc = {
      nftables: [
        { metainfo: { json_schema_version: 1 } },
        { set: { family: 'ip', name: 's', table: 'x', elem: ['1.1.1.1', { elem: { val: '1.2.3.4', counter: { packets: 9, bytes: 756 } } }] } },
        { flowtable: { name: 'f' } },
      ],
    };
    const items = decodeNftJson(JSON.stringify(doc));
    expect(items[1]).toEqual({ kind: 'set', family: 'ip', table: 'x', name: 's', elements: [{ key: '1.1.1.1' }, { key: '1.2.3.4' }] });
    expect(items[2]).toEqual({ kind: 'other', type: 'flowtable' });
  });

  const meta = { metainfo: { json_schema_version: 1 } };
  const counter = { family: 'inet', table: 'bitmesh', name: 'c', packets: 1, bytes: 2 };
  it.each([
    ['not json', '{'],
    ['no nftables', '{}'],
    ['nftables not an array', '{"nftables": {}}'],
    ['no metainfo', JSON.stringify({ nftables: [{ counter }] })],
    ['schema 2', JSON.stringify({ nftables: [{ metainfo: { json_schema_version: 2 } }] })],
    ['two kinds in one item', JSON.stringify({ nftables: [meta, { counter, quota: {} }] })],
    ['negative bytes', JSON.stringify({ nftables: [meta, { counter: { ...counter, bytes: -1 } }] })],
    ['fractional packets', JSON.stringify({ nftables: [meta, { counter: { ...counter, packets: 1.5 } }] })],
    ['bytes beyond 2^53', JSON.stringify({ nftables: [meta, { counter: { ...counter, bytes: 2 ** 60 } }] })],
    ['string bytes', JSON.stringify({ nftables: [meta, { counter: { ...counter, bytes: '2' } }] })],
    ['map element without verdict', JSON.stringify({ nftables: [meta, { map: { family: 'inet', table: 't', name: 'm', elem: [['1.1.1.1']] } }] })],
    ['unknown verdict', JSON.stringify({ nftables: [meta, { map: { family: 'inet', table: 't', name: 'm', elem: [['1.1.1.1', { teleport: null }]] } }] })],
    ['rule without expr', JSON.stringify({ nftables: [meta, { rule: { family: 'inet', table: 't', chain: 'c' } }] })],
  ])('rejects %s', (_name, text) => {
    expect(() => decodeNftJson(text)).toThrow(NftDecodeError);
  });

  it('any input decodes or throws NftDecodeError, never anything else', () => {
    const item = fc.oneof(
      fc.record({ counter: fc.record({ family: fc.string(), table: fc.string(), name: fc.string(), packets: fc.oneof(fc.nat(), fc.integer(), fc.double()), bytes: fc.nat() }, { requiredKeys: [] }) }),
      fc.record({ quota: fc.record({ family: fc.string(), table: fc.string(), name: fc.string(), bytes: fc.nat(), used: fc.nat(), inv: fc.oneof(fc.boolean(), fc.string()) }, { requiredKeys: [] }) }),
      fc.record({ map: fc.record({ family: fc.string(), table: fc.string(), name: fc.string(), elem: fc.array(fc.jsonValue()) }, { requiredKeys: [] }) }),
      fc.dictionary(fc.string(), fc.jsonValue(), { maxKeys: 2 }),
    );
    fc.assert(
      fc.property(fc.oneof(fc.array(item).map((xs) => JSON.stringify({ nftables: [meta, ...xs] })), fc.jsonValue().map((v) => JSON.stringify(v)), fc.string()), (text) => {
        try {
          decodeNftJson(text);
        } catch (e) {
          expect(e).toBeInstanceOf(NftDecodeError);
        }
      }),
    );
  });
});
