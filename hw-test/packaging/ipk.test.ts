// `make ipk` (scripts/build-ipk.mjs): the .ipk unpacked with real GNU tar and checked
// the way opkg reads it: container, control fields, conffiles, modes, owners, the
// maintainer scripts and their IPKG_INSTROOT guards, reproducibility.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const VERSION = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
const IPK = `bitmesh_${VERSION}-r1_all.ipk`;
const LUCI_IPK = `luci-app-bitmesh_${VERSION}-r1_all.ipk`;

function build(out: string, epoch = '1700000000'): void {
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-ipk.mjs'), '--out', out], {
    cwd: ROOT,
    env: { ...process.env, SOURCE_DATE_EPOCH: epoch },
    stdio: 'pipe',
  });
}

const tar = (...args: string[]) => execFileSync('tar', args, { encoding: 'utf8' });

/** `tar -tv --numeric-owner` lines as { mode, owner, name }. */
function listing(archive: string): { mode: string; owner: string; name: string }[] {
  return tar('--numeric-owner', '-tvzf', archive)
    .trimEnd()
    .split('\n')
    .map((l) => {
      const f = l.split(/\s+/);
      return { mode: f[0]!, owner: f[1]!, name: f[f.length - 1]! };
    });
}

function unpack(ipk: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bitmesh-ipk-'));
  tar('-xzf', ipk, '-C', dir);
  for (const part of ['control', 'data']) {
    execFileSync('mkdir', ['-p', path.join(dir, part)]);
    tar('-xzf', path.join(dir, `${part}.tar.gz`), '-C', path.join(dir, part));
  }
  return dir;
}

