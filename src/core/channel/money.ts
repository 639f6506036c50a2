// Units of a channel: ticks, bytes, millisatoshi (DESIGN.md §3, §6). Pure arithmetic,
// kept apart so both machines and the tests agree on every rounding.
import { BYTES_PER_KIB, MSAT_PER_SAT } from './constants.js';

export interface ChannelPrice {
  readonly tickKiB: number;
  readonly priceMsatPerKiB: number;
}

export function tickBytes(p: ChannelPrice): number {
  return p.tickKiB * BYTES_PER_KIB;
}

/** What one TICK pays: tickKiB × price. */
export function tickMsat(p: ChannelPrice): bigint {
  return BigInt(p.tickKiB) * BigInt(p.priceMsatPerKiB);
}

/** On chain the payee gets whole satoshi only. */
export function satFloor(msat: bigint): bigint {
  return msat / MSAT_PER_SAT;
}

/** Ticks the channel can pay for: bounded by the chain and by the capacity. */
export function maxTicks(p: ChannelPrice, capacitySat: bigint, chainLength: number): number {
  const per = tickMsat(p);
  if (per === 0n) return chainLength;
  const byCapacity = (capacitySat * MSAT_PER_SAT) / per;
  return byCapacity < BigInt(chainLength) ? Number(byCapacity) : chainLength;
}

/** Bytes that `msat` buys at the channel price (unbounded when the price is 0). */
export function bytesWorth(msat: number, priceMsatPerKiB: number): number {
  if (priceMsatPerKiB <= 0) return Number.MAX_SAFE_INTEGER;
  return Math.floor((msat * BYTES_PER_KIB) / priceMsatPerKiB);
}

/** The smallest tick count whose payment crosses past `sat` whole satoshi. */
export function firstTickPast(sat: bigint, p: ChannelPrice): number {
  const per = tickMsat(p);
  if (per === 0n) return Number.MAX_SAFE_INTEGER;
  const need = (sat + 1n) * MSAT_PER_SAT;
  return Number((need + per - 1n) / per);
}
