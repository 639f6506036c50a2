// Idle connections are found by a periodic sweep, not per-socket timers: the hot path
// only adds to `splice.bytes`, and the sweep compares it with what it saw last time.
import type { Splice } from './metered-splice.js';

/** Destroys splices that moved no byte for `idleMs`; call at least every idleMs / 2. */
export function sweepIdle(splices: Iterable<Splice>, nowMs: number, idleMs: number): void {
  for (const s of splices) {
    if (s.bytes !== s.sweptBytes) {
      s.sweptBytes = s.bytes;
      s.quietSinceMs = nowMs;
    } else if (nowMs - s.quietSinceMs >= idleMs) {
      s.destroy();
    }
  }
}
