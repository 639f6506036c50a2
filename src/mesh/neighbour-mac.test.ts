import { describe, expect, it } from 'vitest';
import { macFromLinkLocal, parseProcNetArp } from './neighbour-mac.js';

describe('neighbour MAC lookup', () => {
  it('recovers the MAC from an EUI-64 link-local address', () => {
    expect(macFromLinkLocal('fe80::a8bb:ccff:fedd:eeff%bat0')).toBe('aa:bb:cc:dd:ee:ff');
    expect(macFromLinkLocal('fe80::200:ff:fe00:1')).toBe('00:00:00:00:00:01');
    expect(macFromLinkLocal('fe80::1')).toBeUndefined(); // not EUI-64
    expect(macFromLinkLocal('2001:db8::a8bb:ccff:fedd:eeff')).toBeUndefined(); // not link-local
    expect(macFromLinkLocal('fe80::zz')).toBeUndefined();
  });

  it('reads complete entries of /proc/net/arp', () => {
    const text = `IP address       HW type     Flags       HW address            Mask     Device
10.13.0.7        0x1         0x2         02:ca:fe:00:00:07     *        bat0
10.13.0.9        0x1         0x0         00:00:00:00:00:00     *        bat0
`;
    expect([...parseProcNetArp(text)]).toEqual([['10.13.0.7', '02:ca:fe:00:00:07']]);
  });
});
