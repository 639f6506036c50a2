import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeAddressUtxos,
  decodeFeeEstimates,
  decodeHashText,
  decodeHeightText,
  decodeOutSpend,
  decodeTxHexText,
  decodeTxStatus,
  feeRateForTarget,
  parseBroadcastRejection,
} from './esplora-decode.js';
import { EsploraError } from './esplora-error.js';

const fixture = (name: string): string =>
  readFileSync(new URL(`./esplora-fixtures/${name}`, import.meta.url), 'utf8');

function expectBad(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(EsploraError);
    expect((e as EsploraError).code).toBe('bad_response');
    return;
  }
  throw new Error('expected a bad_response EsploraError');
}

describe('Esplora decoders on documented response formats', () => {
  it('tip height (text body)', () => {
    expect(decodeHeightText(fixture('blocks-tip-height.txt'))).toBe(812345);
    expect(decodeHeightText('0\n')).toBe(0);
  });

  it('tx status, confirmed and unconfirmed', () => {
    expect(decodeTxStatus(fixture('tx-status-confirmed.json'))).toEqual({
      confirmed: true,
      blockHeight: 812345,
      blockHash: '00000000000000000002a7c4c1e48d76c5a37902165a270156b7a8d72728a054',
      blockTime: 1697040000,
    });
    expect(decodeTxStatus(fixture('tx-status-unconfirmed.json'))).toEqual({ confirmed: false });
  });

  it('address utxos, confirmed and mempool', () => {
    const utxos = decodeAddressUtxos(fixture('address-utxo.json'));
    expect(utxos).toHaveLength(2);
    expect(utxos[0]).toMatchObject({ vout: 1, valueSat: 125000n, status: { confirmed: true, blockHeight: 812340 } });
    expect(utxos[1]).toEqual({
      txid: 'c0ffee00'.repeat(8),
      vout: 0,
      valueSat: 2100n,
      status: { confirmed: false },
    });
  });

  it('fee estimates: the full 28-target response of rust-esplora-client and a sparse one', () => {
    const full = decodeFeeEstimates(fixture('fee-estimates-rust-esplora-client.json'));
    expect(full.size).toBe(28);
    expect(full.get(1)).toBe(1.952);
    expect(full.get(1008)).toBe(0.693);
    expect(feeRateForTarget(full, 6)).toBe(1.013);

    const sparse = decodeFeeEstimates(fixture('fee-estimates-sparse.json'));
    expect([...sparse.keys()]).toEqual([2, 3, 4, 6, 10, 20, 144, 504, 1008]);
    // No 5-block target: the 4-block estimate is used (faster is good enough).
    expect(feeRateForTarget(sparse, 5)).toBe(9.8);
    expect(feeRateForTarget(sparse, 1)).toBeUndefined();
    expect(feeRateForTarget(sparse, 100_000)).toBe(1);
  });

  it('outspend, both shapes', () => {
    expect(decodeOutSpend('{"spent":false}')).toEqual({ spent: false });
    const txid = 'ab'.repeat(32);
    expect(
      decodeOutSpend(JSON.stringify({ spent: true, txid, vin: 3, status: { confirmed: false } })),
    ).toEqual({ spent: true, txid, vin: 3, status: { confirmed: false } });
  });

  it('broadcast rejections in every known body format', () => {
    const file = JSON.parse(fixture('post-tx-errors.json')) as {
      entries: { body: string; expect: { rpcCode?: number; reason: string } }[];
    };
    for (const e of file.entries) expect(parseBroadcastRejection(e.body)).toEqual(e.expect);
  });
});

