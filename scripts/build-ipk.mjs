#!/usr/bin/env node
// `make ipk`: builds OpenWrt .ipk packages without the SDK, from the feed's own
// Makefiles (packages-openwrt/<pkg>/Makefile: version, depends, conffiles, the
// $(INSTALL_*) lines, postinst/prerm), so the SDK build and this one ship the same files.
//
// An .ipk as opkg reads it: a gzip'd tar (not an ar archive) of ./debian-binary ("2.0"),
// ./data.tar.gz and ./control.tar.gz. Every tar here is written by this file: ustar
// headers, owner and group 0, the modes $(INSTALL_*) gives (dir and bin 0755, data 0644,
// conf 0600), entries sorted, one fixed mtime (SOURCE_DATE_EPOCH, else the last commit's
// time), so the same tree gives the same bytes.
//
// Usage: node scripts/build-ipk.mjs [--out DIR] [--dist DIR] [--release N] [PKGDIR...]
//   PKGDIR defaults to packages-openwrt/bitmesh and packages-openwrt/luci-app-bitmesh;
//   --dist is where bitmesh.js is (dist/); --out where the .ipk files go (dist/).
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';

const ROOT = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..');

// ---- tar (ustar) ----

function octal(n, width) {
  return n.toString(8).padStart(width - 1, '0') + '\0';
}

