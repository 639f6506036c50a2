// What the management client needs from a node. The agent implements it; tests use an
// in-process twin (managed-node.test-support.ts). Every method must return promptly and
// must not depend on the broker: the manager calls them from MQTT callbacks.
import type { MetricsSnapshot } from './metrics.js';

export type NodeEventKind =
  | 'award_won'
  | 'award_lost'
  | 'channel_opened'
  | 'channel_closed'
  | 'client_cut_off'
  | 'failover'
  | 'price_changed'
  | 'selling_paused'
  | 'selling_resumed'
  | 'config_changed';

export interface NodeEvent {
  readonly kind: NodeEventKind;
  /** ms since the epoch. */
  readonly ts: number;
  readonly details?: Readonly<Record<string, string | number | boolean>>;
}

/** Published retained on bitmesh/<id>/status while online. JSON-safe. */
export interface NodeStatus {
  readonly node: string;
  readonly role: string;
  readonly version: string;
  readonly priceMsatPerKiB: number;
  readonly selling: boolean;
  readonly uptimeS: number;
  /** Anything else the node wants to show (StatusReport fields); must be JSON-safe. */
  readonly extra?: Readonly<Record<string, unknown>>;
}

export interface ManagedNode {
  status(): NodeStatus;
  metrics(): MetricsSnapshot;
  /** Gateway asking price; takes effect in the next OFFER. */
  setPrice(msatPerKiB: number): void;
  pauseSelling(): void;
  resumeSelling(): void;
  /**
   * Set one whitelisted option: validate, write the UCI file, apply. Throws MgmtError
   * ('refused' not whitelisted, 'bad_args' invalid value) and changes nothing then.
   */
  setConfigOption(section: string, option: string, value: string): Promise<void>;
  /** Throws MgmtError('bad_args') for an unknown channel. */
  closeChannel(id: string): Promise<void>;
  reauction(): Promise<void>;
  /** Restart the agent (on a router procd respawns it); resolves before it goes down. */
  restart(): Promise<void>;
  /** Subscribe to node events; returns the unsubscribe function. */
  onEvent(listener: (e: NodeEvent) => void): () => void;
}
