import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Crypto } from '../../crypto/facade.js';
import { WireCodec } from '../wire/codec.js';
import { authenticate, encodeMessage, signatureDigest, type Signer } from '../wire/envelope.js';
import type { AcceptBody, ReportBody } from '../wire/messages.js';
import { ReplayGuard } from '../wire/replay.js';
import { channelIdFor, checkReport, reportFields, ReportTally, type AcceptProof } from './report.js';

const crypto = new Crypto();
const codec = new WireCodec();
const now = 1_800_000_000_000;
const opts = { maxProofAgeMs: 60 * 60_000, skewMs: 30_000 };

const signer = (fill: number): Signer => ({ crypto, secretKey: new Uint8Array(32).fill(fill), auxRand: () => new Uint8Array(32).fill(fill) });
const gateway = signer(1);
const client = signer(2);
const mallory = signer(3);
const idOf = (s: Signer) => crypto.schnorrPublicKey(s.secretKey);

/** What the gateway signs when it accepts `payer`'s channel, and what the payer keeps. */
function acceptFor(payer: Signer, salt: Uint8Array, ts = now - 60_000, by: Signer = gateway): AcceptProof {
  const accept: AcceptBody = {
    sender: idOf(by),
    ts,
    nonce: new Uint8Array(8).fill(7),
    channelId: channelIdFor(crypto, idOf(payer), salt),
    creditBytes: 65_536,
    lossTolerancePermille: 20,
    zeroConfCapSat: 50_000,
  };
  const sig = crypto.schnorrSign(signatureDigest(crypto, 'ACCEPT', codec.encodeBody('ACCEPT', accept)), by.secretKey, new Uint8Array(32));
  return { accept, sig, salt };
}

function report(reporter: Signer, proof: AcceptProof, delivered = 300, target = 1000): ReportBody {
  return { sender: idOf(reporter), ts: now, nonce: new Uint8Array(8).fill(9), ...reportFields(proof, delivered, target) };
}

