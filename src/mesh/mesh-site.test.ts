import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseIpv4Prefix, parseMeshSite } from './mesh-site.js';

const site = parseMeshSite(readFileSync(new URL('../../firmware/site.conf', import.meta.url), 'utf8'), 'firmware/site.conf');

describe('the site file in firmware/', () => {
  it('parses with its documented values and the defaults', () => {
    expect(site.meshId).toBe('bitmesh');
    expect(site.radio).toBe('radio1');
    expect(site.channel).toBe(36);
    expect(site.hardifMtu).toBe(1536);
    expect(site.routingAlgo).toBe('BATMAN_IV');
    expect(site.ipv4Prefix).toEqual(parseIpv4Prefix('100.64.0.0/10'));
  });

  it.each([
    ['config site\n\toption mesh_key x12345678\n\toption channel 1\n', /mesh_id' is required/],
    ["config site\n\toption mesh_id m\n\toption mesh_key 'short'\n\toption channel 1\n", /mesh_key': expected 8-63 printable ASCII characters, got 5 characters/],
    ['config site\n\toption mesh_id m\n\toption mesh_key x12345678\n\toption channel 300\n', /:4: section 'site' option 'channel': expected a channel number/],
    ['config site\n\toption mesh_id m\n\toption mesh_key x12345678\n\toption channel 1\n\toption chanel 6\n', /no option 'chanel'/],
    ['config site\n\toption mesh_id m\n\toption mesh_key x12345678\n\toption channel 1\n\toption ipv4_prefix 10.0.0.1/8\n', /ipv4_prefix/],
    ['config wifi\n', /unknown section type 'wifi'/],
    ['', /expected one 'config site' section, found 0/],
  ])('refuses a bad site file with file, line and option (%#)', (text, re) => {
    expect(() => parseMeshSite(text, 'site.conf')).toThrow(re);
  });
});
