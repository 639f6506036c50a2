// An agent under a 10 s flood of 10,000 datagrams/s (random bytes, truncated and
// bit-flipped messages, replays, forged signatures, stale and oversize packets) from
// many source ports stays up, keeps hearing its honest peer, keeps memory bounded,
// and counts every reject by reason in `bitmesh status --json`.
import dgram from 'node:dgram';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentProcess, freePorts } from '../../scripts/testing/agent-process.js';
import { WireCodec } from '../core/wire/codec.js';
import { encodeMessage, type Signer } from '../core/wire/envelope.js';
import { Crypto } from '../crypto/facade.js';

const RATE_PER_S = 10_000;
const DURATION_MS = 10_000;
const SOURCES = 32;

describe('agent under a datagram flood', () => {
  const agents: AgentProcess[] = [];
  const sockets: dgram.Socket[] = [];
  afterAll(async () => {
    for (const s of sockets) s.close();
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  });

  it('stays up, keeps its peer, bounds memory and counts rejects by reason', async () => {
    const [portA, portB] = (await freePorts(2)) as [number, number];
    const [a, b] = await Promise.all([
      AgentProcess.start({ port: portA, peers: [portB] }),
      AgentProcess.start({ port: portB, peers: [portA] }),
    ]);
    agents.push(a, b);
    await a.waitFor(async () => (await a.peers()).length === 1 && (await b.peers()).length === 1, 3000);
    const idB = (await b.status())!.node.id;

    // The flooder's own key and a few signed messages to replay, forge and stale.
    const crypto = new Crypto();
    const codec = new WireCodec();
    const key = new Uint8Array(32).fill(42);
    const signer: Signer = { crypto, secretKey: key, auxRand: () => new Uint8Array(32) };
    const me = crypto.schnorrPublicKey(key);
    const hello = (ts: number, nonce: number, sender = me) =>
      encodeMessage(codec, 'HELLO', { sender, ts, nonce: new Uint8Array(8).fill(nonce), roles: 1, seq: nonce }, signer);
    const valid = hello(Date.now(), 1);
    const idBBytes = Uint8Array.from(Buffer.from((await b.status())!.node.idHex, 'hex'));
    const forgedBytes = hello(Date.now(), 2, idBBytes); // claims B's id, signed with our key
    const stale = hello(Date.now() - 120_000, 3);
    let rnd = 12345;
    const next = () => ((rnd = (Math.imul(rnd, 1103515245) + 12345) >>> 0), rnd);
    const kinds: (() => Uint8Array)[] = [
      () => Uint8Array.from({ length: 1 + (next() % 1200) }, () => next() & 0xff), // random
      () => valid.subarray(0, next() % valid.length), // truncated
      () => {
        const m = valid.slice();
        m[next() % m.length]! ^= 1 << (next() % 8);
        return m;
      }, // bit flip
      () => valid, // replay
      () => forgedBytes, // forged signature
      () => stale, // stale timestamp
      () => new Uint8Array(1300), // oversize
    ];

    for (let i = 0; i < SOURCES; i++) {
      const s = dgram.createSocket('udp4');
      await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
      sockets.push(s);
    }
    const tickMs = 10;
    const perTick = (RATE_PER_S * tickMs) / 1000;
    let sent = 0;
    const t0 = Date.now();
    const peerChecks: boolean[] = [];
    const rss: number[] = [];
    await new Promise<void>((resolve) => {
      const timer = setInterval(() => {
        const due = Math.min(RATE_PER_S * ((Date.now() - t0) / 1000), (RATE_PER_S * DURATION_MS) / 1000) - sent;
        for (let i = 0; i < Math.min(due, perTick * 4); i++, sent++) {
          sockets[sent % SOURCES]!.send(kinds[sent % kinds.length]!(), portA, '127.0.0.1');
        }
        if (Date.now() - t0 >= DURATION_MS) {
          clearInterval(timer);
          resolve();
        }
      }, tickMs);
      // Once a second during the flood: does A still hear B, and B still hear A?
      const probe = setInterval(async () => {
        if (Date.now() - t0 >= DURATION_MS) return clearInterval(probe);
        const [pa, pb, st] = await Promise.all([a.peers().catch(() => []), b.peers().catch(() => []), a.status()]);
        peerChecks.push(pa.some((p) => p.id === idB) && pb.length === 1);
        if (st) rss.push(st.memory.rssBytes);
      }, 1000);
    });
    expect(sent).toBeGreaterThanOrEqual(RATE_PER_S * (DURATION_MS / 1000) * 0.95);

    const st = (await a.status())!;
    expect(a.exitCode).toBeNull();
    expect(peerChecks.length).toBeGreaterThanOrEqual(8);
    expect(peerChecks.every(Boolean)).toBe(true);
    // Counted by reason: every kind of garbage shows up under its own code.
    const r = st.controlPlane.rejected;
    console.log(`flood: sent ${sent} datagrams in ${DURATION_MS} ms; agent rejected ${JSON.stringify(r)}; rss ${(Math.max(...rss) / 2 ** 20).toFixed(1)} MiB`);
    for (const reason of ['oversize', 'malformed_cbor', 'replay', 'bad_signature', 'stale_timestamp', 'banned'] as const) {
      expect(r[reason] ?? 0, reason).toBeGreaterThan(0);
    }
    const rejectedTotal = Object.values(r).reduce((x, y) => x + (y ?? 0), 0);
    // Everything but our one genuine HELLO and B's own beacons (HELLO, OFFER) was refused.
    const accepted = Object.values(st.controlPlane.accepted).reduce((x, y) => x + (y ?? 0), 0);
    expect(rejectedTotal + accepted).toBe(st.controlPlane.rxDatagrams);
    expect(accepted).toBeLessThan(200);
    // Bounded state: the tables are capped whatever arrives, and memory does not run away.
    expect(st.replayCache.entries).toBeLessThanOrEqual(4096);
    expect(st.peerGuard.tracked).toBeLessThanOrEqual(1024);
    expect(Math.max(...rss, st.memory.rssBytes)).toBeLessThan(200 * 1024 * 1024);
    // After the flood, A still answers.
    expect((await a.peers()).some((p) => p.id === idB)).toBe(true);
  }, 60_000);
});
