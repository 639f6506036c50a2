import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseUci } from '../config/uci.js';
import { addressInPrefix, meshAddress, meshUciBatch, prefixNetmask, uciQuote, type MeshRole } from './mesh-config.js';
import { parseIpv4Prefix, parseMeshSite, type MeshSite } from './mesh-site.js';

const SITE_FILE = new URL('../../firmware/site.conf', import.meta.url);
const site: MeshSite = parseMeshSite(readFileSync(SITE_FILE, 'utf8'), 'firmware/site.conf');

/** `set a.b.c='v'` lines as a map path → value, read back the way uci reads quoting. */
function settings(batch: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of batch.trimEnd().split('\n')) {
    if (!line.startsWith('set ')) continue;
    const eq = line.indexOf('=');
    const path = line.slice(4, eq);
    const raw = line.slice(eq + 1);
    // A section line has a bare type; an option line a quoted value: unquote with the UCI parser.
    const value = raw.startsWith("'") ? ((parseUci(`config x\n\toption v ${raw}\n`, 'batch')[0]!.options.get('v')!.value as string)) : raw;
    out.set(path, value);
  }
  return out;
}

function batchFor(role: MeshRole, overrides: Partial<MeshSite> = {}) {
  return meshUciBatch({ role, site: { ...site, ...overrides }, controlPort: 4270, address: '100.70.1.2' });
}

