// The nft text of table `inet bitmesh` (DESIGN §7). Pure: values in, text out.
//
// Theory of operation
// - One base chain, `bm_fwd`, hooks forward at priority filter - 1 (before fw4's
//   chains). Only two kinds of packet concern it: mesh → upstream ("up") and
//   upstream → mesh ("down"). Everything else passes to fw4 untouched.
// - Up packets are looked up by source address, down packets by destination address,
//   in verdict maps (`up4`/`up6`/`down4`/`down6`) whose elements `goto` the client's
//   chain `cu_<id>` / `cd_<id>`. No element: an up packet is refused (ICMP
//   admin-prohibited: the sender learns at once that it is not a client here), a down
//   packet dropped. One hash lookup per packet.
// - Both client chains consult the client's one named quota `q_<id>` (`over L bytes`),
//   so both directions are billed against one allowance. Under the quota the packet is
//   counted (`c_<id>_up` / `c_<id>_down`) and accepted. Over it, the packet is counted in
//   `c_<id>_drop`, its address is put in the dynamic set `cut4`/`cut6` and it is dropped;
//   later packets of a cut address are dropped before they reach the quota.
// - Why the drop counter and the cut sets: the kernel adds every packet it evaluates to
//   the quota's consumed bytes, dropped or not, and reports `used` capped at the limit.
//   With the cut set only the packet that crossed the limit is ever dropped by the
//   quota, so consumed = up + down + drop exactly, and a grant of T total bytes sets the
//   limit to T + drop: the client gets what it paid for, no more, no less.
// - Raising an allowance is one transaction: `add quota` with the new limit (the kernel
//   keeps the consumed bytes) and, for each address, `add` + `delete` of the cut-set
//   element (add first so the delete cannot fail when the address was not cut).
// - Fail closed: the base chain `jump`s to `bm_up`/`bm_down` and is followed by a drop
//   of the same match, so a chain that lost its rules (someone flushed it) drops instead
//   of falling through to the accept policy. The per-client chains end in verdicts.
// - No blanket `ct state established accept`: a revoked client's open connections
//   must stop too, and replies are what the download direction bills.

import type { NftAddress, NftBytes, NftChannelId, NftIfName } from './nft-values.js';
import { NftInputError } from './errors.js';

export const FAMILY = 'inet';
export const TABLE = 'bitmesh';
export const BASE_CHAIN = 'bm_fwd';
const T = `${FAMILY} ${TABLE}`;

/** Rules in the base chain; the watchdog checks this count. */
export const BASE_CHAIN_RULES = 4;

export const objectNames = (id: NftChannelId) =>
  ({
    quota: `q_${id}`,
    up: `c_${id}_up`,
    down: `c_${id}_down`,
    drop: `c_${id}_drop`,
    upChain: `cu_${id}`,
    downChain: `cd_${id}`,
  }) as const;

export interface RulesetConfig {
  readonly meshInterfaces: readonly NftIfName[];
  readonly upstreamInterfaces: readonly NftIfName[];
}

export interface CounterValue {
  readonly packets: number;
  readonly bytes: number;
}

/** A client as the kernel should hold it. */
export interface ClientEntry {
  readonly id: NftChannelId;
  readonly addresses: readonly NftAddress[];
  /** The quota's `over` value: granted total plus dropped bytes. */
  readonly limit: NftBytes;
  /** Initial counter values (a rebuild carries them over). */
  readonly up: CounterValue;
  readonly down: CounterValue;
  readonly drop: CounterValue;
  /** Revoked clients keep their objects but no map elements: all their traffic drops. */
  readonly attached: boolean;
}

const ifSet = (names: readonly NftIfName[]) => `{ ${names.map((n) => `"${n}"`).join(', ')} }`;
const maps = (a: NftAddress) => (a.family === 4 ? { up: 'up4', down: 'down4', cut: 'cut4' } : { up: 'up6', down: 'down6', cut: 'cut6' });

