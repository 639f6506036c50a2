// The control plane's only socket code: dgram sockets on the mesh, discovery to
// ff02::4270 on each mesh interface (IPv4 broadcast as fallback), and unicast to
// known peers. Loopback mode (bind_address set, explicit peer list) is what tests
// and the demo use: there is no multicast on lo worth relying on.
import dgram from 'node:dgram';
import { once } from 'node:events';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
}

export interface UdpTransportOptions {
  readonly port: number;
  /** Empty: listen on all addresses (router). An address: listen there only (tests, demo). */
  readonly bindAddress: string;
  readonly interfaces: readonly string[];
  readonly multicastGroup: string;
  readonly ipv4Broadcast: boolean;
  /** Explicit unicast peers that also receive every discovery beacon. */
  readonly peers: readonly Endpoint[];
}

export type DatagramHandler = (data: Uint8Array, from: Endpoint) => void;

export class UdpTransport {
  readonly #sockets: dgram.Socket[] = [];
  #v6: dgram.Socket | undefined;
  #v4: dgram.Socket | undefined;
  #sendErrors = 0;

  constructor(
    private readonly opts: UdpTransportOptions,
    private readonly onDatagram: DatagramHandler,
    private readonly onError: (err: Error) => void,
  ) {}

  get sendErrors(): number {
    return this.#sendErrors;
  }

  /** Local port actually bound (port 0 in options → an ephemeral one, for tests). */
  get port(): number {
    const s = this.#v4 ?? this.#v6;
    return s ? s.address().port : this.opts.port;
  }

  async start(): Promise<void> {
    const { bindAddress } = this.opts;
    if (bindAddress) {
      const s = dgram.createSocket({ type: bindAddress.includes(':') ? 'udp6' : 'udp4', reuseAddr: false });
      await this.#bind(s, bindAddress, this.opts.port);
      if (bindAddress.includes(':')) this.#v6 = s;
      else this.#v4 = s;
      return;
    }
    // Router mode: one IPv6 socket joined to the discovery group on every mesh
    // interface, and an IPv4 socket for the broadcast fallback.
    const v6 = dgram.createSocket({ type: 'udp6', ipv6Only: true, reuseAddr: true });
    await this.#bind(v6, '::', this.opts.port);
    for (const ifname of this.opts.interfaces) {
      try {
        v6.addMembership(this.opts.multicastGroup, `::%${ifname}`);
      } catch (e) {
        this.onError(new Error(`cannot join ${this.opts.multicastGroup} on ${ifname}: ${(e as Error).message}`));
      }
    }
    this.#v6 = v6;
    if (this.opts.ipv4Broadcast) {
      const v4 = dgram.createSocket({ type: 'udp4', reuseAddr: true });
      await this.#bind(v4, '0.0.0.0', this.opts.port);
      v4.setBroadcast(true);
      this.#v4 = v4;
    }
  }

  async #bind(s: dgram.Socket, address: string, port: number): Promise<void> {
    s.on('message', (msg, rinfo) => this.onDatagram(msg, { address: rinfo.address, port: rinfo.port }));
    s.on('error', (err) => this.onError(err));
    s.bind(port, address);
    await once(s, 'listening');
    this.#sockets.push(s);
  }

  /** Discovery beacon: multicast per interface, broadcast fallback, explicit peers. */
  broadcast(data: Uint8Array): void {
    if (!this.opts.bindAddress) {
      for (const ifname of this.opts.interfaces) {
        this.send(data, { address: `${this.opts.multicastGroup}%${ifname}`, port: this.opts.port });
      }
      if (this.opts.ipv4Broadcast) this.send(data, { address: '255.255.255.255', port: this.opts.port });
    }
    for (const p of this.opts.peers) {
      // The same peer list is handed to every node of a test mesh; skip ourselves.
      if (p.port === this.port && p.address === this.opts.bindAddress) continue;
      this.send(data, p);
    }
  }

  send(data: Uint8Array, to: Endpoint): void {
    const s = to.address.includes(':') ? (this.#v6 ?? this.#v4) : (this.#v4 ?? this.#v6);
    if (!s) return;
    s.send(data, to.port, to.address, (err) => {
      // A full socket buffer or an unreachable peer is routine on a mesh: count it.
      if (err) this.#sendErrors++;
    });
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#sockets.splice(0).map(
        (s) =>
          new Promise<void>((resolve) => {
            try {
              s.close(() => resolve());
            } catch {
              resolve();
            }
          }),
      ),
    );
    this.#v4 = this.#v6 = undefined;
  }
}