describe('REPORT proofs', () => {
  const salt = new Uint8Array(32).fill(5);

  it('a client reporting with the ACCEPT of its own channel passes, through the real codec and envelope', () => {
    const bytes = encodeMessage(codec, 'REPORT', report(client, acceptFor(client, salt)), client);
    expect(bytes.length).toBeLessThan(500);
    const d = codec.decode(bytes);
    if (!d.ok) throw d.error;
    const admitted = authenticate(crypto, new ReplayGuard({ capacity: 8, skewMs: 30_000 }), d.value, now);
    if (!admitted.ok || admitted.value.type !== 'REPORT') throw new Error('not admitted');
    expect(checkReport(crypto, codec, admitted.value.body, now, opts)).toBeUndefined();
  });

  it('an overheard ACCEPT does not prove a channel of the thief’s: the id is derived from the payer’s key', () => {
    const stolen = acceptFor(client, salt);
    expect(checkReport(crypto, codec, report(mallory, stolen), now, opts)?.code).toBe('report_channel');
  });

  it('an ACCEPT signed by someone else than the reported gateway is refused', () => {
    const forged = acceptFor(mallory, salt, now - 1000, mallory); // mallory "accepts" its own channel…
    const r = { ...report(mallory, forged), gateway: idOf(gateway) }; // …and names the gateway
    expect(checkReport(crypto, codec, r, now, opts)?.code).toBe('report_accept_signature');
  });

  it('any changed field of the ACCEPT breaks its signature', () => {
    const r = report(client, acceptFor(client, salt));
    for (const changed of [{ creditBytes: 1 }, { acceptTs: r.acceptTs + 1 }, { acceptNonce: new Uint8Array(8) }, { zeroConfCapSat: 0 }, { lossTolerancePermille: 21 }]) {
      expect(checkReport(crypto, codec, { ...r, ...changed }, now, opts)?.code).toBe('report_accept_signature');
    }
  });

  it('an old ACCEPT, or one from the future, proves nothing about a channel today', () => {
    expect(checkReport(crypto, codec, report(client, acceptFor(client, salt, now - opts.maxProofAgeMs - 1)), now, opts)?.code).toBe('report_proof_age');
    expect(checkReport(crypto, codec, report(client, acceptFor(client, salt, now + opts.skewMs + 1)), now, opts)?.code).toBe('report_proof_age');
    expect(checkReport(crypto, codec, report(client, acceptFor(client, salt, now - opts.maxProofAgeMs)), now, opts)).toBeUndefined();
  });

  it('no shortfall, no target, or a gateway reporting itself are refused before any signature work', () => {
    const p = acceptFor(client, salt);
    expect(checkReport(crypto, codec, report(client, p, 1000, 1000), now, opts)?.code).toBe('report_values');
    expect(checkReport(crypto, codec, report(client, p, 0, 0), now, opts)?.code).toBe('report_values');
    expect(checkReport(crypto, codec, report(gateway, acceptFor(gateway, salt)), now, opts)?.code).toBe('report_self');
  });

  it('property: a random REPORT body never passes, and never throws', () => {
    fc.assert(
      fc.property(
        fc.record({
          salt: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          channelId: fc.uint8Array({ minLength: 32, maxLength: 32 }),
          sig: fc.uint8Array({ minLength: 64, maxLength: 64 }),
          delivered: fc.nat(2000),
          target: fc.nat(2000),
          ts: fc.integer({ min: now - 2 * opts.maxProofAgeMs, max: now + 60_000 }),
        }),
        (x) => {
          const r: ReportBody = {
            ...report(client, acceptFor(client, salt)),
            channelSalt: x.salt,
            channelId: x.channelId,
            acceptSig: x.sig,
            deliveredKbps: x.delivered,
            targetKbps: x.target,
            acceptTs: x.ts,
          };
          expect(checkReport(crypto, codec, r, now, opts)).toBeDefined();
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('ReportTally', () => {
  const o = { banCount: 3, banMs: 600_000, maxGateways: 4 };

  it('bans at the third distinct reporter; the same reporter again counts once', () => {
    const t = new ReportTally(o);
    expect(t.add('g', 'a', 0)).toBe(false);
    expect(t.add('g', 'a', 1000)).toBe(false);
    expect(t.add('g', 'b', 2000)).toBe(false);
    expect(t.reporters('g', 2000)).toBe(2);
    expect(t.add('g', 'c', 3000)).toBe(true);
  });

  it('reports older than banMs no longer count', () => {
    const t = new ReportTally(o);
    t.add('g', 'a', 0);
    t.add('g', 'b', 1000);
    expect(t.add('g', 'c', 600_001)).toBe(false); // a has aged out
    expect(t.reporters('g', 600_001)).toBe(2);
    expect(t.add('g', 'a', 600_002)).toBe(true);
  });

  it('banCount 0 never bans; memory stays within maxGateways tallies', () => {
    expect(new ReportTally({ ...o, banCount: 0 }).add('g', 'a', 0)).toBe(false);
    const t = new ReportTally(o);
    for (let g = 0; g < 10; g++) for (const r of ['a', 'b']) t.add(`g${g}`, r, g);
    expect(t.reporters('g0', 10)).toBe(0); // dropped, oldest first
    expect(t.reporters('g9', 10)).toBe(2);
  });

  it('property: add() says true exactly when banCount distinct reporters fall within banMs', () => {
    fc.assert(
      fc.property(fc.array(fc.record({ who: fc.constantFrom('a', 'b', 'c', 'd', 'e'), dt: fc.nat(400_000) }), { maxLength: 30 }), (steps) => {
        const t = new ReportTally(o);
        const last = new Map<string, number>();
        let at = 0;
        for (const s of steps) {
          at += s.dt;
          last.set(s.who, at);
          const within = [...last.values()].filter((x) => at - x <= o.banMs).length;
          expect(t.add('g', s.who, at)).toBe(within >= o.banCount);
        }
      }),
    );
  });
});
