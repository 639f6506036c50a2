// The nft data plane (DESIGN §7): kernel-enforced allowances in table `inet bitmesh`.
//
// Rules
// - Every change is one nft transaction, written as one line to one long-lived
//   `nft -j -i` child (NftProcess); whole-table rebuilds go through a fresh `nft -f -`.
// - Calls run one at a time in call order (the channel manager fires grants without
//   awaiting them), and the watchdog's ticks queue with them.
// - A client's limit is its granted total plus the bytes its quota dropped (see
//   ruleset.ts): what it pays for is what it gets.
// - Fail closed. No element in the maps: drop. stop() detaches every client but keeps
//   the table and the counters. If the agent dies, the table stays and each client can
//   use at most what it was granted.
//
// Stale state at start: if a table `inet bitmesh` exists (the agent was restarted), the
// per-client up/down counters are read and kept aside, then the table is rebuilt empty
// (every client blocked). A channel granted again gets its counters back, so usage stays
// "since the channel's first grant" across agent restarts; channels not granted again
// are forgotten with the old table.
//
// Watchdog: every `watchdogIntervalMs` (default 1 s) it checks the base chain (hook,
// priority, rule count) and reads all counters. If the table is gone (`nft flush
// ruleset`, `fw4` tearing things down) or damaged, it rebuilds it from the backend's
// state with the last counters read. Bytes forwarded after that last read and before the
// flush are lost to the meter (at most one interval's worth, the client's gain).

import type { ClientRef, DataplaneBackend, Usage } from '../backend.js';
import { NftAddressInUseError, NftCommandError, NftStateError, type NftProcessError } from './errors.js';
import type { NftItem } from './nft-json.js';
import { NftProcess, readNftOnce, runNftScript } from './nft-process.js';
import { addressOf, bytesOf, channelIdOf, ifNamesOf, type NftAddress, type NftChannelId } from './nft-values.js';
import {
  BASE_CHAIN,
  BASE_CHAIN_RULES,
  FAMILY,
  TABLE,
  attachCommands,
  clientCommands,
  detachCommands,
  oneLine,
  removeClientCommands,
  setLimitCommands,
  tableScript,
  uncutCommands,
  type ClientEntry,
  type CounterValue,
  type RulesetConfig,
} from './ruleset.js';

export type NftBackendEvent =
  | { readonly kind: 'adopted'; readonly channels: number }
  | { readonly kind: 'restored'; readonly reason: string; readonly clients: number; readonly ms: number }
  | { readonly kind: 'restore-failed'; readonly error: Error }
  | { readonly kind: 'child-lost'; readonly error: NftProcessError };

export interface NftBackendOptions {
  /** Interfaces clients come in on (bat0, br-mesh…). */
  readonly meshInterfaces: readonly string[];
  /** Interfaces towards the internet (wan, eth1, pppoe-wan…). */
  readonly upstreamInterfaces: readonly string[];
  /** nft program and leading arguments; default `['nft']`. */
  readonly nftCommand?: readonly string[];
  /** Table check period; ≤ 1000 keeps restores within 3 s. */
  readonly watchdogIntervalMs?: number;
  /** Longest one nft command may take. */
  readonly timeoutMs?: number;
  readonly onEvent?: (e: NftBackendEvent) => void;
}

interface ClientState {
  readonly id: NftChannelId;
  addresses: readonly NftAddress[];
  granted: number;
  attached: boolean;
  // Last values read from the kernel (or carried into the last rebuild).
  up: CounterValue;
  down: CounterValue;
  drop: CounterValue;
}

type Phase = 'idle' | 'started' | 'stopped';

const ZERO: CounterValue = { packets: 0, bytes: 0 };
const T = `${FAMILY} ${TABLE}`;
const COUNTER_NAME = /^c_([0-9a-f]{1,64})_(up|down|drop)$/;

