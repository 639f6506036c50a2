import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hex } from '@scure/base';
import { Crypto } from '../../crypto/facade.js';
import { ChainState } from './chain-state.js';
import type { AcceptResult } from './chain-state.js';
import { BLOCK_SUBSIDY_SAT } from './constants.js';
import { ChannelOutput, KeyPathWallet, TreeOutput, testKey } from './test-wallet.js';
import type { SpendableCoin } from './test-wallet.js';

const crypto = new Crypto();
const T0 = 1_700_000_000;
const AUX = new Uint8Array(32).fill(7);

function newChain(): ChainState {
  return ChainState.create(crypto, testKey(200), T0);
}

function ok(r: AcceptResult): string {
  if (!r.ok) throw new Error(`rejected: ${r.rpcCode} ${r.reason}`);
  return r.txid;
}

function rejected(r: AcceptResult): { rpcCode: number; reason: string } {
  if (r.ok) throw new Error('expected a rejection');
  return { rpcCode: r.rpcCode, reason: r.reason };
}

/** Pays `amount` from the faucet to `script` and returns the new coin. */
function fund(chain: ChainState, script: Uint8Array, amount: bigint): SpendableCoin {
  const txid = ok(chain.faucet(script, amount, AUX));
  return { txid, vout: 0, valueSat: amount };
}

const alice = new KeyPathWallet(testKey(1));
const bob = new KeyPathWallet(testKey(2));

