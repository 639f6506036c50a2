import { describe, expect, it } from 'vitest';
import { publicDestinationsOnly } from './destination-policy.js';

describe('publicDestinationsOnly', () => {
  it.each([
    ['1.1.1.1', 443, true],
    ['8.8.8.8', 53, true],
    ['2606:4700::1111', 443, true],
    ['127.0.0.1', 80, false],
    ['10.1.2.3', 80, false],
    ['172.16.0.1', 80, false],
    ['172.32.0.1', 80, true],
    ['192.168.1.1', 80, false],
    ['169.254.1.1', 80, false],
    ['100.64.0.1', 80, false],
    ['0.0.0.0', 80, false],
    ['224.0.0.1', 80, false],
    ['::1', 80, false],
    ['::', 80, false],
    ['::ffff:127.0.0.1', 80, false],
    ['::ffff:1.1.1.1', 80, true],
    ['fd00::1', 80, false],
    ['fe80::1', 80, false],
    ['ff02::1', 80, false],
    ['1.1.1.1', 0, false],
    ['example.org', 80, false],
  ] as const)('%s port %d → %s', (addr, port, ok) => {
    expect(publicDestinationsOnly(addr, port)).toBe(ok);
  });
});
