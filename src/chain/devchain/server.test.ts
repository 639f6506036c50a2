// The devchain over real loopback HTTP, driven by the project's Esplora client.
import { mkdtempSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { EsploraClient } from '../esplora-client.js';
import { EsploraError } from '../esplora-error.js';
import { startDevchain } from './server.js';
import type { DevchainHandle } from './server.js';
import { mineBlocks, requestFaucet } from './control-client.js';
import { ensureDevchain, probeEsplora } from './ensure.js';
import { serveDevchain } from './cli.js';
import { STATE_FILE } from './store.js';
import { ChannelOutput, KeyPathWallet, testKey } from './test-wallet.js';
import { REGTEST } from './constants.js';
import { Address, OutScript } from '@scure/btc-signer';

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bitmesh-devchain-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

async function devchain(opts: Parameters<typeof startDevchain>[0] = {}): Promise<DevchainHandle> {
  const h = await startDevchain({ port: 0, ...opts });
  cleanups.push(() => h.close());
  return h;
}

const client = (url: string): EsploraClient => new EsploraClient({ baseUrl: url, timeoutMs: 5_000, retries: 1, backoffMs: 10 });

async function rejection(p: Promise<unknown>): Promise<EsploraError> {
  try {
    await p;
  } catch (e) {
    expect(e).toBeInstanceOf(EsploraError);
    return e as EsploraError;
  }
  throw new Error('expected an EsploraError');
}

const alice = new KeyPathWallet(testKey(1));
const bob = new KeyPathWallet(testKey(2));

describe('devchain over HTTP with the Esplora client', () => {
  it('end to end: faucet → utxo visible → signed spend → broadcast → unconfirmed → mine → confirmed', async () => {
    const dc = await devchain();
    const c = client(dc.url);
    expect(await c.tipHeight()).toBe(0);

    const funded = await requestFaucet(dc.url, alice.address, 100_000n);
    expect(funded.status).toEqual({ confirmed: false });
    const [utxo] = await c.addressUtxos(alice.address);
    expect(utxo).toMatchObject({ txid: funded.txid, valueSat: 100_000n, status: { confirmed: false } });

    const raw = alice.spend([utxo!], [{ script: bob.script, amount: 99_000n }]);
    const txid = await c.broadcast(hex.encode(raw));
    expect(await c.txStatus(txid)).toEqual({ confirmed: false });
    expect(await c.txHex(txid)).toBe(hex.encode(raw));
    expect(await c.txOutspend(funded.txid, 0)).toEqual({ spent: true, txid, vin: 0, status: { confirmed: false } });
    expect(await c.addressUtxos(alice.address)).toEqual([]); // spent in the mempool

    const tip = await mineBlocks(dc.url, 1);
    expect(tip.height).toBe(1);
    expect(await c.tipHash()).toBe(tip.hash);
    expect(await c.blockHashAtHeight(1)).toBe(tip.hash);
    expect(await c.blockHashAtHeight(2)).toBeNull();
    const st = await c.txStatus(txid);
    expect(st).toMatchObject({ confirmed: true, blockHeight: 1, blockHash: tip.hash });
    expect(await c.addressUtxos(bob.address)).toMatchObject([{ txid, vout: 0, valueSat: 99_000n, status: { confirmed: true, blockHeight: 1 } }]);
    expect((await c.feeEstimates()).get(6)).toBe(1);

    // GET /tx/:txid in Esplora's shape.
    const tx = (await (await fetch(`${dc.url}/tx/${txid}`)).json()) as Record<string, unknown>;
    expect(tx).toMatchObject({ txid, fee: 1_000, status: { confirmed: true, block_height: 1 } });
    expect((tx.vout as { scriptpubkey_address: string }[])[0]!.scriptpubkey_address).toBe(bob.address);
  });

  it('broadcast rejections come back as bitcoind-style errors the client parses', async () => {
    const dc = await devchain();
    const c = client(dc.url);
    const funded = await requestFaucet(dc.url, alice.address, 50_000n);
    const coin = { txid: funded.txid, vout: 0, valueSat: 50_000n };
    await c.broadcast(hex.encode(alice.spend([coin], [{ script: bob.script, amount: 49_000n }])));

    const dbl = await rejection(c.broadcast(hex.encode(alice.spend([coin], [{ script: alice.script, amount: 48_000n }]))));
    expect(dbl).toMatchObject({ code: 'broadcast_rejected', rpcCode: -26, reason: 'txn-mempool-conflict' });

    const missing = alice.spend([{ ...coin, vout: 7 }], [{ script: bob.script, amount: 1_000n }]);
    expect(await rejection(c.broadcast(hex.encode(missing)))).toMatchObject({ rpcCode: -25, reason: 'bad-txns-inputs-missingorspent' });

    expect(await rejection(c.broadcast('00'))).toMatchObject({ rpcCode: -22 });

    const res = await fetch(`${dc.url}/tx`, { method: 'POST', body: 'zz' });
    expect(res.status).toBe(400);
    expect(await res.text()).toBe('sendrawtransaction RPC error -22: TX decode failed. Make sure the tx has at least one input.');
  });

  it('a CLTV refund through the script path, tampered or early, is refused over HTTP; in time it confirms', async () => {
    const dc = await devchain();
    const c = client(dc.url);
    const ch = new ChannelOutput(testKey(10), testKey(11), testKey(12), 3);
    const chAddress = Address(REGTEST).encode(OutScript.decode(ch.script));
    const f = await requestFaucet(dc.url, chAddress, 30_000n, { mine: 3 });
    expect(f.status).toMatchObject({ confirmed: true, blockHeight: 1 });
    const coin = { txid: f.txid, vout: 0, valueSat: 30_000n };
    const flip = (w: Uint8Array[]): void => {
      const s = w[0]!.slice();
      s[10]! ^= 1;
      w[0] = s;
    };
    const bad = ch.spend(coin, [{ script: alice.script, amount: 29_000n }], 'B', { lockTime: 3, tamper: flip });
    expect((await rejection(c.broadcast(hex.encode(bad)))).reason).toBe('mandatory-script-verify-flag-failed (Invalid Schnorr signature)');
    const early = ch.spend(coin, [{ script: alice.script, amount: 29_000n }], 'B', { lockTime: 2 });
    expect((await rejection(c.broadcast(hex.encode(early)))).reason).toMatch(/Locktime requirement not satisfied/);
    const txid = await c.broadcast(hex.encode(ch.spend(coin, [{ script: alice.script, amount: 29_000n }], 'B', { lockTime: 3 })));
    await mineBlocks(dc.url);
    expect(await c.txStatus(txid)).toMatchObject({ confirmed: true, blockHeight: 4 });
  });

  it('two clients share one devchain', async () => {
    const dc = await devchain();
    const payer = client(dc.url);
    const payee = client(dc.url);
    const f = await requestFaucet(dc.url, alice.address, 20_000n, { mine: 1 });
    const txid = await payer.broadcast(hex.encode(alice.spend([{ txid: f.txid, vout: 0, valueSat: 20_000n }], [{ script: bob.script, amount: 19_500n }])));
    expect(await payee.txStatus(txid)).toEqual({ confirmed: false });
    expect(await payee.addressUtxos(bob.address)).toMatchObject([{ txid, valueSat: 19_500n }]);
    await mineBlocks(dc.url);
    expect(await payer.txStatus(txid)).toMatchObject({ confirmed: true });
    expect(await payee.tipHeight()).toBe(await payer.tipHeight());
  });

  it('answers junk requests with 4xx and keeps working', async () => {
    const dc = await devchain();
    const post = (path: string, body: string) => fetch(dc.url + path, { method: 'POST', body });
    expect((await post('/faucet', '{"address":"nope","amountSat":1}')).status).toBe(400);
    expect((await post('/faucet', `{"address":"${alice.address}","amountSat":-5}`)).status).toBe(400);
    expect((await post('/faucet', `{"address":"${alice.address}","amountSat":1000000000000}`)).status).toBe(400);
    expect((await post('/faucet', 'not json')).status).toBe(400);
    expect((await post('/mine', '{"blocks":0}')).status).toBe(400);
    expect((await post('/tx', 'ab'.repeat(600_000))).status).toBe(413);
    expect((await fetch(`${dc.url}/nope`)).status).toBe(404);
    expect((await fetch(`${dc.url}/address/xyz/utxo`)).status).toBe(400);
    expect((await fetch(`${dc.url}/tx/${'ab'.repeat(32)}/status`)).status).toBe(404);
    expect(await client(dc.url).txStatus('ab'.repeat(32))).toBeNull();
    expect(await client(dc.url).tipHeight()).toBe(0);
  });

  it('mines on a timer when configured', async () => {
    const dc = await devchain({ blockIntervalMs: 40 });
    const c = client(dc.url);
    await new Promise((r) => setTimeout(r, 250));
    expect(await c.tipHeight()).toBeGreaterThanOrEqual(2);
  });
});

describe('devchain persistence', () => {
  it('a restart keeps blocks, UTXOs, the mempool and the faucet', async () => {
    const dir = tempDir();
    const first = await startDevchain({ port: 0, stateDir: dir, storeMinIntervalMs: 50 });
    const f = await requestFaucet(first.url, alice.address, 40_000n, { mine: 2 });
    const pending = await client(first.url).broadcast(
      hex.encode(alice.spend([{ txid: f.txid, vout: 0, valueSat: 40_000n }], [{ script: bob.script, amount: 39_000n }])),
    );
    const tipBefore = await client(first.url).tipHash();
    await first.close();
    expect(JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8'))).toMatchObject({ format: 'bitmesh-devchain/1' });

    const second = await devchain({ stateDir: dir });
    const c = client(second.url);
    expect(await c.tipHash()).toBe(tipBefore);
    expect(await c.txStatus(pending)).toEqual({ confirmed: false });
    expect(await c.addressUtxos(bob.address)).toMatchObject([{ txid: pending, valueSat: 39_000n }]);
    expect(await c.txStatus(f.txid)).toMatchObject({ confirmed: true, blockHeight: 1 });
    await requestFaucet(second.url, bob.address, 1_000n); // faucet key survived
  });

  it('writes at a bounded rate while the chain changes', async () => {
    const dir = tempDir();
    const dc = await devchain({ stateDir: dir, storeMinIntervalMs: 10_000 });
    await mineBlocks(dc.url, 1);
    // The first write happens right away (new chain), later ones wait for the interval.
    await new Promise((r) => setTimeout(r, 100));
    const saved = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { blocks: unknown[] };
    await mineBlocks(dc.url, 3);
    await new Promise((r) => setTimeout(r, 100));
    const later = JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { blocks: unknown[] };
    expect(later.blocks.length).toBe(saved.blocks.length);
    await dc.close(); // close flushes
    expect((JSON.parse(readFileSync(join(dir, STATE_FILE), 'utf8')) as { blocks: unknown[] }).blocks.length).toBe(5);
  });
});

describe('ensureDevchain and the CLI', () => {
  it('starts a devchain when none answers, and reuses a running one', async () => {
    const probe = await devchain();
    const url = probe.url;
    await probe.close(); // free port we know nothing listens on now
    expect(await probeEsplora(url, 300)).toBe(false);
    const dir = tempDir();
    const a = await ensureDevchain(url, dir);
    cleanups.push(() => a.close());
    expect(a.started).toBe(true);
    const b = await ensureDevchain(url, dir);
    expect(b.started).toBe(false);
    expect(await client(url).tipHeight()).toBe(0);
  });

  it('refuses to start a devchain for a non-loopback URL', async () => {
    await expect(ensureDevchain('http://192.0.2.1:4280', tempDir())).rejects.toMatchObject({ code: 'devchain_not_local' });
  }, 10_000);

  it('serves until stopped, then saves its state', async () => {
    const dir = tempDir();
    const ac = new AbortController();
    const lines: string[] = [];
    const done = serveDevchain({ port: 0, host: '127.0.0.1', stateDir: dir, blockIntervalMs: 0 }, { log: (l) => lines.push(l), signal: ac.signal });
    for (let i = 0; i < 50 && lines.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    const url = /on (http:\/\/\S+)/.exec(lines[0] ?? '')?.[1];
    expect(url).toBeDefined();
    expect(await client(url!).tipHeight()).toBe(0);
    ac.abort();
    expect(await done).toBe(0);
    expect(readFileSync(join(dir, STATE_FILE), 'utf8')).toContain('bitmesh-devchain/1');
  });
});