describe('bitmesh mesh-config UCI batch', () => {
  it.each(['gateway', 'client'] as const)('%s: 802.11s mesh with SAE, no 802.11s forwarding, on the site radio', (role) => {
    const s = settings(batchFor(role));
    expect(s.get('wireless.bitmesh_mesh')).toBe('wifi-iface');
    expect(s.get('wireless.bitmesh_mesh.device')).toBe('radio1');
    expect(s.get('wireless.bitmesh_mesh.mode')).toBe('mesh');
    expect(s.get('wireless.bitmesh_mesh.mesh_id')).toBe('bitmesh');
    expect(s.get('wireless.bitmesh_mesh.encryption')).toBe('sae');
    expect(s.get('wireless.bitmesh_mesh.key')).toBe('change-this-community-key');
    expect(s.get('wireless.bitmesh_mesh.mesh_fwding')).toBe('0');
    expect(s.get('wireless.bitmesh_mesh.ifname')).toBe('mesh0');
    expect(s.get('wireless.radio1.channel')).toBe('36');
    expect(s.get('wireless.radio1.htmode')).toBe('HE80');
    expect(s.get('wireless.radio1.country')).toBe('DE');
  });

  it.each(['gateway', 'client'] as const)('%s: mesh0 is a batadv_hardif member of bat0 with the site MTU', (role) => {
    const s = settings(batchFor(role));
    expect(s.get('wireless.bitmesh_mesh.network')).toBe('bitmesh_hardif');
    expect(s.get('network.bitmesh_hardif')).toBe('interface');
    expect(s.get('network.bitmesh_hardif.proto')).toBe('batadv_hardif');
    expect(s.get('network.bitmesh_hardif.master')).toBe('bat0');
    expect(s.get('network.bitmesh_hardif.mtu')).toBe('1536');
    expect(s.get('network.bat0.proto')).toBe('batadv');
    expect(s.get('network.bat0.routing_algo')).toBe('BATMAN_IV');
    expect(s.get('network.bitmesh.device')).toBe('bat0');
    expect(s.get('network.bitmesh.ipaddr')).toBe('100.70.1.2');
    expect(s.get('network.bitmesh.netmask')).toBe('255.192.0.0');
    expect(s.get('bitmesh.main.role')).toBe(role);
    expect(s.get('bitmesh.mesh.interface')).toBe('bat0');
  });

  it('gateway: batman-adv gateway server announcing the site bandwidth; mesh forwards to wan', () => {
    const s = settings(batchFor('gateway'));
    expect(s.get('network.bat0.gw_mode')).toBe('server');
    expect(s.get('network.bat0.gw_bandwidth')).toBe('50mbit/10mbit');
    expect(s.get('firewall.bitmesh_fwd.src')).toBe('bitmesh');
    expect(s.get('firewall.bitmesh_fwd.dest')).toBe('wan');
    expect(s.get('firewall.bitmesh_zone.masq')).toBe('0');
  });

  it('client: batman-adv gateway client; lan forwards into the mesh, masqueraded', () => {
    const s = settings(batchFor('client'));
    expect(s.get('network.bat0.gw_mode')).toBe('client');
    expect(s.has('network.bat0.gw_bandwidth')).toBe(false);
    expect(s.get('firewall.bitmesh_fwd.src')).toBe('lan');
    expect(s.get('firewall.bitmesh_fwd.dest')).toBe('bitmesh');
    expect(s.get('firewall.bitmesh_zone.masq')).toBe('1');
  });

  it.each(['gateway', 'client'] as const)('%s: a mesh zone that rejects input except the control port and ICMP', (role) => {
    const s = settings(batchFor(role));
    expect(s.get('firewall.bitmesh_zone')).toBe('zone');
    expect(s.get('firewall.bitmesh_zone.name')).toBe('bitmesh');
    expect(s.get('firewall.bitmesh_zone.network')).toBe('bitmesh');
    expect(s.get('firewall.bitmesh_zone.input')).toBe('REJECT');
    expect(s.get('firewall.bitmesh_zone.forward')).toBe('REJECT');
    expect(s.get('firewall.bitmesh_control.src')).toBe('bitmesh');
    expect(s.get('firewall.bitmesh_control.proto')).toBe('udp');
    expect(s.get('firewall.bitmesh_control.dest_port')).toBe('4270');
    expect(s.get('firewall.bitmesh_control.target')).toBe('ACCEPT');
  });

  it('sets the same sections for both roles, so switching role overwrites every one', () => {
    const sections = (b: string) => [...settings(b).entries()].filter(([k]) => k.split('.').length === 2).map(([k]) => k);
    expect(sections(batchFor('client'))).toEqual(sections(batchFor('gateway')));
  });

  it('is only set lines and commits of the four packages, each line one command', () => {
    const lines = batchFor('gateway').trimEnd().split('\n');
    for (const l of lines) expect(l).toMatch(/^(set [a-z0-9_]+\.[A-Za-z0-9_]+(\.[a-z0-9_]+)?=('[^\n]*'|[a-z-]+)|commit (wireless|network|firewall|bitmesh))$/);
    expect(lines.slice(-4)).toEqual(['commit wireless', 'commit network', 'commit firewall', 'commit bitmesh']);
  });

  it('quotes any printable value so uci reads it back unchanged', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), minLength: 8, maxLength: 63 }), (key) => {
        const s = settings(batchFor('client', { meshKey: key }));
        expect(s.get('wireless.bitmesh_mesh.key')).toBe(key);
      }),
    );
    expect(uciQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('refuses an address outside the site prefix', () => {
    expect(() => meshUciBatch({ role: 'client', site, controlPort: 4270, address: '192.168.1.1' })).toThrow(/not a host address/);
    expect(() => meshUciBatch({ role: 'client', site, controlPort: 4270, address: '100.64.0.0' })).toThrow(/not a host address/);
  });
});

describe('meshAddress', () => {
  it('derives a host address inside the prefix from the node id, never network or broadcast', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 32, maxLength: 32 }), fc.integer({ min: 8, max: 24 }), (id, len) => {
        const prefix = { network: 0x0a000000 - (0x0a000000 % 2 ** (32 - len)), length: len };
        expect(addressInPrefix(meshAddress(prefix, id), prefix)).toBe(true);
      }),
    );
    const p = parseIpv4Prefix('100.64.0.0/10')!;
    expect(meshAddress(p, new Uint8Array([0, 0, 1, 2]))).toBe('100.64.1.2');
    expect(meshAddress(p, new Uint8Array([0xff, 0xff, 0xff, 0xff]))).toBe('100.127.255.254');
    expect(meshAddress(p, new Uint8Array(4))).toBe('100.64.0.1');
    expect(prefixNetmask(parseIpv4Prefix('10.0.0.0/8')!)).toBe('255.0.0.0');
  });
});
