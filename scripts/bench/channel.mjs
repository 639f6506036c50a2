// Payment-channel figures, measured side by side in one run: ticks verified per
// second (decode + one SHA-256 each), commitments signed and verified per second
// (real Taproot sighash + BIP340), a 2^20 hash chain, and the payment bytes on the
// wire per MiB served at the default 16 KiB tick.
import { build } from 'esbuild';
import { mkdtemp } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';

async function load() {
  const out = path.join(await mkdtemp(path.join(tmpdir(), 'bitmesh-bench-')), 'channel.cjs');
  await build({
    stdin: {
      contents: `
        export { WireCodec } from './src/core/wire/codec.ts';
        export { buildChain, verifyReveal, ChainBuilder } from './src/core/channel/hash-chain.ts';
        export { Crypto } from './src/crypto/facade.ts';
        export { channelFunding } from './src/chain/funding.ts';
        export { signCommitment, verifyCommitment } from './src/chain/commitment.ts';
        export { walletKey } from './src/chain/wallet-key.ts';`,
      resolveDir: process.cwd(),
      loader: 'ts',
    },
    bundle: true, platform: 'node', format: 'cjs', outfile: out, logLevel: 'error',
  });
  return createRequire(import.meta.url)(out);
}

function rate(fn, minMs = 1500) {
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < minMs) {
    fn(n);
    n++;
  }
  return (n * 1000) / (performance.now() - t0);
}

export async function channelBench() {
  const m = await load();
  const crypto = new m.Crypto();
  const sha = (b) => crypto.sha256(b);
  const codec = new m.WireCodec();

  // Ticks: the payee's work per TICK = decode the datagram + one SHA-256.
  const chain = m.buildChain(new Uint8Array(32).fill(3), 1 << 16, sha);
  const channelId = new Uint8Array(32).fill(9);
  const ticks = Array.from({ length: 4096 }, (_, i) =>
    codec.encodeEnvelope('TICK', codec.encodeBody('TICK', { channelId, index: i + 1, preimage: chain.element(i + 1) })),
  );
  const ticksPerS = rate((n) => {
    const i = n % 4096;
    const d = codec.decode(ticks[i]);
    const known = { index: i, element: chain.element(i) };
    if (!d.ok || m.verifyReveal(sha, known, i + 1, d.value.message.body.preimage)) throw new Error('tick failed');
  });

  // Commitments: payer signs, payee verifies, the real Taproot construction.
  const payerSk = new Uint8Array(32).fill(1);
  const payeeSk = new Uint8Array(32).fill(2);
  const funding = m.channelFunding({
    payerX: crypto.schnorrPublicKey(payerSk),
    payeeX: crypto.schnorrPublicKey(payeeSk),
    expiryHeight: 1000,
    network: 'regtest',
  });
  const terms = {
    funding,
    fundingOutpoint: { txid: 'ab'.repeat(32), vout: 0 },
    capacitySat: 100_000n,
    payerScript: m.walletKey(crypto, payerSk, 'regtest').script,
  };
  const states = [];
  const signPerS = rate((n) => states.push(m.signCommitment(crypto, terms, BigInt((n + 1) * 1000), payerSk, new Uint8Array(32))), 2000);
  const verifyPerS = rate((n) => {
    if (!m.verifyCommitment(crypto, terms, states[n % states.length])) throw new Error('verify failed');
  }, 2000);

  // A 2^20 chain, built in the chunks the agent uses.
  const t0 = performance.now();
  const b = new m.ChainBuilder(new Uint8Array(32).fill(4), 1 << 20, sha);
  while (!b.step(4096).done);
  b.finish();
  const chainMs = performance.now() - t0;

  // Payment bytes on the wire per MiB served (UDP/IP headers included: 28 bytes each).
  const tickBytes = ticks[0].length + 28;
  const sampleCommit = codec.encodeEnvelope('COMMIT', codec.encodeBody('COMMIT', { channelId, seq: 1000, paidMsat: 1_600_000, sig: new Uint8Array(64) }));
  const perMiB = (priceMsatPerKiB) => {
    const ticksPerMiB = 1024 / 16;
    // A COMMIT each time the owed amount crosses a whole sat.
    const commitsPerMiB = (1024 * priceMsatPerKiB) / 1000;
    return ticksPerMiB * tickBytes + Math.min(ticksPerMiB, commitsPerMiB) * (sampleCommit.length + 28);
  };
  return { ticksPerS, signPerS, verifyPerS, chainMs, tickBytes, paymentBytesPerMiB100: perMiB(100), paymentBytesPerMiB1000: perMiB(1000) };
}

export function printChannelBench(r, line) {
  line('ticks verified (decode + 1 SHA-256)', `${Math.round(r.ticksPerS).toLocaleString('en')}/s`);
  line('commitments signed (Taproot sighash + BIP340)', `${Math.round(r.signPerS)}/s`);
  line('commitments verified', `${Math.round(r.verifyPerS)}/s`);
  line('hash chain of 2^20, noble, in 4096-hash chunks', `${(r.chainMs / 1000).toFixed(2)} s`);
  line('payment bytes per MiB if every 16 KiB tick went alone', `${Math.round(r.paymentBytesPerMiB100)} B (one TICK + one COMMIT per tick, the worst case)`);
}
