import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { LinkQualityParseError } from './errors.js';
import { mutatedText } from './fuzz-text.js';
import { parseIwStations } from './iw-station.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('iw station dump / get', () => {
  it('reads the OpenWISP capture (one HE mesh peer, tab-indented)', () => {
    const [st, ...rest] = parseIwStations(fixture('iw-station-dump-mesh0-openwisp.txt'));
    expect(rest).toEqual([]);
    expect(st).toEqual({
      mac: '44:d1:fa:d2:04:d6',
      iface: 'mesh0',
      inactiveMs: 10,
      rxBytes: 9_050_195,
      rxPackets: 80_356,
      txBytes: 1_169_064,
      txPackets: 7196,
      txRetries: 0,
      txFailed: 0,
      signalDbm: -42,
      chainSignalDbm: [-43, -49],
      signalAvgDbm: -42,
      txBitrateMbps: 243.7,
      rxBitrateMbps: 258,
      meshLlid: 0,
      meshPlid: 0,
      meshPlink: 'ESTAB',
      meshAirtimeMetric: 48,
      meshConnectedToGate: true,
      authorized: true,
      connectedTimeS: 3511,
    });
  });

  it('reads several stations separated by blank lines', () => {
    const sts = parseIwStations(fixture('iw-station-dump-mesh1-three-peers.txt'));
    expect(sts.map((s) => [s.mac, s.iface, s.meshPlink])).toEqual([
      ['8e:3f:02:71:aa:10', 'mesh1', 'ESTAB'],
      ['d6:44:be:08:2c:71', 'mesh1', 'ESTAB'],
      ['5a:0c:91:e2:17:3b', 'mesh1', 'OPN_SNT'],
    ]);
    const [good, weak, opening] = sts;
    expect(good).toMatchObject({
      signalDbm: -61,
      chainSignalDbm: [-63, -66],
      signalAvgDbm: -60,
      txBitrateMbps: 86.7,
      expectedThroughputKbps: 41_406,
      meshAirtimeMetric: 171,
      inactiveMs: 40,
      meshConnectedToGate: true,
    });
    expect(weak).toMatchObject({ signalDbm: -83, chainSignalDbm: [], signalAvgDbm: -82, meshAirtimeMetric: 1365, txFailed: 61 });
    expect(weak?.expectedThroughputKbps).toBeUndefined();
    expect(opening?.txBitrateMbps).toBeUndefined(); // "(unknown)"
    expect(opening).toMatchObject({ rxBitrateMbps: 6, signalDbm: -74, authorized: false, inactiveMs: 8810 });
  });

  it('reads output whose tabs were turned into spaces', () => {
    const [st] = parseIwStations(fixture('iw-station-get-wlan0-mesh-spaces.txt'));
    expect(st).toMatchObject({
      mac: '3c:a6:2f:10:20:5e',
      iface: 'wlan0-mesh',
      inactiveMs: 70,
      signalDbm: -57,
      chainSignalDbm: [-58, -63],
      signalAvgDbm: -58,
      txBitrateMbps: 65,
      meshPlink: 'ESTAB',
      meshLlid: 2207,
    });
  });

  it('reads iw\'s unpadded expected throughput: "31.7Mbps" is 31,007 kbit/s', () => {
    const [st] = parseIwStations(fixture('iw-station-get-wlan0-mesh-spaces.txt'));
    expect(st?.expectedThroughputKbps).toBe(31_007);
    const [st2] = parseIwStations('Station 02:00:00:00:00:01 (on wlan0)\n\texpected throughput:\t2.197Mbps\n');
    expect(st2?.expectedThroughputKbps).toBe(2197);
  });

  it('keeps the station-level value when a multi-link block repeats a key', () => {
    const text =
      'Station 02:00:00:00:00:01 (on wlan0)\n\tsignal:  \t-50 dBm\n\tcurrent time:\t1 ms\n\n\tLink 0:\n\t\taddress: 02:00:00:00:00:11\n\t\tsignal:  \t-70 dBm\n';
    expect(parseIwStations(text)[0]?.signalDbm).toBe(-50);
  });

  it('skips attributes it does not use and lines without a colon', () => {
    const text = 'Station 02:00:00:00:00:01 (on wlan0)\n\tfuture thing:\tweird [value]\n\tTID\tMSDU\ttx\n\tsignal:  \t-50 dBm\n';
    expect(parseIwStations(text)).toEqual([{ mac: '02:00:00:00:00:01', iface: 'wlan0', signalDbm: -50, chainSignalDbm: [] }]);
  });
});

describe('iw station: hostile input is a LinkQualityParseError', () => {
  const head = 'Station 02:00:00:00:00:01 (on wlan0)\n';
  const cases: Array<[string, string, RegExp]> = [
    ['empty output', '', /empty output/],
    ['garbage', 'command failed: No such device (-19)\n', /before the first "Station"/],
    ['field before header', '\tsignal:\t-50 dBm\n' + head, /line 1: text before/],
    ['bad header MAC', 'Station 02:00:00:00:01 (on wlan0)\n', /malformed station header/],
    ['header without interface', 'Station 02:00:00:00:00:01\n', /malformed station header/],
    ['signal not a number', head + '\tsignal:  \tstrong dBm\n', /"signal" has a malformed value/],
    ['signal out of int8 range', head + '\tsignal:  \t-300 dBm\n', /"signal"/],
    ['chain list broken', head + '\tsignal:  \t-50 [-51, ] dBm\n', /"signal"/],
    ['unknown plink state', head + '\tmesh plink:\tMAYBE\n', /"mesh plink"/],
    ['inactive time negative', head + '\tinactive time:\t-4 ms\n', /"inactive time"/],
    ['bitrate garbage', head + '\ttx bitrate:\tfast\n', /"tx bitrate"/],
    ['expected throughput garbage', head + '\texpected throughput:\t12Mbps\n', /"expected throughput"/],
    ['yes/no garbage', head + '\tmesh connected to gate:\tperhaps\n', /"mesh connected to gate"/],
    ['byte counter past 2^53', head + '\trx bytes:\t18446744073709551615\n', /"rx bytes"/],
  ];
  for (const [name, text, message] of cases) {
    it(name, () => {
      expect(() => parseIwStations(text)).toThrow(LinkQualityParseError);
      expect(() => parseIwStations(text)).toThrow(message);
    });
  }

  const onlyTypedErrors = (text: string): boolean => {
    try {
      const sts = parseIwStations(text);
      return sts.every((s) => /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(s.mac) && s.iface.length > 0);
    } catch (err) {
      if (err instanceof LinkQualityParseError) return true;
      throw err;
    }
  };

  it('fuzz: random strings parse or raise LinkQualityParseError, nothing else', () => {
    fc.assert(fc.property(fc.string({ maxLength: 300 }), onlyTypedErrors), { numRuns: 500 });
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.constant(head), fc.string({ maxLength: 40 }).map((s) => `\t${s}\n`))), (parts) =>
        onlyTypedErrors(parts.join('')),
      ),
      { numRuns: 300 },
    );
  });

  it('fuzz: damaged fixtures parse or raise LinkQualityParseError, nothing else', () => {
    for (const name of ['iw-station-dump-mesh0-openwisp.txt', 'iw-station-dump-mesh1-three-peers.txt', 'iw-station-get-wlan0-mesh-spaces.txt']) {
      fc.assert(fc.property(mutatedText(fixture(name)), onlyTypedErrors), { numRuns: 300 });
    }
  });
});
