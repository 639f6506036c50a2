// Who is on the mesh right now: one entry per node id heard in a verified HELLO,
// with the address it speaks from, its roles, and the link quality measured to it.
// Bounded (least recently heard evicted first) and expired by `now`, never by a
// timer of its own: the agent calls expire(now) from its one discovery timer.
import { bytesToHex } from '@noble/hashes/utils.js';

export interface LinkQuality {
  /** 0..1, from the configured link-quality source (batman TQ, iw, Wi-Fi scan). */
  readonly quality: number;
  readonly source: string;
  readonly measuredAt: number;
}

export interface Neighbour {
  readonly id: string; // hex of the 32-byte node id
  readonly idBytes: Uint8Array;
  address: string;
  port: number;
  roles: number;
  firstSeen: number;
  lastSeen: number;
  hellos: number;
  seq: number;
  link: LinkQuality | undefined;
}

function endpointKey(address: string, port: number): string {
  return `${address}|${port}`;
}

export interface NeighbourTableOptions {
  readonly expiryMs: number;
  readonly maxEntries: number;
}

export class NeighbourTable {
  readonly #byId = new Map<string, Neighbour>();
  /** `address|port` → id: unsigned messages (TICK, COMMIT) are attributed by where they come from. */
  readonly #byEndpoint = new Map<string, string>();
  constructor(private readonly opts: NeighbourTableOptions) {}

  /** Records a verified HELLO. Returns true when the neighbour is new. */
  heard(idBytes: Uint8Array, address: string, port: number, roles: number, seq: number, now: number): boolean {
    const id = bytesToHex(idBytes);
    const n = this.#byId.get(id);
    if (n) {
      this.#byId.delete(id); // keep map order = least recently heard first
      if (n.address !== address || n.port !== port) this.#byEndpoint.delete(endpointKey(n.address, n.port));
      Object.assign(n, { address, port, roles, seq, lastSeen: now, hellos: n.hellos + 1 });
      this.#byId.set(id, n);
      this.#byEndpoint.set(endpointKey(address, port), id);
      return false;
    }
    while (this.#byId.size >= this.opts.maxEntries) {
      const oldest = this.#byId.values().next().value;
      if (oldest === undefined) break;
      this.#remove(oldest);
    }
    this.#byEndpoint.set(endpointKey(address, port), id);
    this.#byId.set(id, {
      id,
      idBytes: new Uint8Array(idBytes),
      address,
      port,
      roles,
      seq,
      firstSeen: now,
      lastSeen: now,
      hellos: 1,
      link: undefined,
    });
    return true;
  }

  /** Removes neighbours not heard for `expiryMs`; returns them. */
  expire(now: number): Neighbour[] {
    const gone: Neighbour[] = [];
    for (const n of this.#byId.values()) {
      if (now - n.lastSeen <= this.opts.expiryMs) break; // ordered by lastSeen
      this.#remove(n);
      gone.push(n);
    }
    return gone;
  }

  /** Earliest time at which some entry may expire, for the agent's timer. */
  nextExpiry(): number | undefined {
    const first = this.#byId.values().next().value;
    return first ? first.lastSeen + this.opts.expiryMs + 1 : undefined;
  }

  setLinkQuality(id: string, link: LinkQuality): void {
    const n = this.#byId.get(id);
    if (n) n.link = link;
  }

  /** The neighbour speaking from this address and port (unsigned messages carry no sender). */
  byEndpoint(address: string, port: number): Neighbour | undefined {
    const id = this.#byEndpoint.get(endpointKey(address, port));
    return id === undefined ? undefined : this.#byId.get(id);
  }

  #remove(n: Neighbour): void {
    this.#byId.delete(n.id);
    if (this.#byEndpoint.get(endpointKey(n.address, n.port)) === n.id) this.#byEndpoint.delete(endpointKey(n.address, n.port));
  }

  get(id: string): Neighbour | undefined {
    return this.#byId.get(id);
  }

  list(): Neighbour[] {
    return [...this.#byId.values()];
  }

  get size(): number {
    return this.#byId.size;
  }
}
