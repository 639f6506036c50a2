import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ChannelAccount } from './channel-account.js';
import type { Splice } from './metered-splice.js';
import { UsageBatcher } from './usage-batcher.js';

/** A splice stand-in: records hold/release, and on release asks for its held bytes again. */
class FakeSplice {
  held = false;
  pending = 0;
  passed = 0;
  constructor(
    private readonly account: ChannelAccount,
    private readonly up: boolean,
  ) {}
  offer(n: number): void {
    if (this.held || this.pending > 0) {
      this.pending += n;
      return;
    }
    const ok = this.account.admit(this.up, n);
    this.passed += ok;
    this.pending += n - ok;
  }
  hold(): void {
    this.held = true;
  }
  release(): void {
    if (this.account.exhausted) return; // as Splice does
    this.held = false;
    if (this.pending > 0) {
      const ok = this.account.admit(this.up, this.pending);
      this.passed += ok;
      this.pending -= ok;
    }
  }
  destroy(): void {}
}

type Op = { kind: 'offer'; splice: number; n: number } | { kind: 'grant'; total: number } | { kind: 'revoke' };
const arbOp: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('offer' as const), splice: fc.nat(3), n: fc.integer({ min: 1, max: 70_000 }) }),
  fc.record({ kind: fc.constant('grant' as const), total: fc.nat(400_000) }),
  fc.record({ kind: fc.constant('revoke' as const) }),
);

describe('ChannelAccount', () => {
  it('never lets more than the allowance through, counts exactly, holds at the limit and reports every byte', () => {
    fc.assert(
      fc.property(fc.array(arbOp, { maxLength: 60 }), (ops) => {
        const batcher = new UsageBatcher(1_000_000);
        let reported = 0;
        const a = new ChannelAccount('cc'.repeat(32), batcher, (_, d) => (reported += d));
        const splices = [0, 1, 2, 3].map((i) => new FakeSplice(a, i % 2 === 0));
        for (const s of splices) {
          s.held = a.exhausted; // as Splice.start does
          a.splices.add(s as unknown as Splice);
        }
        let allowance = 0;
        for (const op of ops) {
          const before = a.usage().totalBytes;
          if (op.kind === 'offer') splices[op.splice]!.offer(op.n);
          else if (op.kind === 'grant') {
            a.grant(op.total);
            allowance = op.total;
          } else {
            a.revoke();
            allowance = before;
            expect(a.revoked).toBe(true);
          }
          const u = a.usage();
          // Never past the allowance in force (a lowered grant stops traffic, it takes nothing back).
          expect(u.totalBytes).toBeLessThanOrEqual(Math.max(allowance, before));
          expect(u.totalBytes).toBe(u.upBytes + u.downBytes);
          expect(u.totalBytes).toBe(splices.reduce((s, x) => s + x.passed, 0));
          // At the limit every splice is held; below it, nothing waits.
          if (u.totalBytes >= allowance) expect(splices.every((s) => s.held)).toBe(true);
          else expect(splices.every((s) => s.pending === 0)).toBe(true);
        }
        batcher.flush();
        expect(reported).toBe(a.usage().totalBytes);
      }),
    );
  });

  it('passes bytes up to exactly the allowance, mid-chunk', () => {
    const a = new ChannelAccount('cc'.repeat(32), new UsageBatcher(1000), () => undefined);
    a.grant(100_000);
    expect(a.admit(true, 65_536)).toBe(65_536);
    expect(a.exhausted).toBe(false);
    expect(a.admit(false, 65_536)).toBe(100_000 - 65_536);
    expect(a.exhausted).toBe(true);
    expect(a.admit(false, 1)).toBe(0);
    a.grant(100_001);
    expect(a.exhausted).toBe(false);
    expect(a.admit(false, 10)).toBe(1);
    expect(a.usage()).toEqual({ upBytes: 65_536, downBytes: 100_000 - 65_536 + 1, totalBytes: 100_001 });
  });
});
