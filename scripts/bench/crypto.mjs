#!/usr/bin/env node
// Native helper vs noble, side by side, in one run:
//   node scripts/bench/crypto.mjs [--helper PATH] [--quick]
// or from run.mjs: `const r = await cryptoBench(); printCryptoBench(r);`
// Builds the helper with make when no path is given, bundles src/crypto with esbuild
// (so it runs on plain Node), and prints rates and helper/noble ratios.
// Goals (issue 6): Schnorr verify in batches >= 20x noble; a 2^20 chain in <= 0.5 s.
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

function helperPath(helperArg) {
  if (helperArg) return helperArg;
  const src = join(root, 'packages-openwrt/bitmesh-helper/src');
  execFileSync('make', ['-s', '-C', src, 'bitmesh-helper'], { stdio: 'inherit' });
  return join(src, 'bitmesh-helper');
}

async function loadCrypto() {
  const entry = ['crypto/helper-client', 'crypto/helper-async-backend', 'crypto/noble', 'crypto/select-backend', 'agent/commitment-crypto', 'chain/testing/fixtures']
    .map((m) => `export * from ${JSON.stringify(join(root, 'src', `${m}.ts`))};`)
    .join('\n');
  const out = await build({
    stdin: { contents: entry, resolveDir: root, loader: 'ts' },
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
  });
  const dir = mkdtempSync(join(tmpdir(), 'bm-bench-'));
  const file = join(dir, 'crypto.mjs');
  writeFileSync(file, out.outputFiles[0].text);
  try {
    return await import(pathToFileURL(file).href);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const now = () => performance.now();
const rate = (n, ms) => (n * 1000) / ms;
const fmt = (x) => (x >= 100 ? Math.round(x).toLocaleString('en-US') : x.toFixed(2));

/** Runs every comparison; `helper` is a binary path (default: build it with make). */
export async function cryptoBench({ helper: helperArg, quick = false } = {}) {
  const path = helperPath(helperArg);
  const lib = await loadCrypto();
  const { HelperClient, nobleBackend, hashChainSync } = lib;
  const helper = HelperClient.spawn(path, { timeoutMs: 60_000 });
  const info = await helper.info();
  const rows = [];
  const row = (what, helperV, nobleV, unit) => rows.push({ what, helper: helperV, noble: nobleV, unit });

  // Distinct keys and messages, signed by the helper (noble would take a while).
  const K = 256;
  const keys = [];
  for (let i = 0; i < K; i++) {
    const sk = new Uint8Array(32);
    crypto.getRandomValues(sk);
    sk[0] = 1; // below the curve order
    keys.push(sk);
  }
  const msgs = keys.map(() => crypto.getRandomValues(new Uint8Array(32)));
  const pubs = await Promise.all(keys.map((sk) => helper.schnorrPublicKey(sk)));
  const sigs = await Promise.all(keys.map((sk, i) => helper.schnorrSign(msgs[i], sk, new Uint8Array(32))));
  const items = (n) => Array.from({ length: n }, (_, i) => ({ sig: sigs[i % K], msg: msgs[i % K], publicKeyX: pubs[i % K] }));

  // noble: a fixed number of verifies, after a short warm-up.
  const nobleN = quick ? 100 : 400;
  for (const it of items(20)) nobleBackend.schnorrVerify(it.sig, it.msg, it.publicKeyX);
  let t = now();
  for (const it of items(nobleN)) nobleBackend.schnorrVerify(it.sig, it.msg, it.publicKeyX);
  const nobleVerify = rate(nobleN, now() - t);

  for (const batch of quick ? [1, 64, 1024] : [1, 16, 64, 256, 1024, 4096]) {
    const rounds = Math.max(1, Math.floor((quick ? 2048 : 16384) / batch));
    const list = items(batch);
    await helper.schnorrVerifyBatch(list);
    t = now();
    let ok = 0;
    for (let r = 0; r < rounds; r++) ok += (await helper.schnorrVerifyBatch(list)).filter(Boolean).length;
    const ms = now() - t;
    if (ok !== rounds * batch) throw new Error('helper rejected a valid signature');
    row(`schnorr verify, batch ${batch}`, rate(rounds * batch, ms), nobleVerify, 'verifies/s');
  }

  // ECDSA verify in batches of 1024.
  const ecdsaSk = keys.slice(0, 64);
  const ecdsaSigs = await Promise.all(ecdsaSk.map((sk, i) => helper.ecdsaSign(msgs[i], sk)));
  const { getPublicKey } = await import('@noble/secp256k1');
  const ecdsaPubs = ecdsaSk.map((sk) => getPublicKey(sk, true));
  const eItems = Array.from({ length: 1024 }, (_, i) => [ecdsaSigs[i % 64], msgs[i % 64], ecdsaPubs[i % 64]]);
  t = now();
  for (const [s, m, p] of eItems.slice(0, nobleN)) nobleBackend.ecdsaVerify(s, m, p);
  const nobleEcdsa = rate(nobleN, now() - t);
  t = now();
  for (let r = 0; r < (quick ? 2 : 8); r++) await Promise.all(eItems.map(([s, m, p]) => helper.ecdsaVerify(s, m, p)));
  row('ecdsa verify, batch 1024', rate((quick ? 2 : 8) * 1024, now() - t), nobleEcdsa, 'verifies/s');

  // SHA-256 of 32-byte inputs, batched.
  const shaN = quick ? 20_000 : 100_000;
  const shaIn = Array.from({ length: 1024 }, (_, i) => Uint8Array.of(i & 255, i >> 8, ...new Uint8Array(30)));
  t = now();
  for (let i = 0; i < shaN; i++) nobleBackend.sha256(shaIn[i & 1023]);
  const nobleSha = rate(shaN, now() - t);
  t = now();
  for (let done = 0; done < shaN; done += 1024) await Promise.all(shaIn.map((d) => helper.sha256(d)));
  row('sha256 32 B, batch 1024', rate(Math.ceil(shaN / 1024) * 1024, now() - t), nobleSha, 'hashes/s');

  // Hash chain of 2^20: time to the anchor (lower is better; ratio printed as noble/helper).
  const seed = crypto.getRandomValues(new Uint8Array(32));
  const chainLen = 1 << 20;
  await helper.hashChain(seed, 1024, 0);
  t = now();
  const h = await helper.hashChain(seed, chainLen, 0);
  const helperChain = now() - t;
  t = now();
  const hc = await helper.hashChain(seed, chainLen, 1024);
  const helperChainCp = now() - t;
  t = now();
  const n = hashChainSync(seed, chainLen, 0);
  const nobleChain = now() - t;
  if (Buffer.compare(h.anchor, n.anchor) !== 0 || Buffer.compare(hc.anchor, n.anchor) !== 0) {
    throw new Error('chain anchors differ');
  }

  await commitPathBench(lib, helper, row, quick);
  await helper.close();
  return { path, info, rows, helperChain, helperChainCp, nobleChain };
}

/**
 * COMMITs through the agent's channel path (src/agent/commitment-crypto.ts), sighash
 * included: the payee checking a COMMIT ahead on the helper vs inline on noble (what the
 * machine did before), and the payer taking a state pre-signed on the helper vs signing
 * inline on noble, one commit after the other as a paying client does.
 */
async function commitPathBench(lib, helper, row, quick) {
  const { AsyncCrypto, CommitmentCrypto, crypto: sync, testTerms } = lib;
  const { terms, payer } = testTerms(100_000n);
  const random = (n) => globalThis.crypto.getRandomValues(new Uint8Array(n));
  const onHelper = new AsyncCrypto({ backend: 'helper', reason: 'bench', helper });
  const cc = (backend, presignAhead = 4) => new lib.CommitmentCrypto({ backend: () => backend, crypto: sync, random, presignAhead });
  const TICK = 1600n;
  const n = quick ? 40 : 120;
  const states = Array.from({ length: n }, (_, i) => {
    const paid = BigInt(i + 1) * TICK;
    return { paid, sig: cc(onHelper).sign('x', terms, paid, payer.sk) };
  });
  const settle = () => new Promise((r) => setImmediate(r));

  // Payee: each COMMIT as it arrives (one at a time), then the machine's verify.
  let c = cc(onHelper);
  let t = now();
  for (const s of states) {
    await c.checkAhead('ch', terms, s.paid, s.sig);
    if (!c.verify('ch', terms, s.paid, s.sig)) throw new Error('helper path refused a valid COMMIT');
  }
  const helperCheck = rate(n, now() - t);
  c = cc(onHelper);
  t = now();
  for (const s of states) if (!c.verify('ch', terms, s.paid, s.sig)) throw new Error('noble refused a valid COMMIT');
  const nobleCheck = rate(n, now() - t);
  row('COMMIT check, channel path (sighash + verify)', helperCheck, nobleCheck, 'commits/s');

  // Payer: presign after each step, the next step takes it (one tick per commit).
  c = cc(onHelper, 1);
  t = now();
  for (let k = 0; k < n; k++) {
    c.presign('ch', terms, payer.sk, { paidTicks: k, committedMsat: BigInt(k) * TICK, tickMsat: TICK, capacitySat: 100_000n });
    // The bytes of the next tick arrive meanwhile on a real link; here, just the answer.
    while (c.stats.presigned.helper + c.stats.errors <= k) await settle();
    c.sign('ch', terms, BigInt(k + 1) * TICK, payer.sk);
  }
  const helperSign = rate(n, now() - t);
  const hits = c.stats.presignHits;
  c = cc(onHelper, 0);
  t = now();
  for (let k = 0; k < n; k++) c.sign('ch', terms, BigInt(k + 1) * TICK, payer.sk);
  const nobleSign = rate(n, now() - t);
  row(`COMMIT sign, channel path (pre-signed ${hits}/${n})`, helperSign, nobleSign, 'commits/s');
}

export function printCryptoBench({ path, info, rows, helperChain, helperChainCp, nobleChain }) {
  console.log(`bitmesh-helper ${path} (protocol ${info.protocolVersion}, sha256 ${info.hardwareSha256 ? 'hardware' : 'portable'}); node ${process.version}; ${process.arch}`);
  console.log('');
  console.log('| operation | helper | noble | unit | helper / noble |');
  console.log('|---|---:|---:|---|---:|');
  for (const r of rows) console.log(`| ${r.what} | ${fmt(r.helper)} | ${fmt(r.noble)} | ${r.unit} | ${(r.helper / r.noble).toFixed(1)}x |`);
  console.log(`| chain of 2^20, anchor only | ${helperChain.toFixed(0)} | ${nobleChain.toFixed(0)} | ms | ${(nobleChain / helperChain).toFixed(1)}x faster |`);
  console.log(`| chain of 2^20, checkpoint every 1024 | ${helperChainCp.toFixed(0)} | - | ms | |`);
  console.log('');
  const best = Math.max(...rows.filter((r) => r.what.startsWith('schnorr')).map((r) => r.helper / r.noble));
  console.log(`goal schnorr verify >= 20x in batches: ${best >= 20 ? 'met' : 'NOT met'} (${best.toFixed(1)}x)`);
  console.log(`goal 2^20 chain <= 500 ms: ${helperChain <= 500 ? 'met' : 'NOT met'} (${helperChain.toFixed(0)} ms)`);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) {
  const args = process.argv.slice(2);
  const at = args.indexOf('--helper');
  cryptoBench({ helper: at >= 0 ? args[at + 1] : undefined, quick: args.includes('--quick') })
    .then(printCryptoBench)
    .catch((err) => {
      console.error(err);
      process.exit(1);
    });
}
