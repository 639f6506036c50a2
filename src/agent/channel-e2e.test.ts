// Two agents (a gateway and a client) on loopback with a devchain: the client opens
// a channel, funds it from its wallet, pays per tick for bytes the data plane meters
// on both sides, and the gateway closes with the best state. The close transaction
// is checked by bitcore-lib's script interpreter, independent of our code.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/testing/wait-for.js';
import { startDevchain, type DevchainHandle } from '../chain/devchain/server.js';
import { mineBlocks, requestFaucet } from '../chain/devchain/control-client.js';
import { verifyWithBitcore } from '../chain/testing/bitcore-verify.js';
import { channelIdFor, checkReport, reportFields } from '../core/market/report.js';
import { WireCodec } from '../core/wire/codec.js';
import { Crypto } from '../crypto/facade.js';
import type { Agent } from './agent.js';
import { startAgentPair } from './agent-pair.test-support.js';
import { SETTLED_ARCHIVE, type ChannelReport } from './channel-manager.js';


const crypto = new Crypto();

describe('a payment channel between two agents', () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('opens, pays per tick for metered bytes, and closes with a consensus-valid transaction', async () => {
    const chain: DevchainHandle = await startDevchain({ port: 0 });
    cleanups.push(() => chain.close());
    const { gw, cl } = await startAgentPair({
      chainUrl: chain.url,
      config: () => ({ market: { priceMsatPerKib: 100 }, channel: { persistIntervalMs: 100 }, dataplane: { socksPort: 0 } }),
      cleanup: (stop) => cleanups.push(stop),
    });
    await waitFor(() => gw.status().chain?.tip !== null && cl.status().chain?.tip !== null, 3000, 'chain tip');

    const control = (a: Agent, cmd: string, args: Record<string, unknown> = {}) => a.control(cmd, args);
    const { address } = (await control(cl, 'wallet.address')) as { address: string };
    // An empty wallet opens nothing: a typed error, and no record on either side.
    await expect(control(cl, 'channel.open', { peer: gw.status().node.id, capacitySat: 50_000, priceMsatPerKiB: 100 })).rejects.toMatchObject({ code: 'insufficient_funds' });
    expect(cl.channels!.list()).toEqual([]);
    expect(gw.channels!.list()).toEqual([]);
    await requestFaucet(chain.url, address, 1_000_000n, { mine: 1 });
    const { channelId } = (await control(cl, 'channel.open', { peer: gw.status().node.id, capacitySat: 200_000, priceMsatPerKiB: 100 })) as { channelId: string };
    const report = (a: Agent) => (a.channels!.list() as ChannelReport[]).find((c) => c.id === channelId);
    // 200,000 sat is above the gateway's zero-conf cap (100,000): it waits for a confirmation.
    await waitFor(() => report(cl)?.funding !== null && report(cl) !== undefined, 5000, 'funding broadcast');
    await new Promise((r) => setTimeout(r, 300));
    expect(report(gw)?.state).toBe('AwaitingFunding');
    await mineBlocks(chain.url, 1);
    await waitFor(() => report(gw)?.state === 'Open' && report(cl)?.state === 'Open', 5000, 'channel open');

    // The client keeps the gateway's signed ACCEPT, and its channel id is derived from
    // its own key: together a REPORT's proof that any other agent can check.
    const proof = cl.channels!.acceptProof(gw.status().node.idHex)!;
    const clientId = hexToBytes(cl.status().node.idHex);
    expect(bytesToHex(proof.accept.channelId)).toBe(channelId);
    expect(bytesToHex(channelIdFor(crypto, clientId, proof.salt))).toBe(channelId);
    const reportBody = { sender: clientId, ts: Date.now(), nonce: new Uint8Array(8), ...reportFields(proof, 100, 1000) };
    expect(checkReport(crypto, new WireCodec(), reportBody, Date.now(), { maxProofAgeMs: 60_000, skewMs: 1000 })).toBeUndefined();
    expect(checkReport(crypto, new WireCodec(), { ...reportBody, sender: hexToBytes(gw.status().node.idHex) }, Date.now(), { maxProofAgeMs: 60_000, skewMs: 1000 })?.code).toBe('report_self');
    expect(gw.channels!.acceptProof(cl.status().node.idHex)).toBeUndefined(); // a payee holds none

    // The data plane forwards what is granted and meters it on both sides: 8 MiB down
    // through the gateway, never past the allowance. Payment follows within a tick.
    const total = 8 * 1024 * 1024;
    let sent = 0;
    while (sent < total) {
      await waitFor(() => (report(gw)?.grantedBytes ?? 0) > (report(gw)?.bytes ?? 0), 5000, 'allowance');
      const n = Math.min(64 * 1024, report(gw)!.grantedBytes! - report(gw)!.bytes, total - sent);
      gw.channels!.metered(channelId, n);
      cl.channels!.metered(channelId, n);
      sent += n;
    }
    // Price 100 msat/KiB: 8 MiB = 8192 KiB = 819,200 msat = 819.2 sat.
    await waitFor(() => BigInt(report(gw)!.paidMsat) >= 819_200n - 16n * 100n, 5000, 'payment');
    const paid = BigInt(report(gw)!.paidMsat);
    expect(paid).toBeLessThanOrEqual(819_200n + 16n * 100n); // never more than received + one tick
    expect(gw.status().channels!.creditInForce[0]!.creditBytes).toBeLessThanOrEqual(10 * 1024); // 1 sat at 100 msat/KiB

    const close = (await control(gw, 'channel.close', { id: channelId })) as {
      hex: string;
      spends: { scriptHex: string; amountSat: string }[];
    };
    const prevouts = close.spends.map((s) => ({ script: hexToBytes(s.scriptHex), amount: BigInt(s.amountSat) }));
    const verdict = verifyWithBitcore(close.hex, prevouts);
    expect(verdict.errors).toEqual([]);
    expect(verdict.ok).toBe(true);
    // The devchain, which checks Taproot script-path signatures too, took it.
    const status = await fetch(`${chain.url}/tx/${report(gw)!.closeTxid}/status`);
    expect(status.status).toBe(200);

    // Six blocks on the close settle it: the channel leaves memory and the state
    // directory on both sides (a restart restores nothing of it), its report goes to the
    // archive, and the totals keep what it earned and cost.
    const closeTxid = report(gw)!.closeTxid!;
    const earned = gw.channels!.totals().earnedMsat;
    const spent = cl.channels!.totals().spentMsat;
    expect(earned).toBe(Number(paid));
    const stateFiles = async (a: Agent) => (await readdir(path.join(path.dirname(a.controlSocketPath), 'channels'))).filter((f) => f.includes(channelId));
    expect(await stateFiles(gw)).toContain(`payee-${channelId}.json`);
    // The close is in the next block; five blocks later it has 5 confirmations, not 6.
    await mineBlocks(chain.url, 5);
    const tip = (await (await fetch(`${chain.url}/blocks/tip/height`)).text()).trim();
    await waitFor(() => String(gw.status().chain?.tip) === tip && String(cl.status().chain?.tip) === tip, 10_000, 'both agents at the tip');
    await new Promise((r) => setTimeout(r, 300));
    expect(gw.channels!.counters.settled).toBe(0);
    expect(await stateFiles(gw)).toContain(`payee-${channelId}.json`);
    await mineBlocks(chain.url, 1);
    await waitFor(async () => gw.channels!.counters.settled === 1 && (await stateFiles(gw)).length === 0, 10_000, 'payee settled');
    await waitFor(async () => cl.channels!.counters.settled === 1 && (await stateFiles(cl)).length === 0, 10_000, 'payer settled');
    expect(report(gw)).toMatchObject({ settled: { txid: closeTxid } });
    expect(gw.channels!.totals()).toMatchObject({ earnedMsat: earned, channelsSettled: 1, channelsOpen: 0 });
    expect(cl.channels!.totals()).toMatchObject({ spentMsat: spent, channelsSettled: 1 });
    const archive = (await readFile(path.join(path.dirname(gw.controlSocketPath), 'channels', SETTLED_ARCHIVE), 'utf8')).trim().split('\n');
    expect(archive.map((l) => JSON.parse(l) as ChannelReport)).toEqual([expect.objectContaining({ id: channelId, role: 'payee', paidMsat: String(paid), settled: expect.objectContaining({ txid: closeTxid }) })]);
  }, 60_000);
});
