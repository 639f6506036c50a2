// The independent verifier's one known fault (bitcore-verify.ts): a valid close whose
// payer key starts with a 00 byte is reported unverifiable, not invalid.
import { sha256 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { Crypto } from '../../crypto/facade.js';
import { buildPayeeClose, fundingPrevout, signCommitment, type ChannelTerms } from '../commitment.js';
import { channelFunding } from '../funding.js';
import { walletKey } from '../wallet-key.js';
import { verifyWithBitcore } from './bitcore-verify.js';
import { fakeTxid, seededRandom } from './fixtures.js';

const crypto = new Crypto();
const te = new TextEncoder();

/** A deterministic key whose x-only public key does (or does not) start with 00. */
function key(label: string, zeroFirst: boolean): Uint8Array {
  for (let i = 0; ; i++) {
    const sk = sha256(te.encode(`bitcore-verify/${label}/${i}`));
    if ((crypto.schnorrPublicKey(sk)[0] === 0) === zeroFirst) return sk;
  }
}

function close(payerSk: Uint8Array, payeeSk: Uint8Array) {
  const rand = seededRandom('bitcore-verify');
  const funding = channelFunding({ payerX: crypto.schnorrPublicKey(payerSk), payeeX: crypto.schnorrPublicKey(payeeSk), expiryHeight: 1008, network: 'regtest' });
  const terms: ChannelTerms = { funding, fundingOutpoint: { txid: fakeTxid('bv'), vout: 0 }, capacitySat: 200_000n, payerScript: walletKey(crypto, payerSk, 'regtest').script };
  const st = signCommitment(crypto, terms, 820_800n, payerSk, rand());
  const signed = buildPayeeClose(crypto, { terms, state: st, payeeSecretKey: payeeSk, payeeScript: walletKey(crypto, payeeSk, 'regtest').script, feeSat: 205n, aux: rand() });
  return { hex: signed.hex, prevouts: [fundingPrevout(terms)] };
}

describe('verifyWithBitcore', () => {
  it('checks a close with ordinary keys in full', () => {
    const c = close(key('payer', false), key('payee', false));
    expect(verifyWithBitcore(c.hex, c.prevouts)).toEqual({ ok: true, errors: [] });
  });

  it('reports a close whose payer key starts with 00 as unverifiable by bitcore, not as an error', () => {
    const c = close(key('payer', true), key('payee', false));
    const v = verifyWithBitcore(c.hex, c.prevouts);
    expect(v.errors).toEqual([]);
    expect(v.unverifiable).toEqual([expect.stringContaining('x-only key starting 00')]);
    // Such an input's signatures go unchecked by bitcore (our verifier and the devchain
    // still check them); the checks outside the interpreter still apply.
    const w = verifyWithBitcore(c.hex, [{ ...c.prevouts[0]!, amount: 1000n }]);
    expect(w.ok).toBe(false);
    expect(w.errors).toEqual([expect.stringMatching(/^value: /)]);
  });
});