describe('ChainState: accepting and mining', () => {
  it('starts with a genesis block paying the faucet', () => {
    const c = newChain();
    expect(c.tipHeight).toBe(0);
    expect(c.utxosFor(c.faucetScript).map((u) => u.valueSat)).toEqual([BLOCK_SUBSIDY_SAT]);
    expect(c.tipHash).toMatch(/^[0-9a-f]{64}$/);
  });

  it('faucet → unconfirmed coin → mine → confirmed, fee goes to the coinbase', () => {
    const c = newChain();
    const coin = fund(c, alice.script, 100_000n);
    expect(c.status(coin.txid)).toEqual({ confirmed: false });
    expect(c.utxosFor(alice.script)).toMatchObject([{ valueSat: 100_000n, height: null }]);
    const [block] = c.mine(1, T0 + 600);
    expect(block!.txids).toContain(coin.txid);
    expect(c.status(coin.txid)).toEqual({ confirmed: true, blockHeight: 1, blockHash: block!.hash, blockTime: T0 + 600 });
    expect(c.utxosFor(alice.script)).toMatchObject([{ height: 1 }]);
    const coinbase = c.tx(block!.txids[0]!)!;
    expect(coinbase.tx.getOutput(0).amount).toBe(BLOCK_SUBSIDY_SAT + c.tx(coin.txid)!.feeSat);
    expect(c.mempoolTxids).toEqual([]);
  });

  it('accepts a key-path spend and rejects a double spend, in the mempool and after mining', () => {
    const c = newChain();
    const coin = fund(c, alice.script, 50_000n);
    const spend1 = alice.spend([coin], [{ script: bob.script, amount: 49_000n }]);
    const spend2 = alice.spend([coin], [{ script: bob.script, amount: 48_000n }]);
    const t1 = ok(c.acceptTx(spend1));
    expect(c.outspend(coin.txid, 0)).toEqual({ spent: true, txid: t1, vin: 0, status: { confirmed: false } });
    expect(rejected(c.acceptTx(spend2))).toEqual({ rpcCode: -26, reason: 'txn-mempool-conflict' });
    expect(ok(c.acceptTx(spend1))).toBe(t1); // re-sending a mempool tx is harmless
    c.mine(1, T0 + 1);
    expect(rejected(c.acceptTx(spend2))).toEqual({ rpcCode: -25, reason: 'bad-txns-inputs-missingorspent' });
    expect(rejected(c.acceptTx(spend1)).rpcCode).toBe(-27);
    expect(c.utxosFor(bob.script)).toMatchObject([{ txid: t1, valueSat: 49_000n, height: 1 }]);
  });

  it('spends an unconfirmed parent (chained mempool txs) and mines both in order', () => {
    const c = newChain();
    const coin = fund(c, alice.script, 50_000n);
    const t1 = ok(c.acceptTx(alice.spend([coin], [{ script: bob.script, amount: 49_000n }])));
    const t2 = ok(c.acceptTx(bob.spend([{ txid: t1, vout: 0, valueSat: 49_000n }], [{ script: alice.script, amount: 48_000n }])));
    const [b] = c.mine(1, T0 + 1);
    expect(b!.txids.indexOf(t1)).toBeLessThan(b!.txids.indexOf(t2));
    expect(c.utxosFor(bob.script)).toEqual([]);
  });

  it('rejects a tampered signature, a signature by the wrong key, and outputs above inputs', () => {
    const c = newChain();
    const coin = fund(c, alice.script, 50_000n);
    const good = alice.spend([coin], [{ script: bob.script, amount: 40_000n }]);
    const bad = good.slice();
    bad[bad.length - 10]! ^= 0x01; // inside the 64-byte witness signature, before nLockTime
    expect(rejected(c.acceptTx(bad)).reason).toBe('mandatory-script-verify-flag-failed (Invalid Schnorr signature)');
    // Bob signs Alice's coin: his key is not the output key.
    expect(rejected(c.acceptTx(bob.spend([coin], [{ script: bob.script, amount: 40_000n }]))).reason).toMatch(/Invalid Schnorr signature/);
    expect(rejected(c.acceptTx(alice.spend([coin], [{ script: bob.script, amount: 50_001n }]))).reason).toMatch(/^bad-txns-in-belowout/);
    ok(c.acceptTx(good));
  });

  it('rejects garbage and coinbase-shaped transactions', () => {
    const c = newChain();
    expect(rejected(c.acceptTx(hex.decode('0200000001')))).toMatchObject({ rpcCode: -22 });
    expect(rejected(c.acceptTx(new Uint8Array()))).toMatchObject({ rpcCode: -22 });
    const cb = c.tx(c.blockAt(0)!.txids[0]!)!.raw;
    expect(rejected(c.acceptTx(cb)).rpcCode).toBe(-27);
  });

  it('nLockTime: non-final until the next block reaches it, final when all sequences are final', () => {
    const c = newChain();
    const coin = fund(c, alice.script, 50_000n);
    c.mine(1, T0 + 1); // tip 1
    const locked = alice.spend([coin], [{ script: bob.script, amount: 49_000n }], { lockTime: 3 });
    expect(rejected(c.acceptTx(locked))).toEqual({ rpcCode: -26, reason: 'non-final' });
    const finalSeq = alice.spend([coin], [{ script: bob.script, amount: 49_100n }], { lockTime: 3, sequence: 0xffffffff });
    c.mine(1, T0 + 2); // next block is 3: lockTime 3 is not < 3
    expect(rejected(c.acceptTx(locked)).reason).toBe('non-final');
    c.mine(1, T0 + 3); // next block 4 > 3
    ok(c.acceptTx(locked));
    expect(rejected(c.acceptTx(finalSeq)).reason).toBe('txn-mempool-conflict');
  });

  it('BIP68: a height-based relative lock waits for confirmations', () => {
    const c = newChain();
    const coin = fund(c, alice.script, 50_000n);
    c.mine(1, T0 + 1); // coin at height 1
    const rel = alice.spend([coin], [{ script: bob.script, amount: 49_000n }], { sequence: 3 });
    expect(rejected(c.acceptTx(rel)).reason).toBe('non-BIP68-final');
    c.mine(2, T0 + 2); // tip 3, next 4: 1 + 3 - 1 = 3 < 4
    ok(c.acceptTx(rel));
  });
});

