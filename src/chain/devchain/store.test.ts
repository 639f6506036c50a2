import { mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RemoteError } from '../../core/errors.js';
import { Crypto } from '../../crypto/facade.js';
import { ChainState } from './chain-state.js';
import { DevchainStore, STATE_FILE, decodeSnapshot } from './store.js';
import { testKey } from './test-wallet.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'bitmesh-store-'));
  dirs.push(d);
  return d;
}

describe('DevchainStore', () => {
  it('saves atomically and loads back the same chain', async () => {
    const dir = tempDir();
    const chain = ChainState.create(new Crypto(), testKey(200), 1_700_000_000);
    chain.mine(3, 1_700_000_100);
    const store = new DevchainStore(dir, () => chain.toSnapshot(), { minIntervalMs: 0 });
    expect(DevchainStore.load(dir)).toBeUndefined();
    store.changed();
    await store.flush();
    expect(existsSync(join(dir, `${STATE_FILE}.tmp`))).toBe(false);
    const back = ChainState.fromSnapshot(new Crypto(), DevchainStore.load(dir)!);
    expect(back.tipHash).toBe(chain.tipHash);
  });

  it('flush without changes writes nothing', async () => {
    const dir = tempDir();
    let calls = 0;
    const store = new DevchainStore(dir, () => {
      calls++;
      return ChainState.create(new Crypto(), testKey(1), 1).toSnapshot();
    });
    await store.flush();
    expect(calls).toBe(0);
    expect(existsSync(join(dir, STATE_FILE))).toBe(false);
  });

  it('a corrupt state file is a typed error, not a silent new chain', () => {
    const dir = tempDir();
    writeFileSync(join(dir, STATE_FILE), '{"format":"bitmesh-devchain/1"');
    expect(() => DevchainStore.load(dir)).toThrow(RemoteError);
    writeFileSync(join(dir, STATE_FILE), JSON.stringify({ format: 'bitmesh-devchain/1', faucetSecretKey: 'zz', blocks: [], mempool: [] }));
    expect(() => DevchainStore.load(dir)).toThrow(/faucetSecretKey/);
  });

  it('fuzz: decodeSnapshot returns a snapshot or throws devchain_state_corrupt', () => {
    const good = JSON.parse(JSON.stringify(ChainState.create(new Crypto(), testKey(1), 1).toSnapshot())) as Record<string, unknown>;
    fc.assert(
      fc.property(fc.constantFrom('format', 'faucetSecretKey', 'blocks', 'mempool'), fc.jsonValue(), (key, value) => {
        try {
          decodeSnapshot({ ...good, [key]: value });
          return true;
        } catch (e) {
          return e instanceof RemoteError && e.code === 'devchain_state_corrupt';
        }
      }),
    );
    expect(decodeSnapshot(good)).toEqual(good);
  });
});
