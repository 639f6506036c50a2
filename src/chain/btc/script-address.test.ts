// Script building and addresses, against btc-signer (independent, dev only) and the
// BIP173/BIP350 rules a wallet must refuse.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Address, OutScript, Script, ScriptNum } from '@scure/btc-signer';
import { bech32, bech32m, hex } from '@scure/base';
import * as secp from '@noble/secp256k1';
import { btcNetwork, CHAIN_NETWORKS } from '../network.js';
import { AddressError, addressToScript, scriptToAddress } from './address.js';
import { OP, encodeScript, scriptNum } from './script.js';

describe('encodeScript', () => {
  it('pushes numbers as minimal CScriptNums, as btc-signer does', () => {
    fc.assert(
      fc.property(fc.integer({ min: -(2 ** 39), max: 2 ** 39 }), (n) => {
        expect(hex.encode(scriptNum(n))).toBe(hex.encode(ScriptNum(6).encode(BigInt(n))));
        expect(hex.encode(encodeScript([n, { op: OP.DROP }]))).toBe(hex.encode(Script.encode([n, 'DROP'])));
      }),
      { numRuns: 500 },
    );
  });

  it('pushes data minimally, up to PUSHDATA1', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 2, maxLength: 255 }), (data) => {
        expect(hex.encode(encodeScript([data]))).toBe(hex.encode(Script.encode([data])));
      }),
    );
    expect(() => encodeScript([new Uint8Array(256)])).toThrow(/255/);
  });
});

describe('addresses', () => {
  const program = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
  const outScript = fc.oneof(
    program(20).map((hash) => OutScript.encode({ type: 'pkh', hash })),
    program(20).map((hash) => OutScript.encode({ type: 'sh', hash })),
    program(20).map((hash) => OutScript.encode({ type: 'wpkh', hash })),
    program(32).map((hash) => OutScript.encode({ type: 'wsh', hash })),
    fc.uint8Array({ minLength: 32, maxLength: 32 }).filter((k) => secp.utils.isValidSecretKey(k)).map((sk) => OutScript.encode({ type: 'tr', pubkey: secp.schnorr.getPublicKey(sk) })),
  );
  it('script → address → script, and the same address as btc-signer, on every network', () => {
    fc.assert(
      fc.property(outScript, fc.constantFrom(...CHAIN_NETWORKS), (script, network) => {
        const params = btcNetwork(network);
        const address = scriptToAddress(script, params);
        expect(address).toBe(Address(params).encode(OutScript.decode(script)));
        expect(hex.encode(addressToScript(address, params))).toBe(hex.encode(script));
        // bech32 may be written all upper case (base58 is case sensitive)
        if (address.startsWith(`${params.bech32}1`)) expect(hex.encode(addressToScript(address.toUpperCase(), params))).toBe(hex.encode(script));
      }),
      { numRuns: 300 },
    );
  });

  it('refuses what BIP173/BIP350 refuse', () => {
    const main = btcNetwork('mainnet');
    const tr = scriptToAddress(Uint8Array.of(0x51, 32, ...new Uint8Array(32).fill(7)), main);
    const words = (v: number, p: Uint8Array) => [v, ...bech32.toWords(p)];
    const bad = [
      tr.slice(0, 10) + tr.slice(10).toUpperCase(), // mixed case
      tr.slice(0, -1) + (tr.endsWith('q') ? 'p' : 'q'), // checksum
      bech32.encode('bc', words(1, new Uint8Array(32))), // v1 in bech32
      bech32m.encode('bc', words(0, new Uint8Array(20))), // v0 in bech32m
      bech32.encode('bc', words(0, new Uint8Array(21))), // v0 of 21 bytes
      bech32m.encode('bc', words(1, new Uint8Array(41)), 120), // too long a program
      bech32m.encode('bc', [17, ...bech32.toWords(new Uint8Array(32))]), // witness v17
      scriptToAddress(Uint8Array.of(0x51, 32, ...new Uint8Array(32)), btcNetwork('regtest')), // other network
      '1BoatSLRHtKNngkdXEeobR76b53LETtpyT'.slice(0, -1) + 'z', // base58 checksum
      '',
    ];
    for (const a of bad) expect(() => addressToScript(a, main), a).toThrow(AddressError);
    expect(() => scriptToAddress(Uint8Array.of(0x6a, 1, 1), main)).toThrow(AddressError);
  });
});
