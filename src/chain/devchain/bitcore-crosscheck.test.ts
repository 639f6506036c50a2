// Differential test: the devchain's witness verdicts must agree with bitcore-lib's
// independent script interpreter, for the faucet's own transactions and for
// channel-shaped spends, valid and tampered.
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { hex } from '@scure/base';
import { Transaction } from '@scure/btc-signer';
import { Crypto } from '../../crypto/facade.js';
import { ChainState } from './chain-state.js';
import { verifyInput } from './tx-verify.js';
import type { Prevout } from './tx-verify.js';
import { ChannelOutput, KeyPathWallet, testKey } from './test-wallet.js';

interface BitcoreInput {
  output: unknown;
  script: unknown;
  getWitnesses(): Buffer[];
}
interface Bitcore {
  Transaction: (new (hex: string) => { inputs: BitcoreInput[] }) & { Output: new (o: { script: string; satoshis: number }) => unknown };
  Script: {
    new (hex: string): unknown;
    Interpreter: (new () => { verify(...a: unknown[]): boolean; errstr: string }) & Record<string, number>;
  };
}
const bitcore = createRequire(import.meta.url)('bitcore-lib') as Bitcore;
const I = bitcore.Script.Interpreter;
// Consensus flags of a Taproot-era node, CLEANSTACK left out as bitcore-lib needs.
const FLAGS = I.SCRIPT_VERIFY_P2SH! | I.SCRIPT_VERIFY_WITNESS! | I.SCRIPT_VERIFY_TAPROOT! | I.SCRIPT_VERIFY_CHECKLOCKTIMEVERIFY! | I.SCRIPT_VERIFY_NULLDUMMY!;

function bitcoreVerdict(raw: Uint8Array, prevouts: readonly Prevout[]): boolean[] {
  const tx = new bitcore.Transaction(hex.encode(raw));
  tx.inputs.forEach((inp, i) => {
    inp.output = new bitcore.Transaction.Output({ script: hex.encode(prevouts[i]!.script), satoshis: Number(prevouts[i]!.amount) });
  });
  return tx.inputs.map((inp, i) =>
    new I().verify(inp.script, new bitcore.Script(hex.encode(prevouts[i]!.script)), tx, i, FLAGS, inp.getWitnesses(), Number(prevouts[i]!.amount)),
  );
}

function ourVerdict(crypto: Crypto, raw: Uint8Array, prevouts: readonly Prevout[]): boolean[] {
  const tx = Transaction.fromRaw(raw, { allowUnknownOutputs: true, allowUnknownInputs: true, disableScriptCheck: true });
  return prevouts.map((_, i) => verifyInput(crypto, tx, i, prevouts) === null);
}

const crypto = new Crypto();

describe('devchain verdicts agree with bitcore-lib', () => {
  it("the faucet's signed payments (multi-input) verify under bitcore-lib", () => {
    const chain = ChainState.create(crypto, testKey(200), 1_700_000_000);
    const alice = new KeyPathWallet(testKey(1));
    // Split the faucet into several coins, then make it spend more than one at once.
    for (let i = 0; i < 3; i++) {
      const r = chain.faucet(chain.faucetScript, 1_000_000_000n, new Uint8Array(32).fill(i));
      expect(r.ok).toBe(true);
    }
    chain.mine(1, 1_700_000_600);
    const r = chain.faucet(alice.script, 5_500_000_000n, new Uint8Array(32).fill(9));
    if (!r.ok) throw new Error(r.reason);
    const rec = chain.tx(r.txid)!;
    expect(rec.prevouts.length).toBeGreaterThan(1);
    expect(bitcoreVerdict(rec.raw, rec.prevouts)).toEqual(rec.prevouts.map(() => true));
  });

  it('channel leaf and key-path spends: same verdict under random tampering', () => {
    const ch = new ChannelOutput(testKey(10), testKey(11), testKey(12), 100);
    const alice = new KeyPathWallet(testKey(1));
    const coinCh = { txid: 'aa'.repeat(32), vout: 1, valueSat: 50_000n };
    const out = [{ script: alice.script, amount: 49_000n }];
    const cases = [
      { raw: ch.spend(coinCh, out, 'A'), prev: [{ script: ch.script, amount: 50_000n }] },
      { raw: ch.spend(coinCh, out, 'B', { lockTime: 100 }), prev: [{ script: ch.script, amount: 50_000n }] },
      { raw: ch.spend(coinCh, out, 'B', { lockTime: 99 }), prev: [{ script: ch.script, amount: 50_000n }] },
      { raw: alice.spend([coinCh], out), prev: [{ script: alice.script, amount: 50_000n }] },
    ];
    for (const c of cases) expect(ourVerdict(crypto, c.raw, c.prev)).toEqual(bitcoreVerdict(c.raw, c.prev));
    expect(ourVerdict(crypto, cases[2]!.raw, cases[2]!.prev)).toEqual([false]); // CLTV too early

    // Flip one bit anywhere in the witness area; both interpreters must agree.
    fc.assert(
      fc.property(fc.nat(cases.length - 1), fc.nat(), fc.nat(7), (which, pos, bit) => {
        const c = cases[which]!;
        const raw = c.raw.slice();
        // Witness data sits between the outputs and the 4-byte locktime; aim at the last ~200 bytes.
        const span = Math.min(200, raw.length - 4);
        const idx = raw.length - 4 - 1 - (pos % span);
        raw[idx]! ^= 1 << bit;
        let ours: boolean[];
        try {
          ours = ourVerdict(crypto, raw, c.prev);
        } catch {
          return true; // no longer parses: the devchain answers -22 before verifying
        }
        let theirs: boolean[];
        try {
          theirs = bitcoreVerdict(raw, c.prev);
        } catch {
          return true;
        }
        return ours[0] === theirs[0];
      }),
      { numRuns: 60 },
    );
  });
});