function checkConfig(cfg: RulesetConfig): void {
  if (cfg.meshInterfaces.length === 0) throw new NftInputError('meshInterfaces', 'expected at least one interface');
  if (cfg.upstreamInterfaces.length === 0) throw new NftInputError('upstreamInterfaces', 'expected at least one interface');
  const both = cfg.meshInterfaces.filter((m) => cfg.upstreamInterfaces.includes(m));
  if (both.length > 0) throw new NftInputError('upstreamInterfaces', `${both.join(', ')} is also a mesh interface`);
}

/**
 * The skeleton: sets, maps, shared chains and the base chain, no clients. The base
 * chain comes last so the hook starts filtering only when all it jumps to exists.
 */
export function skeletonCommands(cfg: RulesetConfig): string[] {
  checkConfig(cfg);
  const mesh = ifSet(cfg.meshInterfaces);
  const up = ifSet(cfg.upstreamInterfaces);
  return [
    `add table ${T}`,
    `add set ${T} cut4 { type ipv4_addr; flags dynamic; }`,
    `add set ${T} cut6 { type ipv6_addr; flags dynamic; }`,
    `add map ${T} up4 { type ipv4_addr : verdict; }`,
    `add map ${T} up6 { type ipv6_addr : verdict; }`,
    `add map ${T} down4 { type ipv4_addr : verdict; }`,
    `add map ${T} down6 { type ipv6_addr : verdict; }`,
    `add chain ${T} bm_cut_up`,
    `add rule ${T} bm_cut_up add @cut4 { ip saddr } drop`,
    `add rule ${T} bm_cut_up add @cut6 { ip6 saddr } drop`,
    `add rule ${T} bm_cut_up drop`,
    `add chain ${T} bm_cut_down`,
    `add rule ${T} bm_cut_down add @cut4 { ip daddr } drop`,
    `add rule ${T} bm_cut_down add @cut6 { ip6 daddr } drop`,
    `add rule ${T} bm_cut_down drop`,
    `add chain ${T} bm_up`,
    `add rule ${T} bm_up ip saddr @cut4 drop`,
    `add rule ${T} bm_up ip6 saddr @cut6 drop`,
    `add rule ${T} bm_up ip saddr vmap @up4`,
    `add rule ${T} bm_up ip6 saddr vmap @up6`,
    // Not a client: refused, not dropped, so its connection attempts fail at once (a
    // client whose channel is still opening retries then, instead of after a SYN timeout).
    `add rule ${T} bm_up reject with icmpx type admin-prohibited`,
    `add chain ${T} bm_down`,
    `add rule ${T} bm_down ip daddr @cut4 drop`,
    `add rule ${T} bm_down ip6 daddr @cut6 drop`,
    `add rule ${T} bm_down ip daddr vmap @down4`,
    `add rule ${T} bm_down ip6 daddr vmap @down6`,
    `add rule ${T} bm_down drop`,
    `add chain ${T} ${BASE_CHAIN} { type filter hook forward priority filter - 1; policy accept; }`,
    `add rule ${T} ${BASE_CHAIN} iifname ${mesh} oifname ${up} jump bm_up`,
    `add rule ${T} ${BASE_CHAIN} iifname ${mesh} oifname ${up} drop`,
    `add rule ${T} ${BASE_CHAIN} iifname ${up} oifname ${mesh} jump bm_down`,
    `add rule ${T} ${BASE_CHAIN} iifname ${up} oifname ${mesh} drop`,
  ];
}

/** Map elements that send an address's traffic to the client's chains. */
export function attachCommands(id: NftChannelId, addresses: readonly NftAddress[]): string[] {
  const n = objectNames(id);
  return addresses.flatMap((a) => {
    const m = maps(a);
    return [`add element ${T} ${m.up} { ${a.text} : goto ${n.upChain} }`, `add element ${T} ${m.down} { ${a.text} : goto ${n.downChain} }`];
  });
}

