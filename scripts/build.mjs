// Bundles the agent and CLI into dist/bitmesh.js (node20, minified, sourcemap beside
// it), the one file a router runs, and the code routers never run (simulator, devchain
// server, the operator's console, node-wifi, those commands' definitions) into dist/bitmesh-dev.js, which
// bitmesh.js loads from beside itself only when a command or the config needs it. CommonJS output so the files run from any
// directory on a router without a package.json next to them.
//
// `node scripts/build.mjs --analyze` also prints what each file is made of.
import { build, analyzeMetafile } from 'esbuild';
import { readFile, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const pkg = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8'));

const DEV_FILE = 'bitmesh-dev.js';
/**
 * The modules that live in dist/bitmesh-dev.js, each with the name src/cli/bitmesh-dev.ts
 * exports its namespace under. The sources load each of them only with `import()`, so a
 * router, which has no bitmesh-dev.js, never needs them unless configured for a laptop's
 * features (the devchain backend, Wi-Fi scans through NetworkManager).
 */
export const DEV_MODULES = new Map([
  ['src/sim/run.ts', 'simRun'],
  ['src/sim/report-format.ts', 'simReportFormat'],
  ['src/chain/devchain/server.ts', 'devchainServer'],
  ['src/chain/devchain/cli.ts', 'devchainCli'],
  ['src/cli/operator/mgmt.ts', 'operatorMgmt'],
  ['src/cli/operator/fleet.ts', 'operatorFleet'],
  ['src/cli/dev-commands.ts', 'devCommands'],
  ['src/mesh/linkquality/wifi-source.ts', 'wifiSource'],
  ['src/mesh/survey/wifi-survey.ts', 'wifiSurvey'],
  ['node-wifi', 'nodeWifi'],
]);

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

/** The DEV_MODULES key of an import, if it names one. */
function devModuleOf(args) {
  if (DEV_MODULES.has(args.path)) return args.path;
  if (!args.path.startsWith('.')) return undefined;
  const rel = path.relative(ROOT, path.resolve(args.resolveDir, args.path)).replace(/\.js$/, '.ts');
  return DEV_MODULES.has(rel) ? rel : undefined;
}

/**
 * In dist/bitmesh.js, `import('…/sim/run.js')` and the like become a two-line module
 * that takes that module's namespace from ./bitmesh-dev.js, required from beside the
 * bundle wherever it is installed. A static import of a dev-only module fails the build:
 * it would make every start of the agent need the development file.
 */
const DEV_LOADER = 'bitmesh-dev-loader';
const devSplit = {
  name: 'bitmesh-dev-split',
  setup(b) {
    b.onResolve({ filter: /^\.\/bitmesh-dev\.js$/, namespace: 'bitmesh-dev' }, () => ({ path: `./${DEV_FILE}`, external: true }));
    b.onResolve({ filter: new RegExp(`^${DEV_LOADER}$`), namespace: 'bitmesh-dev' }, () => ({ path: DEV_LOADER, namespace: 'bitmesh-dev' }));
    b.onResolve({ filter: /.*/ }, (args) => {
      const key = devModuleOf(args);
      if (key === undefined) return undefined;
      if (args.kind !== 'dynamic-import') {
        return { errors: [{ text: `${args.importer} imports ${key} statically; it lives in ${DEV_FILE}, so load it with import() (scripts/build.mjs DEV_MODULES)` }] };
      }
      return { path: key, namespace: 'bitmesh-dev' };
    });
    b.onLoad({ filter: /.*/, namespace: 'bitmesh-dev' }, (args) => ({
      loader: 'js',
      resolveDir: ROOT,
      contents:
        args.path === DEV_LOADER
          ? `import { LocalError } from './src/core/errors.ts';
export function devModule(name) {
  let dev;
  try {
    dev = require('./${DEV_FILE}');
  } catch (e) {
    if (e?.code !== 'MODULE_NOT_FOUND' || !String(e.message).includes('${DEV_FILE}')) throw e;
    throw new LocalError('dev_file_missing', ${JSON.stringify(`this needs ${DEV_FILE} (simulator, devchain server, operator console, node-wifi) beside bitmesh.js; the OpenWrt package ships bitmesh.js alone`)});
  }
  return dev[name];
}
`
          : `module.exports = require('${DEV_LOADER}').devModule('${DEV_MODULES.get(args.path)}');\n`,
    }));
  },
};

const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  minify: true,
  sourcemap: true,
  // Non-ASCII stays escaped (esbuild's default charset): V8 then keeps the source as a
  // one-byte string, half the memory of the two-byte string raw UTF-8 would need.
  charset: 'ascii',
  legalComments: 'none',
  define: { __BITMESH_VERSION__: JSON.stringify(pkg.version) },
  metafile: true,
  logLevel: 'warning',
  absWorkingDir: ROOT,
};

const [agent, dev] = await Promise.all([
  build({
    ...common,
    entryPoints: ['src/cli/bitmesh.ts'],
    outfile: 'dist/bitmesh.js',
    banner: { js: '#!/usr/bin/env node' },
    plugins: [devSplit, cborPureJs],
  }),
  build({
    ...common,
    entryPoints: ['src/cli/bitmesh-dev.ts'],
    outfile: `dist/${DEV_FILE}`,
    plugins: [cborPureJs],
  }),
]);

// The two halves must agree: every dev-only module is exported by the dev file under
// its name, and none of them is also inside bitmesh.js.
// (esbuild lists a CommonJS file's export names in the `0&&(module.exports={…})` line it
// writes for Node's cjs-module-lexer.)
const lexerLine = /0&&\(module\.exports=\{([\w$,]*)\}\)/.exec(await readFile(path.join(ROOT, 'dist', DEV_FILE), 'utf8'));
const devExports = new Set(lexerLine?.[1].split(','));
const missing = [...DEV_MODULES].filter(([, name]) => !devExports.has(name));
if (missing.length) throw new Error(`src/cli/bitmesh-dev.ts does not export ${missing.map(([m, n]) => `${n} (${m})`).join(', ')}`);
const inAgent = Object.keys(agent.metafile.inputs).filter((i) => DEV_MODULES.has(i) || i.startsWith('node_modules/node-wifi/'));
if (inAgent.length) throw new Error(`dist/bitmesh.js contains dev-only modules: ${inAgent.join(', ')}`);

// The repo is an ES-module package; the bundles are CommonJS, as they are on the router.
await writeFile(path.join(ROOT, 'dist/package.json'), '{ "type": "commonjs" }\n');
for (const [file, result] of [['dist/bitmesh.js', agent], [`dist/${DEV_FILE}`, dev]]) {
  const { size } = await stat(path.join(ROOT, file));
  console.log(`${file} ${(size / 1024).toFixed(1)} KiB (${size} bytes)`);
  if (process.argv.includes('--analyze')) console.log(await analyzeMetafile(result.metafile));
}
