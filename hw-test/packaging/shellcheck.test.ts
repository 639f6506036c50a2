// Every shell script in the repository passes shellcheck: files with a sh/bash shebang,
// *.sh, and the postinst/prerm bodies inside the feed's Makefiles.
import { execFileSync, spawnSync } from 'node:child_process';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(import.meta.dirname, '../..');
const SKIP_DIRS = new Set(['node_modules', '.git', 'dist']);
const SHEBANG = /^#!\s*(\/bin\/(ba|a|da)?sh|\/usr\/bin\/env\s+(ba|a|da)?sh)\b/;

function walk(dir: string, out: string[] = []): string[] {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (SKIP_DIRS.has(e.name)) continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.isFile()) {
      if (e.name.endsWith('.sh')) out.push(p);
      else if (!/\.(ts|js|mjs|json|md|c|h|bin|txt|png|csv)$/.test(e.name)) {
        const head = readFileSync(p).subarray(0, 64).toString('latin1');
        if (SHEBANG.test(head)) out.push(p);
      }
    }
  }
  return out;
}

const scripts = walk(ROOT).sort();
const makefiles = ['bitmesh', 'luci-app-bitmesh'].map((p) => path.join(ROOT, 'packages-openwrt', p, 'Makefile'));
const have = spawnSync('shellcheck', ['--version']).status === 0;
if (!have) console.warn('SKIPPED (shellcheck is not installed: apt-get install shellcheck)');

describe.skipIf(!have)('shellcheck', () => {
  it('finds the packaging scripts', () => {
    const rel = scripts.map((s) => path.relative(ROOT, s));
    for (const s of ['packages-openwrt/bitmesh/files/bitmesh.init', 'packages-openwrt/bitmesh/files/bitmesh.uci-defaults', 'packages-openwrt/bitmesh/files/fw4-hook.sh', 'packages-openwrt/luci-app-bitmesh/root/usr/libexec/rpcd/luci.bitmesh']) {
      expect(rel).toContain(s);
    }
  });

  it.each(scripts.map((s) => [path.relative(ROOT, s), s]))('%s', (_rel, file) => {
    const r = spawnSync('shellcheck', ['--severity=style', file], { encoding: 'utf8' });
    expect(r.stdout + r.stderr).toBe('');
    expect(r.status).toBe(0);
  });

  it.each(makefiles.map((m) => [path.relative(ROOT, m), m]))('maintainer scripts in %s', (_rel, mk) => {
    const text = readFileSync(mk, 'utf8');
    const bodies = [...text.matchAll(/^define Package\/[^/\n]+\/(postinst|prerm|postrm|preinst)\n([\s\S]*?)^endef/gm)];
    expect(bodies.length).toBeGreaterThan(0);
    for (const [, , body] of bodies) {
      const out = execFileSync('sh', ['-c', 'shellcheck -s sh - || true'], { input: body!.replace(/\$\$/g, '$'), encoding: 'utf8' });
      expect(out).toBe('');
    }
  });
});
