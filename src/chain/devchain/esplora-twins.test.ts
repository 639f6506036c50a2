// One suite, two backends: EsploraClient over HTTP to a devchain, and the in-memory twin.
// They must give the same typed answers and errors for the same story.
import { describe, expect, it } from 'vitest';
import { hex } from '@scure/base';
import { Crypto } from '../../crypto/facade.js';
import { EsploraClient } from '../esplora-client.js';
import type { EsploraApi } from '../esplora-client.js';
import { EsploraError } from '../esplora-error.js';
import { ChainState } from './chain-state.js';
import { mineBlocks, requestFaucet } from './control-client.js';
import { InMemoryEsplora } from './in-memory-esplora.js';
import { addressToScript } from './esplora-views.js';
import { startDevchain } from './server.js';
import { KeyPathWallet, testKey } from './test-wallet.js';

interface Backend {
  api: EsploraApi;
  faucet(address: string, amountSat: bigint): Promise<string>;
  mine(n: number): Promise<void>;
  close(): Promise<void>;
}

const backends: [string, () => Promise<Backend>][] = [
  [
    'http devchain',
    async () => {
      const dc = await startDevchain({ port: 0 });
      return {
        api: new EsploraClient({ baseUrl: dc.url, retries: 0 }),
        faucet: async (a, v) => (await requestFaucet(dc.url, a, v)).txid,
        mine: async (n) => void (await mineBlocks(dc.url, n)),
        close: dc.close,
      };
    },
  ],
  [
    'in-memory twin',
    async () => {
      const chain = ChainState.create(new Crypto(), testKey(201), 1_700_000_000);
      let t = 1_700_000_000;
      return {
        api: new InMemoryEsplora(chain),
        faucet: async (a, v) => {
          const r = chain.faucet(addressToScript(a)!, v, new Uint8Array(32));
          if (!r.ok) throw new Error(r.reason);
          return r.txid;
        },
        mine: async (n) => void chain.mine(n, (t += 600)),
        close: async () => {},
      };
    },
  ],
];

const alice = new KeyPathWallet(testKey(1));
const bob = new KeyPathWallet(testKey(2));

for (const [name, make] of backends) {
  describe(`EsploraApi: ${name}`, () => {
    it('faucet, spend, double spend, mine: same answers', async () => {
      const b = await make();
      try {
        const { api } = b;
        const f = await b.faucet(alice.address, 30_000n);
        const [u] = await api.addressUtxos(alice.address);
        expect(u).toEqual({ txid: f, vout: 0, valueSat: 30_000n, status: { confirmed: false } });
        const spend = alice.spend([u!], [{ script: bob.script, amount: 29_000n }]);
        const txid = await api.broadcast(hex.encode(spend));
        expect(await api.txHex(txid)).toBe(hex.encode(spend));
        const dbl = alice.spend([u!], [{ script: alice.script, amount: 28_000n }]);
        await expect(api.broadcast(hex.encode(dbl))).rejects.toMatchObject({ code: 'broadcast_rejected', rpcCode: -26, reason: 'txn-mempool-conflict' });
        await expect(api.broadcast(hex.encode(dbl))).rejects.toBeInstanceOf(EsploraError);
        await b.mine(1);
        expect(await api.tipHeight()).toBe(1);
        expect(await api.txStatus(txid)).toMatchObject({ confirmed: true, blockHeight: 1, blockHash: await api.tipHash() });
        expect(await api.blockHashAtHeight(1)).toBe(await api.tipHash());
        expect(await api.txOutspend(f, 0)).toMatchObject({ spent: true, txid, vin: 0 });
        expect(await api.txStatus('00'.repeat(32))).toBeNull();
        expect((await api.feeEstimates()).get(1)).toBe(1);
      } finally {
        await b.close();
      }
    });
  });
}