describe('Esplora decoders reject hostile bodies', () => {
  const cases: [string, () => unknown][] = [
    ['negative height', () => decodeHeightText('-1')],
    ['height with junk', () => decodeHeightText('12a')],
    ['height as JSON', () => decodeHeightText('"12"')],
    ['leading zero height', () => decodeHeightText('012')],
    ['huge height', () => decodeHeightText('99999999999')],
    ['empty height', () => decodeHeightText('')],
    ['uppercase hash', () => decodeHashText('AB'.repeat(32))],
    ['short hash', () => decodeHashText('ab'.repeat(31))],
    ['odd hex tx', () => decodeTxHexText('0'.repeat(121))],
    ['tiny tx hex', () => decodeTxHexText('0200')],
    ['status not JSON', () => decodeTxStatus('{confirmed:true')],
    ['status is array', () => decodeTxStatus('[]')],
    ['status confirmed as string', () => decodeTxStatus('{"confirmed":"true"}')],
    ['confirmed without height', () => decodeTxStatus('{"confirmed":true,"block_hash":"' + 'a'.repeat(64) + '","block_time":1}')],
    ['negative block height', () => decodeTxStatus(`{"confirmed":true,"block_height":-5,"block_hash":"${'a'.repeat(64)}","block_time":1}`)],
    ['fractional block height', () => decodeTxStatus(`{"confirmed":true,"block_height":1.5,"block_hash":"${'a'.repeat(64)}","block_time":1}`)],
    ['utxo not array', () => decodeAddressUtxos('{}')],
    ['utxo value string', () => decodeAddressUtxos(`[{"txid":"${'a'.repeat(64)}","vout":0,"value":"1","status":{"confirmed":false}}]`)],
    ['utxo value negative', () => decodeAddressUtxos(`[{"txid":"${'a'.repeat(64)}","vout":0,"value":-1,"status":{"confirmed":false}}]`)],
    ['utxo value above 21e6 BTC', () => decodeAddressUtxos(`[{"txid":"${'a'.repeat(64)}","vout":0,"value":2100000000000001,"status":{"confirmed":false}}]`)],
    ['utxo without status', () => decodeAddressUtxos(`[{"txid":"${'a'.repeat(64)}","vout":0,"value":1}]`)],
    ['utxo null entry', () => decodeAddressUtxos('[null]')],
    ['fee key not a number', () => decodeFeeEstimates('{"fast":1}')],
    ['fee rate negative', () => decodeFeeEstimates('{"1":-1}')],
    ['fee rate string', () => decodeFeeEstimates('{"1":"2"}')],
    ['fee estimates array', () => decodeFeeEstimates('[1,2]')],
    ['outspend spent without txid', () => decodeOutSpend('{"spent":true,"vin":0,"status":{"confirmed":false}}')],
    ['outspend null', () => decodeOutSpend('null')],
  ];
  for (const [name, fn] of cases) it(name, () => expectBad(fn));

  it('fuzz: any text decodes to a value or a bad_response error, never anything else', () => {
    const decoders = [decodeHeightText, decodeHashText, decodeTxHexText, decodeTxStatus, decodeAddressUtxos, decodeOutSpend, decodeFeeEstimates];
    const jsonish = fc.oneof(
      fc.string(),
      fc.json(),
      fc.jsonValue().map((v) => JSON.stringify({ confirmed: true, spent: true, block_height: v, value: v, txid: v, vin: v, status: v })),
    );
    fc.assert(
      fc.property(jsonish, (text) => {
        for (const d of decoders) {
          try {
            d(text);
          } catch (e) {
            if (!(e instanceof EsploraError) || e.code !== 'bad_response') return false;
          }
        }
        const r = parseBroadcastRejection(text); // total: never throws
        return typeof r.reason === 'string';
      }),
      { numRuns: 400 },
    );
  });

  it('fuzz: a well-formed utxo list round-trips through the decoder', () => {
    const hex64 = fc.uint8Array({ minLength: 32, maxLength: 32 }).map((b) => Buffer.from(b).toString('hex'));
    const utxo = fc.record({
      txid: hex64,
      vout: fc.nat(0xffffffff),
      value: fc.maxSafeNat().filter((v) => v <= 2_100_000_000_000_000),
      confirmed: fc.boolean(),
      height: fc.nat(0x7fffffff),
      hash: hex64,
      time: fc.nat(0xffffffff),
    });
    fc.assert(
      fc.property(fc.array(utxo, { maxLength: 5 }), (list) => {
        const body = JSON.stringify(
          list.map((u) => ({
            txid: u.txid,
            vout: u.vout,
            value: u.value,
            status: u.confirmed
              ? { confirmed: true, block_height: u.height, block_hash: u.hash, block_time: u.time }
              : { confirmed: false },
          })),
        );
        const got = decodeAddressUtxos(body);
        return got.length === list.length && got.every((g, i) => g.valueSat === BigInt(list[i]!.value) && g.txid === list[i]!.txid);
      }),
    );
  });
});
