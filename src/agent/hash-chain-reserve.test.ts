import { bytesToHex } from '@noble/hashes/utils.js';
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { buildChain, type HashChain } from '../core/channel/hash-chain.js';
import { HashChainReserve } from './hash-chain-reserve.js';

function reserve() {
  let n = 0;
  const builds: number[] = [];
  const r = new HashChainReserve(
    async (seed, length): Promise<HashChain> => {
      builds.push(length);
      await new Promise((res) => setImmediate(res));
      return buildChain(seed, length, sha256);
    },
    (k) => new Uint8Array(k).fill(++n),
  );
  return { r, builds };
}

describe('HashChainReserve: a payer chain built ahead', () => {
  it('hands over a chain whose anchor is the one its seed gives, then builds the next', async () => {
    const { r, builds } = reserve();
    r.prepare(300);
    const got = await r.take(500);
    expect(got?.length).toBe(300);
    expect(bytesToHex(got!.chain.anchor)).toBe(bytesToHex(buildChain(got!.seed, 300, sha256).anchor));
    expect(builds).toEqual([300, 300]); // the next spare is under way
    const next = await r.take(300);
    expect(bytesToHex(next!.seed)).not.toBe(bytesToHex(got!.seed)); // a seed serves one channel
  });

  it('serves no channel shorter than the spare (its capacity would be cut to nothing)', async () => {
    const { r } = reserve();
    r.prepare(300);
    expect(await r.take(299)).toBeUndefined();
    expect(r.spareLength).toBe(300); // kept for a channel that fits
  });

  it('keeps one spare: preparing the same length twice builds once, another length replaces it', async () => {
    const { r, builds } = reserve();
    r.prepare(100);
    r.prepare(100);
    expect(builds).toEqual([100]);
    r.prepare(200);
    expect(r.spareLength).toBe(200);
    expect((await r.take(1000))?.length).toBe(200);
  });

  it('gives nothing after stop, and nothing before a spare was asked for', async () => {
    const { r } = reserve();
    expect(await r.take(1000)).toBeUndefined();
    r.prepare(100);
    r.stop();
    expect(await r.take(1000)).toBeUndefined();
    r.prepare(100);
    expect(r.spareLength).toBeUndefined();
  });
});