function header(name, { mode, size, mtime, type }) {
  const h = Buffer.alloc(512);
  let prefix = '';
  let base = name;
  if (Buffer.byteLength(name) > 100) {
    const cut = name.lastIndexOf('/', name.length - 2);
    prefix = name.slice(0, cut);
    base = name.slice(cut + 1);
    if (Buffer.byteLength(base) > 100 || Buffer.byteLength(prefix) > 155) throw new Error(`tar: path too long: ${name}`);
  }
  h.write(base, 0, 100, 'utf8');
  h.write(octal(mode, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii'); // uid
  h.write(octal(0, 8), 116, 'ascii'); // gid
  h.write(octal(size, 12), 124, 'ascii');
  h.write(octal(mtime, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii'); // checksum counts as spaces while summing
  h.write(type, 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return h;
}

/** entries: { name, mode, data?: Buffer } (no data: a directory); written in the order given. */
export function tar(entries, mtime) {
  const parts = [];
  for (const e of entries) {
    const dir = e.data === undefined;
    const size = dir ? 0 : e.data.length;
    parts.push(header(e.name, { mode: e.mode, size, mtime, type: dir ? '5' : '0' }));
    if (!dir) {
      parts.push(e.data);
      if (size % 512) parts.push(Buffer.alloc(512 - (size % 512)));
    }
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}

const gzip = (buf) => gzipSync(buf, { level: 9 });

// ---- the OpenWrt package Makefile ----

/** The body of `define NAME … endef`, or undefined. */
function defineBlock(text, name) {
  const re = new RegExp(`^define ${name.replace(/[/.+]/g, '\\$&')}\\n([\\s\\S]*?)^endef`, 'm');
  return re.exec(text)?.[1];
}

function variable(text, name) {
  return new RegExp(`^${name}:=(.*)$`, 'm').exec(text)?.[1]?.trim();
}

function makeUnescape(s) {
  return s.replace(/\$\$/g, '$');
}

export function readPackage(pkgDir) {
  const text = readFileSync(path.join(pkgDir, 'Makefile'), 'utf8');
  const name = variable(text, 'PKG_NAME');
  if (!name) throw new Error(`${pkgDir}/Makefile: no PKG_NAME`);
  const def = defineBlock(text, `Package/${name}`) ?? '';
  const field = (k) => new RegExp(`^\\s*${k}:=(.*)$`, 'm').exec(def)?.[1]?.trim();
  const depends = (field('DEPENDS') ?? '').split(/\s+/).filter(Boolean).map((d) => {
    if (!/^\+[A-Za-z0-9._-]+$/.test(d)) throw new Error(`${name}: cannot read dependency '${d}' (only +pkg)`);
    return d.slice(1);
  });
  const install = (defineBlock(text, `Package/${name}/install`) ?? '').split('\n').map((l) => l.trim()).filter(Boolean);
  return {
    dir: pkgDir,
    name,
    version: variable(text, 'PKG_VERSION'),
    release: variable(text, 'PKG_RELEASE'),
    license: variable(text, 'PKG_LICENSE') ?? '',
    maintainer: variable(text, 'PKG_MAINTAINER') ?? '',
    section: field('SECTION') ?? 'net',
    title: field('TITLE') ?? name,
    url: field('URL'),
    arch: field('PKGARCH') ?? 'all',
    depends,
    description: (defineBlock(text, `Package/${name}/description`) ?? '').split('\n').map((l) => l.trim()).filter(Boolean),
    conffiles: (defineBlock(text, `Package/${name}/conffiles`) ?? '').split('\n').map((l) => l.trim()).filter(Boolean),
    install,
    postinst: defineBlock(text, `Package/${name}/postinst`),
    prerm: defineBlock(text, `Package/${name}/prerm`),
  };
}

const MODES = { INSTALL_DIR: 0o755, INSTALL_BIN: 0o755, INSTALL_DATA: 0o644, INSTALL_CONF: 0o600 };

/** The files of $(1) as install lines put them: Map of './path' → { mode, data? }. */
export function installTree(pkg, distDir) {
  const tree = new Map();
  const addDir = (p) => {
    const parts = p.split('/').filter(Boolean);
    for (let i = 1; i <= parts.length; i++) tree.set(`./${parts.slice(0, i).join('/')}/`, { mode: 0o755 });
  };
  for (const line of pkg.install) {
    const m = /^\$\((INSTALL_DIR|INSTALL_BIN|INSTALL_DATA|INSTALL_CONF)\)\s+(.*)$/.exec(line);
    if (!m) throw new Error(`${pkg.name}: cannot read install line '${line}' (only $(INSTALL_*) lines)`);
    const args = m[2].split(/\s+/);
    if (m[1] === 'INSTALL_DIR') {
      for (const a of args) addDir(a.replace(/^\$\(1\)/, ''));
      continue;
    }
    if (args.length !== 2 || !args[1].startsWith('$(1)/')) throw new Error(`${pkg.name}: install line '${line}': expected SRC $(1)/DEST`);
    const src = args[0].startsWith('$(PKG_BUILD_DIR)/')
      ? path.join(distDir, args[0].slice('$(PKG_BUILD_DIR)/'.length))
      : path.join(pkg.dir, args[0]);
    let dest = args[1].slice('$(1)'.length);
    if (dest.endsWith('/')) dest += path.basename(src);
    addDir(path.posix.dirname(dest));
    tree.set(`.${dest}`, { mode: MODES[m[1]], data: readFileSync(src) });
  }
  return tree;
}

// OpenWrt's generated maintainer scripts: they run default_postinst / default_prerm from
// /lib/functions.sh (uci-defaults, enable + start / stop + disable of init scripts), which
// then run the package's own part, saved as postinst-pkg / prerm-pkg.
const POSTINST = `#!/bin/sh
[ "\${IPKG_NO_SCRIPT}" = "1" ] && exit 0
[ -s "\${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0
. "\${IPKG_INSTROOT}/lib/functions.sh"
default_postinst "$0" "$@"
`;
const PRERM = `#!/bin/sh
[ -s "\${IPKG_INSTROOT}/lib/functions.sh" ] || exit 0
. "\${IPKG_INSTROOT}/lib/functions.sh"
default_prerm "$0" "$@"
`;

export function controlFile(pkg, version, installedSize, epoch) {
  const deps = ['libc', ...pkg.depends];
  const lines = [
    `Package: ${pkg.name}`,
    `Version: ${version}`,
    `Depends: ${deps.join(', ')}`,
    `Source: packages-openwrt/${pkg.name}`,
    `SourceName: ${pkg.name}`,
    `License: ${pkg.license}`,
    `Section: ${pkg.section}`,
    `SourceDateEpoch: ${epoch}`,
    ...(pkg.url ? [`URL: ${pkg.url}`] : []),
    `Maintainer: ${pkg.maintainer}`,
    `Architecture: ${pkg.arch}`,
    `Installed-Size: ${installedSize}`,
    `Description: ${pkg.title}`,
    ...pkg.description.map((l) => ` ${l}`),
  ];
  return lines.join('\n') + '\n';
}

export function buildIpk(pkg, { distDir, release, epoch, expectVersion }) {
  if (!/^\d+\.\d+\.\d+$/.test(pkg.version ?? '')) throw new Error(`${pkg.name}: PKG_VERSION '${pkg.version}' is not x.y.z (apk needs it)`);
  if (expectVersion && pkg.version !== expectVersion) {
    throw new Error(`${pkg.name}: PKG_VERSION ${pkg.version} differs from package.json's ${expectVersion}`);
  }
  const rel = release ?? pkg.release;
  if (!/^\d+$/.test(rel ?? '')) throw new Error(`${pkg.name}: release '${rel}' is not a number`);
  const version = `${pkg.version}-r${rel}`;
  const tree = installTree(pkg, distDir);
  const names = ['./', ...[...tree.keys()].sort()];
  const data = tar(names.map((n) => (n === './' ? { name: n, mode: 0o755 } : { name: n, ...tree.get(n) })), epoch);
  const installedSize = [...tree.values()].reduce((a, e) => a + (e.data?.length ?? 0), 0);

  const control = [
    { name: './', mode: 0o755 },
    { name: './control', mode: 0o644, data: Buffer.from(controlFile(pkg, version, installedSize, epoch)) },
  ];
  if (pkg.conffiles.length) control.push({ name: './conffiles', mode: 0o644, data: Buffer.from(pkg.conffiles.join('\n') + '\n') });
  control.push({ name: './postinst', mode: 0o755, data: Buffer.from(POSTINST) });
  if (pkg.postinst) control.push({ name: './postinst-pkg', mode: 0o755, data: Buffer.from(makeUnescape(pkg.postinst)) });
  control.push({ name: './prerm', mode: 0o755, data: Buffer.from(PRERM) });
  if (pkg.prerm) control.push({ name: './prerm-pkg', mode: 0o755, data: Buffer.from(makeUnescape(pkg.prerm)) });

  const outer = tar(
    [
      { name: './debian-binary', mode: 0o644, data: Buffer.from('2.0\n') },
      { name: './data.tar.gz', mode: 0o644, data: gzip(data) },
      { name: './control.tar.gz', mode: 0o644, data: gzip(tar(control, epoch)) },
    ],
    epoch,
  );
  return { file: `${pkg.name}_${version}_${pkg.arch}.ipk`, bytes: gzip(outer) };
}

function sourceDateEpoch() {
  if (process.env.SOURCE_DATE_EPOCH && /^\d+$/.test(process.env.SOURCE_DATE_EPOCH)) return Number(process.env.SOURCE_DATE_EPOCH);
  try {
    return Number(execFileSync('git', ['-C', ROOT, 'log', '-1', '--format=%ct'], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim()) || 0;
  } catch {
    return 0;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === path.resolve(new URL(import.meta.url).pathname)) {
  const { values, positionals } = parseArgs({
    options: { out: { type: 'string' }, dist: { type: 'string' }, release: { type: 'string' } },
    allowPositionals: true,
  });
  const pkgDirs = positionals.length
    ? positionals.map((p) => path.resolve(p))
    : ['bitmesh', 'luci-app-bitmesh'].map((p) => path.join(ROOT, 'packages-openwrt', p));
  const distDir = path.resolve(values.dist ?? path.join(ROOT, 'dist'));
  const outDir = path.resolve(values.out ?? path.join(ROOT, 'dist'));
  const expectVersion = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version;
  const epoch = sourceDateEpoch();
  mkdirSync(outDir, { recursive: true });
  try {
    for (const dir of pkgDirs) {
      const { file, bytes } = buildIpk(readPackage(dir), { distDir, release: values.release, epoch, expectVersion });
      writeFileSync(path.join(outDir, file), bytes);
      console.log(`${path.relative(process.cwd(), path.join(outDir, file)) || file} ${(statSync(path.join(outDir, file)).size / 1024).toFixed(1)} KiB`);
    }
  } catch (e) {
    console.error(`build-ipk: ${e.message}`);
    process.exit(1);
  }
}