export class NftBackend implements DataplaneBackend {
  readonly name = 'nft' as const;
  /** Reads of the whole counter list (the metering poll and the watchdog make them). */
  readonly stats = { counterReads: 0 };
  readonly #cfg: RulesetConfig;
  readonly #command: readonly string[];
  readonly #interval: number;
  /** When a counter read last saw every client's counters (the watchdog need not read them again). */
  #countersWholeAt = -Infinity;
  readonly #timeoutMs: number;
  readonly #onEvent: (e: NftBackendEvent) => void;
  readonly #clients = new Map<NftChannelId, ClientState>();
  /** Counters of a previous agent's table, until their channel is granted again. */
  readonly #adopted = new Map<NftChannelId, { up: CounterValue; down: CounterValue }>();
  readonly #nft: NftProcess;
  #serial: Promise<unknown> = Promise.resolve();
  #phase: Phase = 'idle';
  #watchdog: NodeJS.Timeout | undefined;
  #checking = false;

  constructor(opts: NftBackendOptions) {
    this.#cfg = {
      meshInterfaces: ifNamesOf(opts.meshInterfaces, 'meshInterfaces'),
      upstreamInterfaces: ifNamesOf(opts.upstreamInterfaces, 'upstreamInterfaces'),
    };
    tableScript(this.#cfg, []); // throws now on a bad config, not at start
    this.#command = opts.nftCommand ?? ['nft'];
    this.#interval = opts.watchdogIntervalMs ?? 1_000;
    this.#timeoutMs = opts.timeoutMs ?? 5_000;
    this.#onEvent = opts.onEvent ?? (() => {});
    this.#nft = new NftProcess({
      command: this.#command,
      timeoutMs: this.#timeoutMs,
      onChildLost: (error) => this.#onEvent({ kind: 'child-lost', error }),
    });
  }

  async start(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#phase !== 'idle') throw new NftStateError(`start() when ${this.#phase}`);
      await this.#adoptPrevious();
      await runNftScript(this.#command, tableScript(this.#cfg, []), this.#timeoutMs);
      this.#phase = 'started';
      this.#watchdog = setInterval(() => void this.#tick(), this.#interval);
      this.#watchdog.unref();
    });
  }

  async stop(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#phase !== 'started') return;
      this.#phase = 'stopped';
      clearInterval(this.#watchdog);
      try {
        // Detach everyone, keep counters for the next start to adopt.
        await this.#nft.exec(oneLine(['up4', 'up6', 'down4', 'down6'].map((m) => `flush map ${T} ${m}`)));
      } catch {
        await runNftScript(this.#command, tableScript(this.#cfg, []), this.#timeoutMs);
      } finally {
        await this.#nft.close();
      }
    });
  }

  async grant(client: ClientRef, totalBytes: number): Promise<void> {
    const id = channelIdOf(client.channelId);
    const addresses = dedupe(client.addresses.map(addressOf));
    const total = bytesOf(totalBytes, 'totalBytes');
    return this.#serialize(async () => {
      this.#mustBeStarted();
      for (const a of addresses) {
        for (const other of this.#clients.values()) {
          if (other.id !== id && other.addresses.some((b) => sameAddress(a, b))) throw new NftAddressInUseError(a.text, other.id);
        }
      }
      const c = this.#clients.get(id);
      if (!c) return this.#addClient(id, addresses, total);
      const removed = c.addresses.filter((a) => !addresses.some((b) => sameAddress(a, b)));
      const added = addresses.filter((a) => !c.addresses.some((b) => sameAddress(a, b)));
      const limit = bytesOf(total + c.drop.bytes, 'limit');
      await this.#nft.exec(
        oneLine([
          ...(c.attached ? detachCommands(removed) : []),
          ...uncutCommands(removed),
          ...setLimitCommands(id, addresses, limit),
          ...attachCommands(id, c.attached ? added : addresses),
        ]),
      );
      c.addresses = addresses;
      c.granted = total;
      c.attached = true;
    });
  }

  async revoke(channelId: string): Promise<void> {
    const id = channelIdOf(channelId);
    return this.#serialize(async () => {
      this.#mustBeStarted();
      const c = this.#clients.get(id);
      if (!c || !c.attached) return;
      if (c.addresses.length > 0) await this.#nft.exec(oneLine(detachCommands(c.addresses)));
      c.attached = false;
    });
  }

  async usage(channelId: string): Promise<Usage | undefined> {
    const id = channelIdOf(channelId);
    return this.#serialize(async () => {
      this.#mustBeStarted();
      if (!this.#clients.has(id)) return undefined;
      try {
        await this.#readCounters();
      } catch (e) {
        // Table gone: answer with the last values read; the watchdog rebuilds it.
        if (!(e instanceof NftCommandError)) throw e;
      }
      const c = this.#clients.get(id);
      if (!c) return undefined;
      return { upBytes: c.up.bytes, downBytes: c.down.bytes, totalBytes: c.up.bytes + c.down.bytes };
    });
  }

  /** Every client's usage from one read of all counters (the agent's metering poll). */
  async usageAll(): Promise<Map<string, Usage>> {
    return this.#serialize(async () => {
      this.#mustBeStarted();
      // No client, nothing to read: an idle gateway asks nft nothing ten times a second.
      if (this.#clients.size === 0) return new Map<string, Usage>();
      try {
        await this.#readCounters();
      } catch (e) {
        if (!(e instanceof NftCommandError)) throw e;
      }
      const out = new Map<string, Usage>();
      for (const c of this.#clients.values()) out.set(c.id, { upBytes: c.up.bytes, downBytes: c.down.bytes, totalBytes: c.up.bytes + c.down.bytes });
      return out;
    });
  }

  async remove(channelId: string): Promise<void> {
    const id = channelIdOf(channelId);
    return this.#serialize(async () => {
      this.#mustBeStarted();
      const c = this.#clients.get(id);
      this.#adopted.delete(id);
      if (!c) return;
      this.#clients.delete(id);
      try {
        await this.#nft.exec(oneLine(removeClientCommands(id, c.addresses, c.attached)));
      } catch {
        // Whatever is left of it goes with a rebuild from the remaining clients.
        await this.#restore('remove failed');
      }
    });
  }

  /** Runs one watchdog check now (tests, and the timer). */
  async check(): Promise<void> {
    return this.#serialize(async () => {
      if (this.#phase !== 'started') return;
      const problem = await this.#inspect();
      if (problem) await this.#restore(problem);
    });
  }

  async #tick(): Promise<void> {
    if (this.#checking) return;
    this.#checking = true;
    try {
      await this.check();
    } catch {
      // #restore reported it; the next tick tries again.
    } finally {
      this.#checking = false;
    }
  }

  /** Why the table needs a rebuild, or undefined when it is whole. */
  async #inspect(): Promise<string | undefined> {
    let chain: NftItem[];
    try {
      chain = await this.#nft.read(`list chain ${T} ${BASE_CHAIN}`);
    } catch (e) {
      if (e instanceof NftCommandError) return 'table or base chain missing';
      throw e;
    }
    const head = chain.find((i) => i.kind === 'chain' && i.name === BASE_CHAIN);
    if (!head || head.kind !== 'chain' || head.hook !== 'forward' || head.prio !== -1) return 'base chain changed';
    const rules = chain.filter((i) => i.kind === 'rule' && i.chain === BASE_CHAIN).length;
    if (rules !== BASE_CHAIN_RULES) return `base chain has ${rules} rules`;
    if (this.#clients.size === 0) return undefined;
    // The metering poll read every client's counters within the last interval: that
    // read is the check, and saves the nft child a second one.
    if (performance.now() - this.#countersWholeAt < this.#interval) return undefined;
    try {
      const seen = await this.#readCounters();
      for (const id of this.#clients.keys()) if (!seen.has(id)) return `counters of ${id.slice(0, 16)} missing`;
    } catch (e) {
      if (e instanceof NftCommandError) return 'counters unreadable';
      throw e;
    }
    return undefined;
  }

  /** Reads every counter of the table into the client states; returns the ids seen. */
  async #readCounters(): Promise<Set<string>> {
    this.stats.counterReads++;
    const items = await this.#nft.read(`list counters table ${T}`);
    const seen = new Set<string>();
    for (const i of items) {
      if (i.kind !== 'counter' || i.table !== TABLE || i.family !== FAMILY) continue;
      const m = COUNTER_NAME.exec(i.name);
      const c = m && this.#clients.get(m[1] as NftChannelId);
      if (!m || !c) continue;
      c[m[2] as 'up' | 'down' | 'drop'] = { packets: i.packets, bytes: i.bytes };
      seen.add(c.id);
    }
    if (seen.size === this.#clients.size) this.#countersWholeAt = performance.now();
    return seen;
  }

  async #restore(reason: string): Promise<void> {
    const t0 = performance.now();
    const entries: ClientEntry[] = [...this.#clients.values()].map((c) => {
      // The drop counter starts again at zero, so the limit is the grant itself.
      c.drop = ZERO;
      return { id: c.id, addresses: c.addresses, limit: bytesOf(Math.max(c.granted, c.up.bytes + c.down.bytes)), up: c.up, down: c.down, drop: ZERO, attached: c.attached };
    });
    try {
      await runNftScript(this.#command, tableScript(this.#cfg, entries), this.#timeoutMs);
    } catch (e) {
      this.#onEvent({ kind: 'restore-failed', error: e as Error });
      throw e;
    }
    this.#onEvent({ kind: 'restored', reason, clients: entries.length, ms: performance.now() - t0 });
  }

  async #addClient(id: NftChannelId, addresses: readonly NftAddress[], total: number): Promise<void> {
    const prev = this.#adopted.get(id);
    const up = prev?.up ?? ZERO;
    const down = prev?.down ?? ZERO;
    const entry: ClientEntry = { id, addresses, limit: bytesOf(Math.max(total, up.bytes + down.bytes)), up, down, drop: ZERO, attached: true };
    await this.#nft.exec(oneLine(clientCommands(entry)));
    this.#adopted.delete(id);
    this.#clients.set(id, { id, addresses, granted: total, attached: true, up, down, drop: ZERO });
  }

  async #adoptPrevious(): Promise<void> {
    let items: NftItem[];
    try {
      items = await readNftOnce(this.#command, ['list', 'counters', 'table', FAMILY, TABLE], this.#timeoutMs);
    } catch (e) {
      if (e instanceof NftCommandError) return; // no table: a first start
      throw e;
    }
    for (const i of items) {
      if (i.kind !== 'counter') continue;
      const m = COUNTER_NAME.exec(i.name);
      if (!m || m[2] === 'drop') continue;
      const id = m[1] as NftChannelId;
      const prev = this.#adopted.get(id) ?? { up: ZERO, down: ZERO };
      this.#adopted.set(id, { ...prev, [m[2] as 'up' | 'down']: { packets: i.packets, bytes: i.bytes } });
    }
    this.#onEvent({ kind: 'adopted', channels: this.#adopted.size });
  }

  #mustBeStarted(): void {
    if (this.#phase !== 'started') throw new NftStateError(`nft backend is ${this.#phase}`);
  }

  #serialize<R>(f: () => Promise<R>): Promise<R> {
    const run = this.#serial.then(f, f);
    this.#serial = run.catch(() => {});
    return run;
  }
}

const sameAddress = (a: NftAddress, b: NftAddress) => a.family === b.family && canonical(a) === canonical(b);

function canonical(a: NftAddress): string {
  if (a.family === 4) return a.text;
  // Expand IPv6 so that fd00::1 and fd00:0::1 compare equal.
  const url = new URL(`http://[${a.text}]/`);
  return url.hostname;
}

function dedupe(list: readonly NftAddress[]): NftAddress[] {
  const out: NftAddress[] = [];
  for (const a of list) if (!out.some((b) => sameAddress(a, b))) out.push(a);
  return out;
}
