import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { NftInputError } from './errors.js';
import { addressOf, bytesOf, channelIdOf, ifNameOf, ifNamesOf } from './nft-values.js';

describe('values that go into nft text', () => {
  it('accepts what routers and channels use', () => {
    expect(channelIdOf('a'.repeat(64))).toBe('a'.repeat(64));
    for (const n of ['bat0', 'br-lan', 'eth0.2', 'phy0-mesh0', 'pppoe-wan', 'wlan0_1']) expect(ifNameOf(n)).toBe(n);
    expect(addressOf('10.0.0.2')).toEqual({ family: 4, text: '10.0.0.2' });
    expect(addressOf('FD00::1')).toEqual({ family: 6, text: 'fd00::1' });
    expect(addressOf('::ffff:1.2.3.4').family).toBe(6);
    expect(bytesOf(0)).toBe(0);
    expect(bytesOf(Number.MAX_SAFE_INTEGER)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it.each([
    ['channelId', () => channelIdOf('')],
    ['channelId', () => channelIdOf('AB')],
    ['channelId', () => channelIdOf('a'.repeat(65))],
    ['channelId', () => channelIdOf('ab; flush ruleset')],
    ['channelId', () => channelIdOf('ab\n')],
    ['interface', () => ifNameOf('')],
    ['interface', () => ifNameOf('a'.repeat(16))],
    ['interface', () => ifNameOf('eth0" } accept #')],
    ['interface', () => ifNameOf('eth 0')],
    ['interface', () => ifNameOf('eth0;')],
    ['interface', () => ifNameOf('..')],
    ['interface', () => ifNameOf('wlan*')],
    ['address', () => addressOf('10.0.0.0/24')],
    ['address', () => addressOf('fe80::1%eth0')],
    ['address', () => addressOf('10.0.0.256')],
    ['address', () => addressOf('10.0.0.1 }; flush ruleset; add element x {')],
    ['address', () => addressOf('')],
    ['bytes', () => bytesOf(-1)],
    ['bytes', () => bytesOf(1.5)],
    ['bytes', () => bytesOf(Number.NaN)],
    ['bytes', () => bytesOf(2 ** 53)],
    ['meshInterfaces', () => ifNamesOf([], 'meshInterfaces')],
    ['up', () => ifNamesOf(['a', 'a'], 'up')],
  ])('rejects hostile %s input', (field, f) => {
    let err: unknown;
    try {
      f();
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(NftInputError);
    expect((err as NftInputError).field).toBe(field);
    expect((err as NftInputError).code).toBe('NFT_BAD_INPUT');
  });

  it('whatever it lets through holds no character that changes nft syntax', () => {
    const danger = /["'\\;{}#\s@$]/;
    fc.assert(
      fc.property(fc.string({ maxLength: 70 }), (s) => {
        for (const f of [channelIdOf, ifNameOf, (x: string) => addressOf(x).text]) {
          try {
            expect(danger.test(f(s))).toBe(false);
          } catch (e) {
            expect(e).toBeInstanceOf(NftInputError);
          }
        }
      }),
    );
  });
});
