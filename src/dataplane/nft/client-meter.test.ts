import { describe, expect, it } from 'vitest';
import { clientMeterScript } from './client-meter.js';
import { NftInputError } from './errors.js';
import { ifNamesOf } from './nft-values.js';

describe('clientMeterScript', () => {
  const script = clientMeterScript({ meshInterfaces: ifNamesOf(['mesh0', 'bat0'], 'm'), localSubnets: ['10.42.0.3/24', 'fd42::3/64'] });

  it('counts only traffic to and from outside the mesh subnets, on mesh interfaces, and never drops', () => {
    expect(script).toContain('add set inet bitmesh_client local4 { type ipv4_addr; flags interval; elements = { 224.0.0.0/4, 255.255.255.255/32, 127.0.0.0/8, 10.42.0.3/24 } }');
    expect(script).toContain('add set inet bitmesh_client local6 { type ipv6_addr; flags interval; elements = { fe80::/10, ff00::/8, ::1/128, fd42::3/64 } }');
    expect(script).toContain('oifname { "mesh0", "bat0" } ip daddr != @local4 counter name "bmc_up"');
    expect(script).toContain('iifname { "mesh0", "bat0" } ip6 saddr != @local6 counter name "bmc_down"');
    expect(script).not.toMatch(/\bdrop\b/);
  });

  it('replaces any previous table in the same transaction', () => {
    expect(script.split('\n').slice(0, 3)).toEqual(['add table inet bitmesh_client', 'delete table inet bitmesh_client', 'add table inet bitmesh_client']);
  });

  it('refuses a subnet that could inject nft text', () => {
    expect(() => clientMeterScript({ meshInterfaces: ifNamesOf(['mesh0'], 'm'), localSubnets: ['10.0.0.0/8 }; flush ruleset; {'] })).toThrow(NftInputError);
  });
});