describe('make ipk', () => {
  let out: string;
  let dir: string;
  beforeAll(() => {
    out = mkdtempSync(path.join(tmpdir(), 'bitmesh-ipk-out-'));
    build(out);
    dir = unpack(path.join(out, IPK));
  });

  it(`names the files <pkg>_<version>-r<N>_all.ipk, version from package.json, valid for apk`, () => {
    expect(readdirSync(out).sort()).toEqual([IPK, LUCI_IPK].sort());
    expect(`${VERSION}-r1`).toMatch(/^\d+\.\d+\.\d+-r\d+$/);
    for (const pkg of ['bitmesh', 'luci-app-bitmesh']) {
      const mk = readFileSync(path.join(ROOT, 'packages-openwrt', pkg, 'Makefile'), 'utf8');
      expect(mk).toMatch(new RegExp(`^PKG_VERSION:=${VERSION.replace(/\./g, '\\.')}$`, 'm'));
      expect(mk).toMatch(/^PKG_RELEASE:=\d+$/m);
      expect(mk).toMatch(/^\s*PKGARCH:=all$/m);
    }
  });

  it('is a gzip-compressed GNU-readable tar (not ar) of debian-binary, data.tar.gz, control.tar.gz', () => {
    const bytes = readFileSync(path.join(out, IPK));
    expect([...bytes.subarray(0, 2)]).toEqual([0x1f, 0x8b]);
    expect(bytes.subarray(0, 7).toString('latin1')).not.toBe('!<arch>');
    expect(listing(path.join(out, IPK)).map((e) => e.name)).toEqual(['./debian-binary', './data.tar.gz', './control.tar.gz']);
    expect(readFileSync(path.join(dir, 'debian-binary'), 'utf8')).toBe('2.0\n');
  });

  it('control: the fields opkg reads', () => {
    const control = readFileSync(path.join(dir, 'control/control'), 'utf8');
    const field = (k: string) => new RegExp(`^${k}: (.*)$`, 'm').exec(control)?.[1];
    expect(field('Package')).toBe('bitmesh');
    expect(field('Version')).toBe(`${VERSION}-r1`);
    expect(field('Architecture')).toBe('all');
    expect(field('Depends')).toBe('libc, node, nftables-json, batctl-default, kmod-batman-adv');
    expect(field('License')).toBe('MIT');
    expect(field('Section')).toBe('net');
    expect(field('SourceDateEpoch')).toBe('1700000000');
    expect(Number(field('Installed-Size'))).toBeGreaterThan(100_000);
    expect(control).toMatch(/^Description: .+\n( .+\n)+$/m);
    expect(readFileSync(path.join(dir, 'control/conffiles'), 'utf8')).toBe('/etc/config/bitmesh\n');
  });

  it('data: files as on the router, owned by 0:0, with the $(INSTALL_*) modes', () => {
    const data = listing(path.join(dir, 'data.tar.gz'));
    const byName = new Map(data.map((e) => [e.name, e]));
    expect(new Set(data.map((e) => e.owner))).toEqual(new Set(['0/0']));
    const expected: [string, string][] = [
      ['./usr/lib/bitmesh/bitmesh.js', '-rw-r--r--'],
      ['./usr/bin/bitmesh', '-rwxr-xr-x'],
      ['./etc/init.d/bitmesh', '-rwxr-xr-x'],
      ['./etc/config/bitmesh', '-rw-------'],
      ['./etc/uci-defaults/90-bitmesh', '-rwxr-xr-x'],
      ['./usr/share/bitmesh/fw4-hook.sh', '-rwxr-xr-x'],
      ['./lib/upgrade/keep.d/bitmesh', '-rw-r--r--'],
      ['./etc/init.d/', 'drwxr-xr-x'],
    ];
    for (const [name, mode] of expected) expect(byName.get(name)?.mode, name).toBe(mode);
    expect(data.filter((e) => e.mode.startsWith('d')).every((e) => e.mode === 'drwxr-xr-x')).toBe(true);
    expect(readFileSync(path.join(dir, 'data/usr/lib/bitmesh/bitmesh.js')).equals(readFileSync(path.join(ROOT, 'dist/bitmesh.js')))).toBe(true);
    expect(readFileSync(path.join(dir, 'data/lib/upgrade/keep.d/bitmesh'), 'utf8')).toBe('/etc/bitmesh/\n');
  });

  it('the shipped /etc/config/bitmesh is valid for the agent and sets router settings', async () => {
    const c = await loadConfig(path.join(dir, 'data/etc/config/bitmesh'));
    expect(c.agent.logTarget).toBe('syslog');
    expect(c.agent.stateDir).toBe('/etc/bitmesh');
    expect(c.mesh.interface).toEqual(['bat0']);
  });

  it('maintainer scripts: OpenWrt wrappers, the package part guarded by IPKG_INSTROOT, all valid sh', () => {
    const control = listing(path.join(dir, 'control.tar.gz'));
    const modes = new Map(control.map((e) => [e.name, e.mode]));
    for (const s of ['postinst', 'prerm', 'postinst-pkg', 'prerm-pkg']) {
      expect(modes.get(`./${s}`), s).toBe('-rwxr-xr-x');
      const text = readFileSync(path.join(dir, 'control', s), 'utf8');
      expect(text.startsWith('#!/bin/sh\n')).toBe(true);
      expect(text).toContain('IPKG_INSTROOT');
      expect(text).not.toContain('$$'); // Makefile escaping undone
      execFileSync('sh', ['-n', path.join(dir, 'control', s)]);
    }
    expect(readFileSync(path.join(dir, 'control/postinst'), 'utf8')).toContain('default_postinst "$0" "$@"');
    expect(readFileSync(path.join(dir, 'control/prerm'), 'utf8')).toContain('default_prerm "$0" "$@"');
    // The package's own part does nothing to the host while an image is built.
    for (const s of ['postinst-pkg', 'prerm-pkg']) {
      expect(readFileSync(path.join(dir, 'control', s), 'utf8')).toMatch(/if \[ -z "\$\{IPKG_INSTROOT\}" \]; then\n[\s\S]*\nfi\nexit 0\n$/);
    }
  });

  it('running postinst-pkg with IPKG_INSTROOT set touches nothing and exits 0', () => {
    const root = mkdtempSync(path.join(tmpdir(), 'bitmesh-instroot-'));
    const trace = path.join(root, 'trace');
    const bin = path.join(root, 'bin');
    execFileSync('mkdir', ['-p', bin]);
    for (const cmd of ['mkdir', 'chmod', 'logger', 'uci']) {
      writeFileSync(path.join(bin, cmd), `#!/bin/sh\necho ${cmd} "$@" >>${trace}\n`, { mode: 0o755 });
    }
    for (const s of ['postinst-pkg', 'prerm-pkg']) {
      execFileSync('sh', [path.join(dir, 'control', s)], { env: { PATH: `${bin}:/usr/bin:/bin`, IPKG_INSTROOT: root } });
    }
    expect(existsSync(trace)).toBe(false);
  });

  it('is reproducible: the same tree gives the same bytes', () => {
    const again = mkdtempSync(path.join(tmpdir(), 'bitmesh-ipk-again-'));
    build(again);
    expect(readFileSync(path.join(again, IPK)).equals(readFileSync(path.join(out, IPK)))).toBe(true);
  });

  it('luci-app-bitmesh: view, menu, ACL and an executable rpcd plugin', () => {
    const luci = unpack(path.join(out, LUCI_IPK));
    const data = new Map(listing(path.join(luci, 'data.tar.gz')).map((e) => [e.name, e.mode]));
    expect(data.get('./www/luci-static/resources/view/bitmesh/status.js')).toBe('-rw-r--r--');
    expect(data.get('./usr/libexec/rpcd/luci.bitmesh')).toBe('-rwxr-xr-x');
    const menu = JSON.parse(readFileSync(path.join(luci, 'data/usr/share/luci/menu.d/luci-app-bitmesh.json'), 'utf8'));
    expect(menu['admin/status/bitmesh'].action).toEqual({ type: 'view', path: 'bitmesh/status' });
    const acl = JSON.parse(readFileSync(path.join(luci, 'data/usr/share/rpcd/acl.d/luci-app-bitmesh.json'), 'utf8'));
    expect(acl['luci-app-bitmesh'].read.ubus['luci.bitmesh']).toEqual(['overview']);
    expect(readFileSync(path.join(luci, 'control/control'), 'utf8')).toMatch(/^Depends: libc, luci-base, rpcd, bitmesh$/m);
  });
});
