// How each tool's metric becomes one 0..1 quality, so samples from different
// sources can be compared and combined. Each curve is monotonic and clamped.

/** batman-adv BATMAN_IV TQ is already a fraction of 255 (255 = no loss on the path). */
export function tqToQuality(tq: number): number {
  return clamp01(tq / 255);
}

/**
 * Throughput (kbit/s) on a log scale, one quarter per decade:
 * 100 kbit/s → 0, 1 Mbit/s → 0.25, 10 Mbit/s → 0.5, 100 Mbit/s → 0.75, 1 Gbit/s and up → 1.
 * Logarithmic because mesh links span four decades and a 2 → 20 Mbit/s step matters
 * as much to a user as 20 → 200.
 */
export function throughputToQuality(kbps: number): number {
  if (!(kbps > 0)) return 0;
  return clamp01(Math.log10(kbps / 100) / 4);
}

/**
 * Signal strength (dBm), linear from -100 dBm → 0 to -50 dBm → 1. This is the
 * NetworkManager convention that node-wifi's `quality` also follows, so iw and Wi-Fi
 * scan samples agree.
 */
export function signalToQuality(dbm: number): number {
  return clamp01((dbm + 100) / 50);
}

/** NaN counts as no quality at all. */
function clamp01(x: number): number {
  if (!(x > 0)) return 0;
  return x > 1 ? 1 : x;
}
