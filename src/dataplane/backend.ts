// The data plane behind one interface (DESIGN §7): the channel manager grants each
// paying client an allowance in bytes, revokes it, and reads what was used. Two
// backends implement it: `nft` (kernel-enforced, routers) and `proxy` (a metered
// SOCKS5 relay in the agent, laptops and the demo).

/** One paying client as the data plane knows it. */
export interface ClientRef {
  /** Channel id, hex: the key every backend uses. */
  readonly channelId: string;
  /** nft: the client's mesh addresses (IPv4 and/or IPv6) whose forwarded traffic is metered. */
  readonly addresses: readonly string[];
}

export interface Usage {
  /** Bytes from the client towards the upstream. */
  readonly upBytes: number;
  /** Bytes from the upstream back to the client. */
  readonly downBytes: number;
  /** Both directions: what the channel bills. */
  readonly totalBytes: number;
}

export interface DataplaneBackend {
  readonly name: 'nft' | 'proxy';
  /**
   * Usage reaches the channels in steps this far apart (a counter poll); absent when
   * bytes are metered as they pass. The payee's credit covers the lag (credit-window.ts).
   */
  readonly meterIntervalMs?: number;
  /**
   * The least allowance step that lets traffic through: the kernel forwards a GRO/GSO
   * aggregate (up to 64 KiB) whole or drops it whole, so a credit below one stalls a
   * channel at a tick boundary. Absent when bytes are metered one by one (proxy).
   */
  readonly minCreditBytes?: number;
  start(): Promise<void>;
  /** Fail closed: after stop, no client is forwarded. */
  stop(): Promise<void>;
  /**
   * Sets the client's total allowance since its channel opened (both directions).
   * Raising it never resets what was used; traffic stops at exactly this byte.
   */
  grant(client: ClientRef, totalBytes: number): Promise<void>;
  /** Cuts the client off now (allowance = what it has used). */
  revoke(channelId: string): Promise<void>;
  /** Bytes used since the channel's first grant. */
  usage(channelId: string): Promise<Usage | undefined>;
  /** Forgets the client (channel closed). */
  remove(channelId: string): Promise<void>;
}
