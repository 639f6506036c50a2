import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { OfflineQueue, type QueuedKind, type QueuedMessage } from './offline-queue.js';

const msg = (kind: QueuedKind, n: number, size = 10): QueuedMessage => ({
  kind,
  topic: `t/${kind}/${n}`,
  payload: new Uint8Array(size),
  qos: kind === 'metrics' ? 0 : 1,
});

describe('OfflineQueue', () => {
  it('drops the oldest metrics first and keeps events', () => {
    const q = new OfflineQueue({ maxMessages: 4, maxBytes: 1 << 20 });
    q.push(msg('event', 1));
    q.push(msg('metrics', 1));
    q.push(msg('metrics', 2));
    q.push(msg('result', 1));
    q.push(msg('metrics', 3));
    q.push(msg('event', 2));
    expect(q.drain().map((m) => m.topic)).toEqual(['t/event/1', 't/result/1', 't/metrics/3', 't/event/2']);
    expect(q.dropped).toBe(2);
    expect(q.size).toBe(0);
  });

  it('drops the oldest event when only events are left', () => {
    const q = new OfflineQueue({ maxMessages: 2, maxBytes: 1 << 20 });
    for (let i = 1; i <= 3; i++) q.push(msg('event', i));
    expect(q.drain().map((m) => m.topic)).toEqual(['t/event/2', 't/event/3']);
  });

  it('bounds bytes too, and refuses a message larger than the whole budget', () => {
    const q = new OfflineQueue({ maxMessages: 100, maxBytes: 100 });
    q.push(msg('event', 1, 500));
    expect(q.size).toBe(0);
    expect(q.dropped).toBe(1);
  });

  it('property: never over its limits, keeps arrival order, metrics go before events', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom<QueuedKind>('metrics', 'event', 'result'), fc.nat(200)), { maxLength: 200 }),
        fc.integer({ min: 1, max: 20 }),
        fc.integer({ min: 50, max: 2000 }),
        (pushes, maxMessages, maxBytes) => {
          const q = new OfflineQueue({ maxMessages, maxBytes });
          const sent: QueuedMessage[] = [];
          for (const [i, [kind, size]] of pushes.entries()) {
            const m = msg(kind, i, size);
            sent.push(m);
            q.push(m);
            expect(q.size).toBeLessThanOrEqual(maxMessages);
            expect(q.bytes).toBeLessThanOrEqual(maxBytes);
          }
          const kept = q.drain();
          const order = kept.map((m) => sent.indexOf(m));
          expect(order).toEqual([...order].sort((a, b) => a - b));
          expect(kept.length + q.dropped).toBe(pushes.length);
        },
      ),
    );
  });
});
