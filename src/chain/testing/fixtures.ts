// Deterministic keys, randomness and outpoints for src/chain tests.
import { sha256 } from '@noble/hashes/sha2.js';
import { decodeTx, type Tx } from '../btc/tx.js';
import { getPublicKey } from '@noble/secp256k1';
import { hex } from '@scure/base';
import { Crypto } from '../../crypto/facade.js';
import { channelFunding } from '../funding.js';
import type { ChannelTerms } from '../commitment.js';
import { walletKey } from '../wallet-key.js';

export const crypto = new Crypto();

const te = new TextEncoder();

export interface TestKey {
  readonly sk: Uint8Array;
  readonly x: Uint8Array;
}

/** A secret key derived from a label, with the wanted parity of its public point's y. */
export function testKey(label: string, parity: 'any' | 'even' | 'odd' = 'any'): TestKey {
  for (let i = 0; ; i++) {
    const sk = sha256(te.encode(`bitmesh-test-key/${label}/${i}`));
    const prefix = getPublicKey(sk, true)[0];
    if (parity === 'any' || (parity === 'even') === (prefix === 2)) return { sk, x: crypto.schnorrPublicKey(sk) };
  }
}

/** Deterministic "randomness": 32-byte blocks from a seeded counter. */
export function seededRandom(seed: string): () => Uint8Array {
  let n = 0;
  return () => sha256(te.encode(`${seed}/${n++}`));
}

export function fakeTxid(label: string): string {
  return hex.encode(sha256(te.encode(`txid/${label}`)));
}

export const EXPIRY = 850_000;

/** A channel of `capacitySat` between fixed test payer and payee keys. */
export function testTerms(capacitySat: bigint, opts: { payerParity?: 'even' | 'odd'; payeeParity?: 'even' | 'odd' } = {}) {
  const payer = testKey('payer', opts.payerParity ?? 'any');
  const payee = testKey('payee', opts.payeeParity ?? 'any');
  const funding = channelFunding({ payerX: payer.x, payeeX: payee.x, expiryHeight: EXPIRY, network: 'regtest' });
  const payerWallet = walletKey(crypto, payer.sk, 'regtest');
  const payeeWallet = walletKey(crypto, payee.sk, 'regtest');
  const terms: ChannelTerms = {
    funding,
    fundingOutpoint: { txid: fakeTxid('funding'), vout: 1 },
    capacitySat,
    payerScript: payerWallet.script,
  };
  return { payer, payee, funding, terms, payerWallet, payeeWallet };
}

/** A btc-signer transaction (tests build odd variants with it) as our plain Tx, witnesses dropped. */
export function fromBtcSigner(tx: { unsignedTx: Uint8Array }): Tx {
  return decodeTx(tx.unsignedTx);
}
