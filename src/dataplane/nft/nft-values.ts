// Everything that goes into nft text passes through here first: channel ids, client
// addresses, interface names and byte counts become branded values or an NftInputError.
// nft text is a language; a quote, brace or semicolon in a name would be a new command.

import { isIPv4, isIPv6 } from 'node:net';
import { NftInputError } from './errors.js';

declare const brand: unique symbol;
type Brand<T, B> = T & { readonly [brand]: B };

/** Lowercase hex, 1–64 digits: object names stay short identifiers nft cannot misread. */
export type NftChannelId = Brand<string, 'NftChannelId'>;
/** An interface name Linux accepts (≤ 15 bytes) from a conservative alphabet. */
export type NftIfName = Brand<string, 'NftIfName'>;
/** A byte count nft and a JS number both hold exactly. */
export type NftBytes = Brand<number, 'NftBytes'>;

export interface NftAddress {
  readonly family: 4 | 6;
  /** As given (validated); nft prints its own canonical form back. */
  readonly text: string;
}

const CHANNEL_ID = /^[0-9a-f]{1,64}$/;
// OpenWrt names: br-lan, eth0.2, bat0, phy0-mesh0, pppoe-wan, wlan0-1.
const IFNAME = /^[A-Za-z0-9_.-]{1,15}$/;

export function channelIdOf(value: string): NftChannelId {
  if (typeof value !== 'string' || !CHANNEL_ID.test(value)) {
    throw new NftInputError('channelId', `expected 1-64 lowercase hex digits, got ${JSON.stringify(String(value).slice(0, 80))}`);
  }
  return value as NftChannelId;
}

export function ifNameOf(value: string): NftIfName {
  if (typeof value !== 'string' || !IFNAME.test(value) || value === '.' || value === '..') {
    throw new NftInputError('interface', `expected 1-15 of [A-Za-z0-9_.-], got ${JSON.stringify(String(value).slice(0, 80))}`);
  }
  return value as NftIfName;
}

/** One host address, IPv4 dotted quad or IPv6 without zone or prefix. */
export function addressOf(value: string): NftAddress {
  if (typeof value === 'string' && value.length <= 45 && !value.includes('%') && !value.includes('/')) {
    if (isIPv4(value)) return { family: 4, text: value };
    if (isIPv6(value)) return { family: 6, text: value.toLowerCase() };
  }
  throw new NftInputError('address', `expected one IPv4 or IPv6 host address, got ${JSON.stringify(String(value).slice(0, 80))}`);
}

export function bytesOf(value: number, field = 'bytes'): NftBytes {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new NftInputError(field, `expected a non-negative safe integer, got ${String(value)}`);
  }
  return value as NftBytes;
}

/** Interface lists: at least one, no duplicates. */
export function ifNamesOf(values: readonly string[], field: string): readonly NftIfName[] {
  if (values.length === 0) throw new NftInputError(field, 'expected at least one interface');
  const out = values.map(ifNameOf);
  if (new Set(out).size !== out.length) throw new NftInputError(field, 'duplicate interface');
  return out;
}
