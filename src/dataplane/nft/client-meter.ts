// Client side of the nft data plane: counts what this node exchanges through its
// gateway, so the payer pays for what it received (DESIGN §6, §7). Its own table
// `inet bitmesh_client`, counters only: it never drops (the gateway enforces).
//
// Rules
// - Through a gateway means: on a mesh interface, to or from an address outside the
//   mesh's own subnets (the default route is the only way off the mesh). Link-local,
//   multicast and broadcast never count, so control datagrams are free.
// - Up is counted at postrouting (what left), down at prerouting (what arrived), in IP
//   bytes, as the gateway's forward-hook counters count them.
// - Totals never go backwards: if the table vanishes (`nft flush ruleset`) it is rebuilt
//   and counting goes on from the last values read (what passed in between is lost to
//   the meter: the gateway's loss tolerance covers it).

import { networkInterfaces } from 'node:os';
import { isIPv4 } from 'node:net';
import { NftCommandError, NftInputError, NftStateError } from './errors.js';
import { NftProcess, runNftScript } from './nft-process.js';
import { ifNamesOf, type NftIfName } from './nft-values.js';

export const CLIENT_TABLE = 'bitmesh_client';
const T = `inet ${CLIENT_TABLE}`;
const ALWAYS_LOCAL4 = ['224.0.0.0/4', '255.255.255.255/32', '127.0.0.0/8'];
const ALWAYS_LOCAL6 = ['fe80::/10', 'ff00::/8', '::1/128'];
const CIDR = /^[0-9a-fA-F.:]+\/\d{1,3}$/;

export interface ClientMeterConfig {
  readonly meshInterfaces: readonly NftIfName[];
  /** The mesh's own subnets (CIDR, host bits may be set: nft masks them). */
  readonly localSubnets: readonly string[];
}

/** The whole client table as one `nft -f` script (one transaction). */
export function clientMeterScript(cfg: ClientMeterConfig): string {
  const bad = cfg.localSubnets.find((s) => !CIDR.test(s));
  if (bad !== undefined) throw new NftInputError('localSubnets', `not a CIDR: ${JSON.stringify(bad)}`);
  const v4 = [...ALWAYS_LOCAL4, ...cfg.localSubnets.filter((s) => isIPv4(s.split('/')[0]!))];
  const v6 = [...ALWAYS_LOCAL6, ...cfg.localSubnets.filter((s) => !isIPv4(s.split('/')[0]!))];
  const mesh = `{ ${cfg.meshInterfaces.map((n) => `"${n}"`).join(', ')} }`;
  return [
    `add table ${T}`,
    `delete table ${T}`,
    `add table ${T}`,
    `add counter ${T} bmc_up`,
    `add counter ${T} bmc_down`,
    `add set ${T} local4 { type ipv4_addr; flags interval; elements = { ${v4.join(', ')} } }`,
    `add set ${T} local6 { type ipv6_addr; flags interval; elements = { ${v6.join(', ')} } }`,
    `add chain ${T} bmc_out { type filter hook postrouting priority filter; policy accept; }`,
    `add rule ${T} bmc_out oifname ${mesh} ip daddr != @local4 counter name "bmc_up"`,
    `add rule ${T} bmc_out oifname ${mesh} ip6 daddr != @local6 counter name "bmc_up"`,
    `add chain ${T} bmc_in { type filter hook prerouting priority filter; policy accept; }`,
    `add rule ${T} bmc_in iifname ${mesh} ip saddr != @local4 counter name "bmc_down"`,
    `add rule ${T} bmc_in iifname ${mesh} ip6 saddr != @local6 counter name "bmc_down"`,
    '',
  ].join('\n');
}

/** The subnets of these interfaces as the OS reports them (CIDR, host bits set). */
export function interfaceSubnets(names: readonly string[]): string[] {
  const all = networkInterfaces();
  return names.flatMap((n) => (all[n] ?? []).filter((a) => a.cidr && !a.address.startsWith('fe80')).map((a) => a.cidr as string)).sort();
}

export interface ClientTotals {
  readonly upBytes: number;
  readonly downBytes: number;
}

export interface ClientMeterOptions {
  readonly meshInterfaces: readonly string[];
  /** Default: read from the interfaces at start and on every `refreshSubnets()`. */
  readonly localSubnets?: () => readonly string[];
  readonly nftCommand?: readonly string[];
  readonly timeoutMs?: number;
}

export class ClientMeter {
  readonly #mesh: readonly NftIfName[];
  readonly #subnets: () => readonly string[];
  readonly #command: readonly string[];
  readonly #timeoutMs: number;
  #nft: NftProcess | undefined;
  #current: readonly string[] = [];
  // Totals carried over table rebuilds, and the last values read from the kernel.
  #base: ClientTotals = { upBytes: 0, downBytes: 0 };
  #last: ClientTotals = { upBytes: 0, downBytes: 0 };
  /** Tables built so far (1 after start; more after a flush or a subnet change). */
  builds = 0;

  constructor(opts: ClientMeterOptions) {
    this.#mesh = ifNamesOf(opts.meshInterfaces, 'meshInterfaces');
    this.#subnets = opts.localSubnets ?? (() => interfaceSubnets(this.#mesh));
    this.#command = opts.nftCommand ?? ['nft'];
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
  }

  async start(): Promise<void> {
    this.#nft = new NftProcess({ command: this.#command, timeoutMs: this.#timeoutMs });
    await this.#build();
  }

  /** Removes the table (the node stops metering; nothing was ever dropped by it). */
  async stop(): Promise<void> {
    const nft = this.#nft;
    this.#nft = undefined;
    if (!nft) return;
    await nft.exec(`delete table ${T}`).catch(() => {});
    await nft.close();
  }

  /** Rebuilds the table if the mesh interfaces' subnets changed. */
  async refreshSubnets(): Promise<void> {
    const now = [...this.#subnets()].sort();
    if (now.join(',') !== this.#current.join(',')) await this.#build();
  }

  /** Totals since start; rebuilds the table if it is gone. */
  async read(): Promise<ClientTotals> {
    const nft = this.#nft;
    if (!nft) throw new NftStateError('client meter not started');
    let up: number | undefined;
    let down: number | undefined;
    try {
      for (const i of await nft.read(`list counters table ${T}`)) {
        if (i.kind !== 'counter' || i.table !== CLIENT_TABLE) continue;
        if (i.name === 'bmc_up') up = i.bytes;
        if (i.name === 'bmc_down') down = i.bytes;
      }
    } catch (e) {
      if (!(e instanceof NftCommandError)) throw e;
    }
    if (up === undefined || down === undefined) {
      await this.#build();
      return this.totals;
    }
    this.#last = { upBytes: up, downBytes: down };
    return this.totals;
  }

  get totals(): ClientTotals {
    return { upBytes: this.#base.upBytes + this.#last.upBytes, downBytes: this.#base.downBytes + this.#last.downBytes };
  }

  async #build(): Promise<void> {
    this.#base = this.totals;
    this.#last = { upBytes: 0, downBytes: 0 };
    this.#current = [...this.#subnets()].sort();
    await runNftScript(this.#command, clientMeterScript({ meshInterfaces: this.#mesh, localSubnets: this.#current }), this.#timeoutMs);
    this.builds++;
  }
}
