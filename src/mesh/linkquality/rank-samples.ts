// Orders samples best first and bounds how many a source hands on: a neighbour can
// announce any number of originators, and memory must not grow with what it sends.

import type { LinkSample } from './source.js';

export function rankSamples(samples: readonly LinkSample[], maxSamples: number): LinkSample[] {
  // Ties broken by MAC so the order does not depend on the tool's hash-table order.
  const sorted = [...samples].sort((a, b) => b.quality - a.quality || (a.mac < b.mac ? -1 : a.mac > b.mac ? 1 : 0));
  return sorted.slice(0, Math.max(0, maxSamples));
}
