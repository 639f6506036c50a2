// The one interface every link-quality source implements. A client ranks gateways
// partly by how good its mesh path to them is; batman-adv, iw and a Wi-Fi scan each
// see a different part of that, so each becomes a source of LinkSamples.

/** Which tool a sample came from. */
export type LinkSampleOrigin = 'batman' | 'iw' | 'wifi';

export interface LinkSample {
  /** The far end: batman originator, 802.11 station or BSSID; lowercase `aa:bb:cc:dd:ee:ff`. */
  readonly mac: string;
  /** 0..1, comparable across sources (see quality-curves.ts for each mapping). */
  readonly quality: number;
  /** batman-adv BATMAN_IV transmit quality, 0..255. */
  readonly tq?: number;
  /** Estimated link or path throughput in kbit/s (BATMAN_V, iw `expected throughput`). */
  readonly throughputKbps?: number;
  /** Received signal strength in dBm (iw, Wi-Fi scan). */
  readonly signalDbm?: number;
  /** Milliseconds since the far end was last heard (batman `last_seen_msecs`, iw `inactive time`). */
  readonly lastSeenMs?: number;
  /** Local interface the far end is reached through. */
  readonly iface?: string;
  /** batman-adv only: the direct neighbour that is the next hop towards `mac`. */
  readonly nextHop?: string;
  /** Wi-Fi scan only: network name. */
  readonly ssid?: string;
  /** Wi-Fi scan only: channel number. */
  readonly channel?: number;
  readonly source: LinkSampleOrigin;
}

export interface LinkQualitySource {
  /** Short stable name for logs and `bitmesh status`: "none", "batman", "iw", "wifi". */
  readonly name: string;
  /**
   * One reading of every far end the source can see, best quality first.
   * Rejects only with LinkQualityParseError or LinkQualityUnavailableError.
   */
  sample(): Promise<LinkSample[]>;
}
