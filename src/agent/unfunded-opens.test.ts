// A gateway's channel manager against peers that send OPENs and never fund them: the
// channels waiting for funding stay bounded per peer and in total, expire, and leave no
// state file behind, so nothing comes back on a restart. Real state store on disk, real
// chain service on an in-process devchain; the peers' messages are handed in as the
// agent's receive loop would after decoding them.
import { randomBytes } from 'node:crypto';
import { mkdtemp, readdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../../scripts/testing/wait-for.js';
import { startDevchain } from '../chain/devchain/server.js';
import { defaultConfig } from '../config/load.js';
import type { Message } from '../core/wire/messages.js';
import { Crypto } from '../crypto/facade.js';
import { ChainService } from './chain-service.js';
import { ChannelManager } from './channel-manager.js';
import { loadOrCreateIdentity } from './identity.js';
import { silentLogger } from './log.js';
import { StateStore } from './state-store.js';

const LIMITS = { perPeer: 2, total: 4, noFundingMs: 600, unconfirmedMs: 2500, burst: 100, refillMs: 1 };

describe('a gateway and OPENs that are never funded', () => {
  const cleanups: (() => Promise<void> | void)[] = [];
  afterAll(async () => {
    for (const c of cleanups.reverse()) await c();
  });

  it('bounds them per peer and in total, forgets them when their funding does not come, and keeps no file of them', async () => {
    const devchain = await startDevchain({ port: 0 });
    cleanups.push(() => devchain.close());
    const dir = await mkdtemp(path.join(tmpdir(), 'bitmesh-unfunded-'));
    const crypto = new Crypto();
    const { identity } = await loadOrCreateIdentity(dir, crypto);
    const config = defaultConfig({ agent: { role: 'gateway', stateDir: dir }, chain: { backend: 'esplora', esploraUrl: devchain.url } });
    const chain = new ChainService({ config: config.chain, stateDir: dir, log: silentLogger });
    await chain.start();
    cleanups.push(() => chain.stop());
    await waitFor(() => chain.tip !== undefined, 3000, 'chain tip');

    const sent: { to: string; message: Message }[] = [];
    const manager = (): { cm: ChannelManager; store: StateStore } => {
      let cm: ChannelManager | undefined;
      const store = new StateStore({ dir, minIntervalMs: 0, onPersisted: (k, v) => cm?.onPersisted(k, v) });
      cm = new ChannelManager({
        config,
        identity,
        crypto,
        log: silentLogger,
        clock: Date.now,
        random: (n) => new Uint8Array(randomBytes(n)),
        chain,
        wallet: () => {
          throw new Error('a payee never funds');
        },
        store,
        storeDir: dir,
        send: (to, message) => sent.push({ to: bytesToHex(to), message }),
        openAdmission: LIMITS,
      });
      return { cm, store };
    };
    const { cm, store } = manager();
    await cm.start();
    cleanups.push(() => cm.stop());

    // Peers are real keys: the receive loop has checked each OPEN's signature by its sender.
    const peers = ['p', 'q', 'r', 's'].map(() => crypto.schnorrPublicKey(new Uint8Array(randomBytes(32))));
    const [p, q, r, s] = peers as [Uint8Array, Uint8Array, Uint8Array, Uint8Array];
    const open = (from: Uint8Array): string => {
      const channelId = new Uint8Array(randomBytes(32));
      const body = {
        sender: from,
        ts: Math.floor(Date.now() / 1000),
        nonce: new Uint8Array(randomBytes(8)),
        channelId,
        payee: identity.id,
        capacitySat: 50_000,
        expiryHeight: chain.tip! + 1008,
        anchor: new Uint8Array(randomBytes(32)),
        chainLength: 1000,
        tickKiB: config.channel.tickKib,
        priceMsatPerKiB: config.market.priceMsatPerKib,
      };
      cm.onMessage({ type: 'OPEN', body }, from);
      return bytesToHex(channelId);
    };
    const ids = () => cm.list().map((c) => c.id).sort();
    const files = async () => (await readdir(dir)).filter((f) => f.startsWith('payee-')).map((f) => f.slice(6, -5)).sort();
    const errorsTo = (peer: Uint8Array) => sent.filter((m) => m.to === bytesToHex(peer) && m.message.type === 'ERROR').map((m) => (m.message as Extract<Message, { type: 'ERROR' }>).body.message);

    // Two from p are taken (each answered with ACCEPT once on flash); a third is refused.
    const p1 = open(p);
    const p2 = open(p);
    await waitFor(() => sent.filter((m) => m.message.type === 'ACCEPT').length === 2, 3000, 'two ACCEPTs');
    open(p);
    expect(ids()).toEqual([p1, p2].sort());
    expect(cm.counters.refusedOpens).toBe(1);
    expect(errorsTo(p)).toEqual([expect.stringContaining('await funding')]);

    // q and r fill the total; s's OPEN makes room by evicting the oldest never funded (p1).
    // q has sent FUNDED: its transaction is on its way, so it is never the one evicted.
    const q1 = open(q);
    cm.onMessage({ type: 'FUNDED', body: { channelId: hexToBytes(q1), txid: new Uint8Array(randomBytes(32)), vout: 0, capacitySat: 50_000 } }, q);
    const r1 = open(r);
    const s1 = open(s);
    expect(ids()).toEqual([p2, q1, r1, s1].sort());
    expect(cm.counters.evictedUnfunded).toBe(1);
    expect(errorsTo(p)).toContainEqual(expect.stringContaining('forgotten'));
    await store.flush();
    await waitFor(async () => JSON.stringify(await files()) === JSON.stringify([p2, q1, r1, s1].sort()), 3000, 'p1 file removed');

    // No more OPENs: the timer forgets the unfunded ones when their time is up, and the
    // one whose funding was seen when its longer wait for confirmation is over.
    await waitFor(() => JSON.stringify(ids()) === JSON.stringify([q1]), 3000, 'unfunded channels expire');
    expect(cm.counters.expiredUnfunded).toBe(3);
    await waitFor(async () => JSON.stringify(await files()) === JSON.stringify([q1]), 3000, 'their files removed');
    await waitFor(() => ids().length === 0, 5000, 'the unconfirmed one expires');
    expect(cm.counters.expiredUnfunded).toBe(4);
    await waitFor(async () => (await files()).length === 0, 3000, 'no payee file left');

    // A restart finds nothing to restore, and the gateway takes new OPENs again.
    await cm.stop();
    await store.close();
    const again = manager();
    await again.cm.start();
    cleanups.push(() => again.cm.stop());
    expect(again.cm.list()).toEqual([]);
  }, 30_000);
});
