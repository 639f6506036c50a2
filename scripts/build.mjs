// Bundles the agent and CLI into one file, dist/bitmesh.js (node20, minified,
// sourcemap beside it). CommonJS output so the file runs from any directory on a
// router without a package.json next to it.
import { build } from 'esbuild';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';

const require = createRequire(import.meta.url);
const pkg = JSON.parse(await readFile(new URL('../package.json', import.meta.url), 'utf8'));

// cbor-x's Node entry tries to load the optional native `cbor-extract` addon; the
// router gets the pure-JS build instead (one file, no native code to cross-compile).
const cborPureJs = {
  name: 'cbor-x-pure-js',
  setup(b) {
    b.onResolve({ filter: /^cbor-x$/ }, () => ({
      path: path.join(path.dirname(require.resolve('cbor-x/package.json')), 'index.js'),
    }));
  },
};

const result = await build({
  entryPoints: ['src/cli/bitmesh.ts'],
  outfile: 'dist/bitmesh.js',
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  legalComments: 'none',
  banner: { js: '#!/usr/bin/env node' },
  define: { __BITMESH_VERSION__: JSON.stringify(pkg.version) },
  plugins: [cborPureJs],
  metafile: true,
  logLevel: 'warning',
});

// The repo is an ES-module package; the bundle is CommonJS, as it is on the router.
await writeFile('dist/package.json', '{ "type": "commonjs" }\n');
const { size } = await stat('dist/bitmesh.js');
console.log(`dist/bitmesh.js ${(size / 1024).toFixed(1)} KiB (${size} bytes)`);
if (process.argv.includes('--analyze')) {
  const { analyzeMetafile } = await import('esbuild');
  console.log(await analyzeMetafile(result.metafile));
}
