import { readFileSync } from 'node:fs';
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { bestRoutes, parseGatewaysJson, parseNeighborsJson, parseOriginatorsJson } from './batctl-json.js';
import { LinkQualityParseError } from './errors.js';
import { mutatedText } from './fuzz-text.js';

const fixture = (name: string): string => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');
const A = '02:5a:10:c4:00:01';
const B = '02:5a:10:c4:00:02';
const C = '02:5a:10:c4:00:03';
const D = '02:5a:10:c4:00:04';

describe('batctl originators_json', () => {
  it('reads a compact BATMAN_IV table whole', () => {
    const routes = parseOriginatorsJson(fixture('batctl-oj-batman-iv.json'));
    expect(routes).toHaveLength(7);
    expect(routes[0]).toEqual({
      origAddress: A,
      neighAddress: A,
      best: true,
      tq: 247,
      lastSeenMs: 310,
      hardIfname: 'mesh0',
      hardIfindex: 12,
    });
    expect(routes[1]?.best).toBe(false);
    expect(routes[5]?.tq).toBe(0);
    expect(routes.every((r) => r.throughputKbps === undefined)).toBe(true);
  });

  it('picks the route batman-adv marked best, not the first one listed', () => {
    const best = bestRoutes(parseOriginatorsJson(fixture('batctl-oj-batman-iv.json')));
    expect(best.map((r) => [r.origAddress, r.neighAddress, r.tq])).toEqual([
      [A, A, 247],
      [B, B, 233],
      [C, A, 201], // two hops through A, not the tq 152 route through B
      [D, A, 38],
    ]);
  });

  it('reads a compact BATMAN_V table with throughput in kbit/s', () => {
    const routes = parseOriginatorsJson(fixture('batctl-oj-batman-v.json'));
    expect(routes).toHaveLength(5);
    expect(routes[0]).toMatchObject({ origAddress: A, throughputKbps: 54_300, best: true, hardIfname: 'mesh0' });
    expect(routes.every((r) => r.tq === undefined)).toBe(true);
    const best = bestRoutes(routes);
    expect(best.find((r) => r.origAddress === C)).toMatchObject({ neighAddress: A, throughputKbps: 26_500 });
  });

  it('reads json_pp output (sorted keys, indented)', () => {
    const routes = parseOriginatorsJson(fixture('batctl-oj-pretty.json'));
    expect(routes.map((r) => [r.origAddress, r.tq, r.best])).toEqual([
      ['8e:3f:02:71:aa:10', 242, true],
      ['5a:0c:91:e2:17:3b', 164, true],
      ['5a:0c:91:e2:17:3b', 121, false],
    ]);
    expect(routes[0]?.hardIfname).toBe('wlan1-mesh');
  });

  it('accepts an empty mesh, upper-case MACs, unknown keys and no interface name (older kernels)', () => {
    expect(parseOriginatorsJson('[]\n')).toEqual([]);
    const [r] = parseOriginatorsJson(
      '[{"hard_ifindex":3,"orig_address":"AA:BB:CC:00:11:22","best":true,"last_seen_msecs":1,"neigh_address":"aa:bb:cc:00:11:22","throughput":1000,"new_attr":[1]}]',
    );
    expect(r).toEqual({
      origAddress: 'aa:bb:cc:00:11:22',
      neighAddress: 'aa:bb:cc:00:11:22',
      best: true,
      throughputKbps: 1000,
      lastSeenMs: 1,
      hardIfindex: 3,
    });
  });

  it('when no route is flagged best, takes the highest metric', () => {
    const routes = parseOriginatorsJson(
      '[{"orig_address":"02:00:00:00:00:09","neigh_address":"02:00:00:00:00:01","last_seen_msecs":5,"tq":90},' +
        '{"orig_address":"02:00:00:00:00:09","neigh_address":"02:00:00:00:00:02","last_seen_msecs":5,"tq":180}]',
    );
    expect(bestRoutes(routes).map((r) => r.neighAddress)).toEqual(['02:00:00:00:00:02']);
  });
});

describe('batctl neighbors_json and gateways_json', () => {
  it('reads BATMAN_IV neighbours (no metric)', () => {
    const n = parseNeighborsJson(fixture('batctl-nj-batman-iv.json'));
    expect(n.map((x) => [x.neighAddress, x.hardIfname, x.lastSeenMs])).toEqual([
      [A, 'mesh0', 420],
      [B, 'mesh0', 1130],
      [A, 'mesh1', 260],
    ]);
    expect(n.every((x) => x.throughputKbps === undefined)).toBe(true);
  });

  it('reads BATMAN_V neighbours with throughput', () => {
    const n = parseNeighborsJson(fixture('batctl-nj-batman-v.json'));
    expect(n[1]).toEqual({ neighAddress: B, lastSeenMs: 510, throughputKbps: 8700, hardIfname: 'mesh0', hardIfindex: 7 });
  });

  it('reads json_pp neighbours', () => {
    expect(parseNeighborsJson(fixture('batctl-nj-pretty.json')).map((x) => x.neighAddress)).toEqual([
      '8e:3f:02:71:aa:10',
      'd6:44:be:08:2c:71',
    ]);
  });

  it('reads BATMAN_IV gateways with their announced bandwidth in kbit/s', () => {
    const g = parseGatewaysJson(fixture('batctl-gwj-pretty-batman-iv.json'));
    expect(g).toEqual([
      { origAddress: C, router: A, best: false, tq: 201, bandwidthDownKbps: 50_000, bandwidthUpKbps: 10_000, hardIfname: 'mesh0', hardIfindex: 12 },
      { origAddress: B, router: B, best: true, tq: 233, bandwidthDownKbps: 100_000, bandwidthUpKbps: 40_000, hardIfname: 'mesh0', hardIfindex: 12 },
    ]);
  });

  it('reads BATMAN_V gateways, whose throughput batctl prints in 100 kbit/s', () => {
    const [best, other] = parseGatewaysJson(fixture('batctl-gwj-batman-v.json'));
    expect(best).toMatchObject({ origAddress: C, best: true, throughputKbps: 26_500, bandwidthDownKbps: 100_000, bandwidthUpKbps: 20_000 });
    expect(other).toMatchObject({ origAddress: B, best: false, throughputKbps: 8_700, bandwidthDownKbps: 500_000 });
  });
});

