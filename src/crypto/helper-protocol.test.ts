import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  FrameDecoder,
  MAX_RESPONSE_BODY,
  Op,
  decodeBatch,
  decodeInfo,
  encodeBatch,
  encodeFrame,
  readU32,
  writeU32,
} from './helper-protocol.js';
import { HelperProtocolError } from './helper-errors.js';

function responseFrame(status: number, id: number, payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(9 + payload.length);
  writeU32(out, 0, 5 + payload.length);
  out[4] = status;
  writeU32(out, 5, id);
  out.set(payload, 9);
  return out;
}

const frameArb = fc.record({
  status: fc.integer({ min: 0, max: 255 }),
  id: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 300 }),
});

describe('request encoding', () => {
  it('lays out length | opcode | id | payload, big endian', () => {
    const f = encodeFrame(Op.SHA256, 0x01020304, Uint8Array.of(0xaa, 0xbb));
    expect([...f]).toEqual([0, 0, 0, 7, 0x01, 1, 2, 3, 4, 0xaa, 0xbb]);
  });

  it('packs BATCH items as length | opcode | payload', () => {
    const f = encodeBatch(9, [
      { op: Op.SHA256, payload: Uint8Array.of(1) },
      { op: Op.INFO, payload: new Uint8Array(0) },
    ]);
    expect([...f]).toEqual([0, 0, 0, 16, 0x09, 0, 0, 0, 9, 0, 0, 0, 2, 0x01, 1, 0, 0, 0, 1, 0x00]);
  });

  it('round-trips u32 over the whole range', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 0xffffffff }), (v) => {
        const b = new Uint8Array(4);
        writeU32(b, 0, v);
        return readU32(b, 0) === v;
      }),
    );
  });
});

describe('FrameDecoder', () => {
  it('gives the same frames whether fed whole or byte by byte', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 8 }), (frames) => {
        const wire = frames.map((f) => responseFrame(f.status, f.id, f.payload));
        const whole = new FrameDecoder().push(Uint8Array.from(wire.flatMap((w) => [...w])));
        const dec = new FrameDecoder();
        const bytewise = wire.flatMap((w) => [...w]).flatMap((b) => dec.push(Uint8Array.of(b)));
        const expected = frames.map((f) => ({ status: f.status, id: f.id, payload: f.payload }));
        expect(whole).toEqual(expected);
        expect(bytewise).toEqual(expected);
        expect(dec.buffered).toBe(0);
      }),
      { numRuns: 200 },
    );
  });

  it('reassembles frames split at arbitrary points', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 6 }), fc.array(fc.nat(), { maxLength: 10 }), (frames, cuts) => {
        const wire = Uint8Array.from(frames.flatMap((f) => [...responseFrame(f.status, f.id, f.payload)]));
        const points = [...new Set(cuts.map((c) => c % (wire.length + 1)))].sort((a, b) => a - b);
        const dec = new FrameDecoder();
        const got = [];
        let prev = 0;
        for (const p of [...points, wire.length]) {
          got.push(...dec.push(wire.subarray(prev, p)));
          prev = p;
        }
        expect(got.map((g) => g.id)).toEqual(frames.map((f) => f.id));
      }),
      { numRuns: 200 },
    );
  });

  it('rejects a length prefix below the header or above the cap with a typed error', () => {
    expect(() => new FrameDecoder().push(Uint8Array.of(0, 0, 0, 4))).toThrow(HelperProtocolError);
    const big = new Uint8Array(4);
    writeU32(big, 0, MAX_RESPONSE_BODY + 1);
    expect(() => new FrameDecoder().push(big)).toThrow(HelperProtocolError);
  });

  it('on random bytes either decodes or throws HelperProtocolError, never anything else', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        try {
          new FrameDecoder().push(bytes);
        } catch (err) {
          expect(err).toBeInstanceOf(HelperProtocolError);
        }
      }),
    );
  });
});

describe('decodeBatch', () => {
  it('splits items and checks their count', () => {
    const p = Uint8Array.of(0, 0, 0, 2, 0, 7, 0, 0, 0, 1, 5);
    expect(decodeBatch(p, 2)).toEqual([
      { status: 0, payload: Uint8Array.of(7) },
      { status: 5, payload: new Uint8Array(0) },
    ]);
    expect(() => decodeBatch(p, 3)).toThrow(HelperProtocolError);
  });

  it.each([
    ['cut header', Uint8Array.of(0, 0, 0)],
    ['zero length', Uint8Array.of(0, 0, 0, 0, 0)],
    ['length past the end', Uint8Array.of(0, 0, 0, 9, 0, 1)],
  ])('rejects %s', (_name, bytes) => {
    expect(() => decodeBatch(bytes, 1)).toThrow(HelperProtocolError);
  });

  it('never throws anything but HelperProtocolError on random payloads', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 40 }), fc.nat({ max: 5 }), (bytes, n) => {
        try {
          decodeBatch(bytes, n);
        } catch (err) {
          expect(err).toBeInstanceOf(HelperProtocolError);
        }
      }),
    );
  });
});

describe('decodeInfo', () => {
  it('reads the limits and refuses a wrong size', () => {
    const p = Uint8Array.of(1, 0, 0x10, 0, 0, 1, 0, 0, 0, 4, 0, 0, 0, 64, 1);
    expect(decodeInfo(p)).toEqual({
      protocolVersion: 1,
      maxRequestBody: 1 << 20,
      maxResponseBody: 1 << 24,
      maxChainLength: 1 << 26,
      maxChainDistance: 64,
      hardwareSha256: true,
    });
    expect(() => decodeInfo(p.subarray(1))).toThrow(HelperProtocolError);
  });
});