describe('ChainState: channel-shaped tapscript spends (DESIGN §6)', () => {
  const internal = testKey(10);
  const payer = testKey(11);
  const payee = testKey(12);

  it('refund leaf: CLTV enforced, then accepted after expiry', () => {
    const c = newChain();
    const ch = new ChannelOutput(internal, payer, payee, 5);
    const coin = fund(c, ch.script, 20_000n);
    const out = [{ script: alice.script, amount: 19_000n }];
    const refund = ch.spend(coin, out, 'B', { lockTime: 5 });
    expect(rejected(c.acceptTx(refund)).reason).toBe('non-final'); // tip 0: block 1 < 5
    c.mine(5, T0 + 1);
    // nLockTime below the leaf's expiry: the script fails.
    expect(rejected(c.acceptTx(ch.spend(coin, out, 'B', { lockTime: 4 }))).reason).toBe(
      'mandatory-script-verify-flag-failed (Locktime requirement not satisfied)',
    );
    // A final sequence disables nLockTime, so CLTV must fail.
    expect(rejected(c.acceptTx(ch.spend(coin, out, 'B', { lockTime: 5, sequence: 0xffffffff }))).reason).toMatch(/Locktime requirement/);
    ok(c.acceptTx(refund));
  });

  it('close leaf: both signatures needed; a tampered one or a forged control block is refused', () => {
    const c = newChain();
    const ch = new ChannelOutput(internal, payer, payee, 1_000);
    const coin = fund(c, ch.script, 20_000n);
    const out = [{ script: bob.script, amount: 19_500n }];
    const flipSig = (i: number) => (w: Uint8Array[]) => {
      const s = w[i]!.slice();
      s[3]! ^= 0x80;
      w[i] = s;
    };
    expect(rejected(c.acceptTx(ch.spend(coin, out, 'A', { tamper: flipSig(1) }))).reason).toMatch(/Invalid Schnorr signature/);
    expect(rejected(c.acceptTx(ch.spend(coin, out, 'A', { tamper: (w) => void (w[1] = new Uint8Array()) }))).reason).toMatch(/CHECKSIGVERIFY/);
    expect(rejected(c.acceptTx(ch.spend(coin, out, 'A', { tamper: (w) => void (w[0] = new Uint8Array()) }))).reason).toMatch(/false\/empty top stack/);
    const badControl = (w: Uint8Array[]) => {
      const cb = w[w.length - 1]!.slice();
      cb[cb.length - 1]! ^= 1;
      w[w.length - 1] = cb;
    };
    expect(rejected(c.acceptTx(ch.spend(coin, out, 'A', { tamper: badControl }))).reason).toMatch(/Witness program hash mismatch/);
    ok(c.acceptTx(ch.spend(coin, out, 'A')));
  });

  it('a committed leaf outside the supported subset is refused as unsupported-script', () => {
    const c = newChain();
    // OP_1 OP_1 OP_ADD OP_2 OP_EQUAL: valid on Bitcoin with an empty stack, but not ours to judge.
    const odd = Uint8Array.of(0x51, 0x51, 0x93, 0x52, 0x87);
    const tree = new TreeOutput(internal, [odd, Uint8Array.of(0x51)]);
    const coin = fund(c, tree.script, 20_000n);
    const r = c.acceptTx(tree.spend(coin, [{ script: bob.script, amount: 19_000n }], odd, []));
    expect(rejected(r)).toEqual({ rpcCode: -26, reason: 'unsupported-script' });
  });
});

describe('ChainState: snapshot', () => {
  it('round-trips blocks, UTXOs and the mempool', () => {
    const c = newChain();
    const coin = fund(c, alice.script, 70_000n);
    c.mine(2, T0 + 10);
    const pending = ok(c.acceptTx(alice.spend([coin], [{ script: bob.script, amount: 60_000n }])));
    const back = ChainState.fromSnapshot(crypto, JSON.parse(JSON.stringify(c.toSnapshot())));
    expect(back.tipHeight).toBe(c.tipHeight);
    expect(back.tipHash).toBe(c.tipHash);
    expect(back.mempoolTxids).toEqual([pending]);
    expect(back.utxosFor(bob.script)).toEqual(c.utxosFor(bob.script));
    expect(back.status(coin.txid)).toEqual(c.status(coin.txid));
    expect(back.outspend(coin.txid, 0)).toEqual(c.outspend(coin.txid, 0));
    expect(back.issuedSat).toBe(c.issuedSat);
    // The faucet key survived: the restarted chain can still pay.
    ok(back.faucet(bob.script, 1_000n, AUX));
  });

  it('refuses a snapshot whose block hash does not match its contents', () => {
    const snap = newChain().toSnapshot();
    const broken = { ...snap, blocks: snap.blocks.map((b) => ({ ...b, time: b.time + 1 })) };
    expect(() => ChainState.fromSnapshot(crypto, broken)).toThrow(/hash mismatch/);
  });
});