/** Removes the map elements: the addresses' traffic falls to the drop rules. */
export function detachCommands(addresses: readonly NftAddress[]): string[] {
  return addresses.flatMap((a) => {
    const m = maps(a);
    return [`delete element ${T} ${m.up} { ${a.text} }`, `delete element ${T} ${m.down} { ${a.text} }`];
  });
}

/** Takes addresses out of the cut sets whether or not they are in them. */
export function uncutCommands(addresses: readonly NftAddress[]): string[] {
  return addresses.flatMap((a) => {
    const { cut } = maps(a);
    return [`add element ${T} ${cut} { ${a.text} }`, `delete element ${T} ${cut} { ${a.text} }`];
  });
}

/** A client's objects and chains, with initial values, attached or not. */
export function clientCommands(c: ClientEntry): string[] {
  const n = objectNames(c.id);
  const used = c.up.bytes + c.down.bytes + c.drop.bytes;
  if (used > c.limit) throw new NftInputError('limit', `limit ${c.limit} below the bytes already used (${used})`);
  const counter = (name: string, v: CounterValue) => `add counter ${T} ${name} { packets ${v.packets} bytes ${v.bytes} }`;
  return [
    `add quota ${T} ${n.quota} { over ${c.limit} bytes used ${used} bytes }`,
    counter(n.up, c.up),
    counter(n.down, c.down),
    counter(n.drop, c.drop),
    `add chain ${T} ${n.upChain}`,
    `add rule ${T} ${n.upChain} quota name "${n.quota}" counter name "${n.drop}" goto bm_cut_up`,
    `add rule ${T} ${n.upChain} counter name "${n.up}" accept`,
    `add chain ${T} ${n.downChain}`,
    `add rule ${T} ${n.downChain} quota name "${n.quota}" counter name "${n.drop}" goto bm_cut_down`,
    `add rule ${T} ${n.downChain} counter name "${n.down}" accept`,
    ...uncutCommands(c.addresses),
    ...(c.attached ? attachCommands(c.id, c.addresses) : []),
  ];
}

/** Sets a client's limit in place (the kernel keeps its consumed bytes) and un-cuts it. */
export function setLimitCommands(id: NftChannelId, addresses: readonly NftAddress[], limit: NftBytes): string[] {
  return [`add quota ${T} ${objectNames(id).quota} { over ${limit} bytes }`, ...uncutCommands(addresses)];
}

/** Everything of one client, in an order the kernel accepts in one transaction. */
export function removeClientCommands(id: NftChannelId, addresses: readonly NftAddress[], attached: boolean): string[] {
  const n = objectNames(id);
  return [
    ...(attached ? detachCommands(addresses) : []),
    ...uncutCommands(addresses),
    `flush chain ${T} ${n.upChain}`,
    `flush chain ${T} ${n.downChain}`,
    `delete chain ${T} ${n.upChain}`,
    `delete chain ${T} ${n.downChain}`,
    `delete quota ${T} ${n.quota}`,
    `delete counter ${T} ${n.up}`,
    `delete counter ${T} ${n.down}`,
    `delete counter ${T} ${n.drop}`,
  ];
}

/**
 * The whole table as one `nft -f` script: creates the table if missing so the delete
 * cannot fail, deletes it and builds it again — one transaction, so forwarding is never
 * open in between.
 */
export function tableScript(cfg: RulesetConfig, clients: readonly ClientEntry[]): string {
  const lines = [`add table ${T}`, `delete table ${T}`, ...skeletonCommands(cfg)];
  // Client objects go in before the base chain starts filtering; the skeleton's last
  // five lines are the base chain.
  const base = lines.splice(lines.length - 1 - BASE_CHAIN_RULES, 1 + BASE_CHAIN_RULES);
  for (const c of clients) lines.push(...clientCommands(c));
  lines.push(...base);
  return `${lines.join('\n')}\n`;
}

/** Several commands as one line: `nft -i` runs a line as one transaction. */
export const oneLine = (commands: readonly string[]): string => commands.join('; ');
