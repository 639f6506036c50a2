import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NftInputError } from './errors.js';
import { addressOf, bytesOf, channelIdOf, ifNameOf, type NftAddress } from './nft-values.js';
import { BASE_CHAIN_RULES, clientCommands, oneLine, removeClientCommands, setLimitCommands, skeletonCommands, tableScript, type ClientEntry } from './ruleset.js';

const cfg = { meshInterfaces: [ifNameOf('bat0')], upstreamInterfaces: [ifNameOf('wan'), ifNameOf('eth1')] };
const zero = { packets: 0, bytes: 0 };
const client = (id: string, addrs: string[], over: Partial<ClientEntry> = {}): ClientEntry => ({
  id: channelIdOf(id),
  addresses: addrs.map(addressOf),
  limit: bytesOf(1000),
  up: zero,
  down: zero,
  drop: zero,
  attached: true,
  ...over,
});

describe('the bitmesh table', () => {
  it('hooks forward just before fw4, and mesh→upstream with no client is refused', () => {
    const lines = skeletonCommands(cfg);
    expect(lines).toContain('add chain inet bitmesh bm_fwd { type filter hook forward priority filter - 1; policy accept; }');
    expect(lines).toContain('add rule inet bitmesh bm_fwd iifname { "bat0" } oifname { "wan", "eth1" } jump bm_up');
    expect(lines).toContain('add rule inet bitmesh bm_fwd iifname { "bat0" } oifname { "wan", "eth1" } drop');
    expect(lines).toContain('add rule inet bitmesh bm_fwd iifname { "wan", "eth1" } oifname { "bat0" } jump bm_down');
    expect(lines.filter((l) => l.startsWith('add rule inet bitmesh bm_fwd '))).toHaveLength(BASE_CHAIN_RULES);
    expect(lines.filter((l) => l.startsWith('add rule inet bitmesh bm_up ')).at(-1)).toBe('add rule inet bitmesh bm_up reject with icmpx type admin-prohibited');
    expect(lines.filter((l) => l.startsWith('add rule inet bitmesh bm_down ')).at(-1)).toBe('add rule inet bitmesh bm_down drop');
  });

  it('is replaced in one script, base chain last so filtering starts with everything in place', () => {
    const script = tableScript(cfg, [client('aa', ['10.0.0.2', 'fd00::2'])]).trimEnd().split('\n');
    expect(script.slice(0, 3)).toEqual(['add table inet bitmesh', 'delete table inet bitmesh', 'add table inet bitmesh']);
    expect(script.at(-1 - BASE_CHAIN_RULES)).toMatch(/^add chain inet bitmesh bm_fwd \{ type filter hook forward/);
    expect(script.indexOf('add element inet bitmesh up6 { fd00::2 : goto cu_aa }')).toBeLessThan(script.length - 1 - BASE_CHAIN_RULES);
  });

  it('bills both directions against one quota and counts drops apart', () => {
    const lines = clientCommands(client('ab', ['10.0.0.2'], { limit: bytesOf(5000), up: { packets: 1, bytes: 100 }, down: { packets: 2, bytes: 900 } }));
    expect(lines).toContain('add quota inet bitmesh q_ab { over 5000 bytes used 1000 bytes }');
    expect(lines).toContain('add rule inet bitmesh cu_ab quota name "q_ab" counter name "c_ab_drop" goto bm_cut_up');
    expect(lines).toContain('add rule inet bitmesh cd_ab quota name "q_ab" counter name "c_ab_drop" goto bm_cut_down');
    expect(lines).toContain('add rule inet bitmesh cu_ab counter name "c_ab_up" accept');
    expect(lines).toContain('add rule inet bitmesh cd_ab counter name "c_ab_down" accept');
    expect(lines).toContain('add element inet bitmesh down4 { 10.0.0.2 : goto cd_ab }');
  });

  it('a revoked client keeps its objects but gets no map elements', () => {
    const lines = clientCommands(client('ab', ['10.0.0.2'], { attached: false }));
    expect(lines.some((l) => l.includes(' up4 ') || l.includes(' down4 '))).toBe(false);
  });

  it('refuses a limit below what was already used', () => {
    expect(() => clientCommands(client('ab', [], { limit: bytesOf(10), up: { packets: 1, bytes: 11 } }))).toThrow(NftInputError);
  });

  it('raises a limit in place and un-cuts every address in the same line', () => {
    const line = oneLine(setLimitCommands(channelIdOf('ab'), [addressOf('10.0.0.2'), addressOf('fd00::2')], bytesOf(77)));
    expect(line).toBe(
      'add quota inet bitmesh q_ab { over 77 bytes }; add element inet bitmesh cut4 { 10.0.0.2 }; delete element inet bitmesh cut4 { 10.0.0.2 }; ' +
        'add element inet bitmesh cut6 { fd00::2 }; delete element inet bitmesh cut6 { fd00::2 }',
    );
  });

  it('removes rules before the objects they name', () => {
    const lines = removeClientCommands(channelIdOf('ab'), [addressOf('10.0.0.2')], true);
    expect(lines.indexOf('flush chain inet bitmesh cu_ab')).toBeLessThan(lines.indexOf('delete quota inet bitmesh q_ab'));
    expect(lines.indexOf('delete element inet bitmesh up4 { 10.0.0.2 }')).toBeLessThan(lines.indexOf('delete chain inet bitmesh cu_ab'));
  });

  it('rejects an interface on both sides', () => {
    expect(() => skeletonCommands({ meshInterfaces: [ifNameOf('a')], upstreamInterfaces: [ifNameOf('a')] })).toThrow(NftInputError);
  });

  it('every generated line is one command with balanced braces', () => {
    const hex = fc.stringMatching(/^[0-9a-f]{1,64}$/);
    const addr = fc.oneof(fc.ipV4(), fc.ipV6().filter((a) => !a.includes('%')));
    fc.assert(
      fc.property(fc.array(fc.record({ id: hex, addrs: fc.array(addr, { maxLength: 3 }), attached: fc.boolean() }), { maxLength: 4 }), (cs) => {
        const entries = cs.map((c) => client(c.id, c.addrs, { attached: c.attached, addresses: c.addrs.map(addressOf) as NftAddress[] }));
        for (const line of tableScript(cfg, entries).trimEnd().split('\n')) {
          const opens = line.split('{').length;
          expect(line.split('}').length).toBe(opens);
          expect(line).toMatch(/^(add|delete|flush) /);
          // Semicolons only inside braces (chain/set declarations), never between commands.
          expect(line.replace(/\{[^}]*\}/g, '').includes(';')).toBe(false);
        }
      }),
      { numRuns: 100 },
    );
  });
});