describe('ChainState: property', () => {
  type Step =
    | { kind: 'faucet'; who: number; amount: number }
    | { kind: 'spend'; who: number; to: number; pick: number; fee: number }
    | { kind: 'double'; who: number; pick: number }
    | { kind: 'mine'; n: number };

  const wallets = [alice, bob, new KeyPathWallet(testKey(3))];
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('faucet' as const), who: fc.nat(2), amount: fc.integer({ min: 1_000, max: 1_000_000 }) }),
    fc.record({ kind: fc.constant('spend' as const), who: fc.nat(2), to: fc.nat(2), pick: fc.nat(), fee: fc.integer({ min: 0, max: 900 }) }),
    fc.record({ kind: fc.constant('double' as const), who: fc.nat(2), pick: fc.nat() }),
    fc.record({ kind: fc.constant('mine' as const), n: fc.integer({ min: 1, max: 2 }) }),
  );

  it('coins always add up to issuance minus pending fees, and no output is spent twice', () => {
    fc.assert(
      fc.property(fc.array(step, { maxLength: 12 }), (steps) => {
        const c = newChain();
        const spentTxs: Uint8Array[] = [];
        let t = T0;
        for (const s of steps) {
          if (s.kind === 'faucet') ok(c.faucet(wallets[s.who]!.script, BigInt(s.amount), AUX));
          else if (s.kind === 'mine') c.mine(s.n, (t += 600));
          else {
            const w = wallets[s.who]!;
            const coins = c.utxosFor(w.script);
            if (coins.length === 0) continue;
            const coin = coins[s.pick % coins.length]!;
            if (s.kind === 'spend') {
              const amount = coin.valueSat - BigInt(s.fee);
              const raw = w.spend([coin], [{ script: wallets[s.to]!.script, amount: amount < 0n ? 0n : amount }], { sequence: 0xfffffffd });
              ok(c.acceptTx(raw));
              spentTxs.push(raw);
            } else if (coin.valueSat >= 300n) {
              // Spend the same coin twice: exactly one of the two may get in.
              const a = c.acceptTx(w.spend([coin], [{ script: w.script, amount: coin.valueSat - 100n }]));
              const b = c.acceptTx(w.spend([coin], [{ script: w.script, amount: coin.valueSat - 200n }]));
              if (!a.ok || b.ok) return false;
            }
          }
          // Invariant 1: money is conserved.
          const all = c.allCoins();
          const spendable = all.filter((x) => x.spendable).reduce((a, x) => a + x.coin.valueSat, 0n);
          const pendingFees = c.mempoolTxids.reduce((a, id) => a + c.tx(id)!.feeSat, 0n);
          if (spendable !== c.issuedSat - pendingFees) return false;
          const confirmed = all.filter((x) => x.coin.height !== null).reduce((a, x) => a + x.coin.valueSat, 0n);
          if (confirmed !== c.issuedSat) return false;
        }
        // Invariant 2: every input of every tx in chain or mempool is spent exactly once.
        const spends = new Set<string>();
        const txids = [...Array(c.tipHeight + 1).keys()].flatMap((h) => c.blockAt(h)!.txids).concat(c.mempoolTxids);
        for (const id of txids) {
          const r = c.tx(id)!;
          if (r.coinbase) continue;
          for (let i = 0; i < r.tx.inputsLength; i++) {
            const inp = r.tx.getInput(i);
            const key = `${hex.encode(inp.txid!)}:${inp.index!}`;
            if (spends.has(key)) return false;
            spends.add(key);
          }
        }
        // Re-broadcasting any earlier spend never creates money or a second spend.
        for (const raw of spentTxs) {
          const r = c.acceptTx(raw);
          if (r.ok && !c.mempoolTxids.includes(r.txid)) return false;
        }
        return true;
      }),
      { numRuns: 40 },
    );
  });
});
