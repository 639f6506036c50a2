// Channel renewal in nft mode (the router's path) on the namespace testbed: one gateway
// with a 200 Mbit/s uplink whose zero-conf cap makes every channel 1,000 sat (1,000
// ticks of 100 KiB at the testbed's 10 msat/KiB, 98 MiB) and whose credit cap of 20 sat
// lets a client run at tens of Mbit/s, one client agent, and 240 MiB of downloads in
// the client's namespace. The client opens a successor channel to the same gateway when one has
// paid 80 % of what it can, the kernel's grant follows the money to it, and the
// downloads go on with no failover. Root only.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inNs, sh } from '../lib/netns.js';
import { nftUnavailable } from '../lib/testbed.js';
import { PRICE_MSAT_PER_KIB, TICK_KIB, buildMeshTestbed, channels, fund, get, startAgent, status, teardown, waitFor, type MeshTestbed } from './mesh-testbed.js';
import { loadOrCreateIdentity } from '../../src/agent/identity.js';
import { Wallet } from '../../src/chain/wallet.js';
import { Crypto } from '../../src/crypto/facade.js';
import { mkdir } from 'node:fs/promises';

const PREFIX = `bmr${process.pid % 100000}-`;
let why = await nftUnavailable();
if (!why) await sh('which', ['curl']).catch(() => (why = 'curl not installed'));
if (why) console.warn(`hw-test/testbed/renewal: SKIPPED (${why}); runs as root in CI`);

const TERMS = { zeroConfCapSat: 1000, maxCreditMsat: 20_000 };
const MIB = 1024 * 1024;

describe.runIf(!why)('channel renewal in nft mode', () => {
  let tb: MeshTestbed;
  let miner: NodeJS.Timeout | undefined;

  beforeAll(async () => {
    tb = await buildMeshTestbed(PREFIX, { uplinkMbit: 200 });
    const c1 = tb.clients[0]!;
    // Money before the switch-on, in several coins: each channel's funding spends one.
    await mkdir(c1.dir, { recursive: true });
    const crypto = new Crypto();
    const { identity } = await loadOrCreateIdentity(c1.dir, crypto);
    const { address } = new Wallet(crypto, identity.secretKey, 'regtest');
    for (let k = 0; k < 6; k++) await fund(tb, address, 20_000);
    miner = setInterval(() => void inNs(tb.seg, 'curl', '-s', '-XPOST', `${tb.chainUrl}/mine`, '-H', 'content-type: application/json', '-d', '{"blocks":1}').catch(() => ''), 2000);
    await startAgent(tb, tb.gateways[0]!, TERMS);
    await new Promise((r) => setTimeout(r, 1500)); // its first offer is out before the client comes
    await startAgent(tb, c1, TERMS);
  }, 60_000);

  afterAll(async () => {
    if (miner) clearInterval(miner);
    await teardown(tb, PREFIX);
  }, 30_000);

  it('moves to a successor channel before the old one runs out; downloads go on with no failover', async () => {
    const c1 = tb.clients[0]!;
    const payers = async () => (await channels(c1)).filter((c) => c.role === 'payer');
    await waitFor(async () => (await payers()).some((c) => c.state === 'Open'), 30_000, 'first channel open');
    expect((await payers())[0]!.capacitySat).toBe(TERMS.zeroConfCapSat);
    // The client's route follows its open channel at the data plane's next poll, which
    // can be a moment before the gateway's first grant is in its kernel (a connection
    // then is refused): start once the first paid bytes come through. This test is about
    // what happens at each switch after that.
    await waitFor(async () => (await get(c1.ns, 1000, 1000)).complete || undefined, 5_000, 'first paid bytes');
    let received = 0;
    let incomplete = 0;
    const t0 = Date.now();
    while (received < 240 * MIB && Date.now() - t0 < 100_000) {
      const r = await get(c1.ns, 8 * MIB, 20_000);
      received += r.bytes;
      if (!r.complete) {
        incomplete++;
        console.info(`incomplete GET at ${Date.now() - t0} ms: ${r.bytes} bytes, ${r.error}`);
        // What a broken download looked like before the hand-over carried the tick paid
        // ahead (docs/deviations.md): the gateway's table and both sides' channels.
        if (incomplete === 1) {
          const g = tb.gateways[0]!;
          const table = await inNs(g.ns, 'nft', 'list', 'table', 'inet', 'bitmesh').catch((e: Error) => e.message);
          console.info(`gateway table (quotas, cut sets, maps):\n${table.split('\n').filter((l) => /elements|quota q_/.test(l)).join('\n')}`);
          console.info(`client channels: ${JSON.stringify((await payers().catch(() => [])).map((c) => [c.id.slice(0, 8), c.state, c.bytes]))}`);
          console.info(`gateway channels: ${JSON.stringify((await channels(g).catch(() => [])).map((c) => [c.id.slice(0, 8), c.state, c.bytes, c.paidMsat]))}`);
        }
      }
    }
    console.info(`renewal (nft): ${(received / MIB).toFixed(1)} MiB in ${Date.now() - t0} ms, ${incomplete} incomplete GETs`);
    expect(received).toBeGreaterThanOrEqual(240 * MIB);
    const auction = (await status(c1)).market?.auction;
    expect(auction?.counters.failovers).toBe(0);
    expect(auction?.counters.channelRenewals).toBeGreaterThanOrEqual(2);
    expect(incomplete).toBe(0);
    // The gateway was paid on every channel for what it carried, within a tick and the
    // credit in force (read once the payments for the last bytes have come in: at
    // 200 Mbit/s one meter poll is 2.5 MB).
    const payees = async () => (await channels(tb.gateways[0]!)).filter((c) => c.role === 'payee');
    const paidOf = (cs: Awaited<ReturnType<typeof payees>>) => cs.reduce((s, c) => s + BigInt(c.paidMsat), 0n);
    let gw = await payees();
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      const next = await payees();
      const settled = paidOf(next) === paidOf(gw);
      gw = next;
      if (settled) break;
    }
    expect(gw.length).toBeGreaterThanOrEqual(3);
    const paidKiB = Number(paidOf(gw)) / PRICE_MSAT_PER_KIB;
    const servedKiB = gw.reduce((s, c) => s + c.bytes / 1024, 0);
    const slackKiB = gw.reduce((s, c) => s + TICK_KIB + (c.creditBytes ?? 0) / 1024 + (c.lossWrittenOffBytes ?? 0) / 1024, 0);
    expect(paidKiB).toBeGreaterThanOrEqual(servedKiB - slackKiB);
  }, 150_000);
});
