import { describe, expect, it } from 'vitest';
import { ClientRouteError, ClientRouteInputError, clearDefaultRouteArgs, defaultRouteArgs, leaveGateway, useGateway } from './client-route.js';

describe('client default route', () => {
  it('points the default route of the gateway family at its mesh address', () => {
    expect(defaultRouteArgs('10.42.0.1', 'bat0')).toEqual(['-4', 'route', 'replace', 'default', 'via', '10.42.0.1', 'dev', 'bat0']);
    expect(defaultRouteArgs('fe80::42', 'bat0')).toEqual(['-6', 'route', 'replace', 'default', 'via', 'fe80::42', 'dev', 'bat0']);
    expect(clearDefaultRouteArgs('10.42.0.1', 'bat0')).toEqual(['-4', 'route', 'del', 'default', 'via', '10.42.0.1', 'dev', 'bat0']);
  });

  it.each([
    ['10.42.0.0/24', 'bat0'],
    ['10.42.0.1', 'bat0 table 5'],
    ['fe80::1%bat0', 'bat0'],
    ['gateway', 'bat0'],
  ])('rejects %s dev %s', (gw, dev) => {
    expect(() => defaultRouteArgs(gw, dev)).toThrow(ClientRouteInputError);
  });

  it('runs the command and passes ip failures on, except a route already gone on leave', async () => {
    const ran: (readonly string[])[] = [];
    await useGateway('10.42.0.1', 'bat0', async (a) => void ran.push(a));
    expect(ran).toEqual([defaultRouteArgs('10.42.0.1', 'bat0')]);
    const failing = (stderr: string) => async (a: readonly string[]) => {
      throw new ClientRouteError(a, stderr);
    };
    await expect(useGateway('10.42.0.1', 'bat0', failing('Error: Nexthop has invalid gateway.'))).rejects.toBeInstanceOf(ClientRouteError);
    await expect(leaveGateway('10.42.0.1', 'bat0', failing('RTNETLINK answers: No such process'))).resolves.toBeUndefined();
    await expect(leaveGateway('10.42.0.1', 'bat0', failing('Cannot find device "bat0"'))).rejects.toBeInstanceOf(ClientRouteError);
  });
});