describe('batctl JSON: hostile input is a LinkQualityParseError', () => {
  const entry = '"orig_address":"02:00:00:00:00:09","neigh_address":"02:00:00:00:00:01","last_seen_msecs":5';
  const cases: Array<[string, string, RegExp]> = [
    ['empty output', '', /empty output/],
    ['whitespace only', ' \n', /empty output/],
    ['truncated JSON', '[{"hard_ifindex":12,"hard_ifname":"mesh0","orig_addr', /not JSON/],
    ['not an array', '{"tq":1}', /expected a JSON array, got object/],
    ['entry not an object', '[1]', /entry 0: expected an object, got number/],
    ['entry null', '[null]', /entry 0: expected an object, got null/],
    ['tq as string', `[{${entry},"tq":"200"}]`, /entry 0: "tq" expected an integer 0\.\.255, got string "200"/],
    ['tq above 255', `[{${entry},"tq":333}]`, /"tq" expected an integer 0\.\.255, got number 333/],
    ['negative throughput', `[{${entry},"throughput":-1}]`, /"throughput"/],
    ['fractional last_seen', `[{"orig_address":"02:00:00:00:00:09","neigh_address":"02:00:00:00:00:01","last_seen_msecs":1.5,"tq":1}]`, /"last_seen_msecs"/],
    ['no metric', `[{${entry}}]`, /neither "tq" nor "throughput"/],
    ['missing last_seen', '[{"orig_address":"02:00:00:00:00:09","neigh_address":"02:00:00:00:00:01","tq":9}]', /"last_seen_msecs" is missing/],
    ['bad MAC', '[{"orig_address":"02:00:00:00:00","neigh_address":"02:00:00:00:00:01","last_seen_msecs":5,"tq":9}]', /"orig_address" is not a MAC/],
    ['MAC as number', '[{"orig_address":7,"neigh_address":"02:00:00:00:00:01","last_seen_msecs":5,"tq":9}]', /"orig_address" expected a MAC address string, got number/],
    ['best as string', `[{${entry},"tq":9,"best":"yes"}]`, /"best" expected a boolean/],
    ['ifname with a slash', `[{${entry},"tq":9,"hard_ifname":"../x"}]`, /"hard_ifname"/],
    ['batctl error text', 'Error - mesh interface bat0 is not present\n', /not JSON/],
    ['second entry bad', `[{${entry},"tq":9},{${entry},"tq":[]}]`, /entry 1: "tq"/],
  ];
  for (const [name, text, message] of cases) {
    it(name, () => {
      expect(() => parseOriginatorsJson(text)).toThrow(LinkQualityParseError);
      expect(() => parseOriginatorsJson(text)).toThrow(message);
    });
  }

  it('gives a stable code and names the format', () => {
    try {
      parseGatewaysJson('[');
      expect.unreachable();
    } catch (err) {
      expect(err).toBeInstanceOf(LinkQualityParseError);
      const e = err as LinkQualityParseError;
      expect(e.code).toBe('LINK_QUALITY_PARSE');
      expect(e.format).toBe('batctl-gateways');
      expect(e.blame).toBe('remote');
    }
  });

  it('refuses output past the size cap before parsing it', () => {
    expect(() => parseNeighborsJson(' '.repeat(4 * 1024 * 1024 + 1))).toThrow(/more than/);
  });

  const parsers = [parseOriginatorsJson, parseNeighborsJson, parseGatewaysJson];
  const onlyTypedErrors = (text: string): boolean => {
    for (const parse of parsers) {
      try {
        parse(text);
      } catch (err) {
        if (!(err instanceof LinkQualityParseError)) throw err;
      }
    }
    return true;
  };

  it('fuzz: random strings parse or raise LinkQualityParseError, nothing else', () => {
    fc.assert(fc.property(fc.string({ maxLength: 200 }), onlyTypedErrors), { numRuns: 500 });
    fc.assert(fc.property(fc.json(), onlyTypedErrors), { numRuns: 500 });
  });

  it('fuzz: damaged fixtures parse or raise LinkQualityParseError, nothing else', () => {
    for (const name of ['batctl-oj-batman-iv.json', 'batctl-oj-batman-v.json', 'batctl-oj-pretty.json', 'batctl-nj-batman-v.json', 'batctl-gwj-pretty-batman-iv.json']) {
      fc.assert(fc.property(mutatedText(fixture(name)), onlyTypedErrors), { numRuns: 200 });
    }
  });

  it('fuzz: whatever parses has the documented ranges', () => {
    const base = fixture('batctl-oj-batman-iv.json');
    fc.assert(
      fc.property(mutatedText(base), (text) => {
        let routes;
        try {
          routes = parseOriginatorsJson(text);
        } catch {
          return true;
        }
        return routes.every(
          (r) =>
            /^[0-9a-f]{2}(:[0-9a-f]{2}){5}$/.test(r.origAddress) &&
            (r.tq === undefined || (Number.isInteger(r.tq) && r.tq >= 0 && r.tq <= 255)) &&
            (r.tq !== undefined || r.throughputKbps !== undefined),
        );
      }),
      { numRuns: 300 },
    );
  });
});
