// `bitmesh mesh-config`: the UCI batch that turns an OpenWrt router into a BitMesh node
// (DESIGN §10), from the site settings (mesh-site.ts). Pure: text in, text out.
//
// What it sets, each under a fixed section name so running it again (or with the other
// role) overwrites instead of adding:
//   wireless.bitmesh_mesh    802.11s on the site's radio: mode mesh, SAE, mesh_fwding 0
//                            (batman-adv forwards, not 802.11s HWMP), ifname mesh0
//   network.bitmesh_hardif   batadv_hardif: mesh0 joins bat0, MTU for batman's header
//   network.bat0             batman-adv: routing algorithm, gateway mode server (gateway,
//                            announcing its bandwidth) or client (picks a gateway)
//   network.bitmesh          the node's IPv4 address on bat0
//   firewall.bitmesh_*       zone 'bitmesh': input rejected except the control plane's
//                            UDP port and ICMP; gateway forwards mesh → wan, client
//                            forwards lan → mesh with masquerading
//   bitmesh.main / .mesh     the agent's role and mesh interface
// then commits each package. Apply with `bitmesh mesh-config --role R | uci batch`.
import type { Ipv4Prefix, MeshSite } from './mesh-site.js';

export type MeshRole = 'gateway' | 'client';
export const MESH_ROLES: readonly MeshRole[] = ['gateway', 'client'];

/** The 802.11s interface and the batman-adv device, as the agent expects them. */
export const MESH_IFNAME = 'mesh0';
export const BAT_DEVICE = 'bat0';
export const MESH_ZONE = 'bitmesh';

export interface MeshConfigParams {
  readonly role: MeshRole;
  readonly site: MeshSite;
  /** UDP port of the agent's control plane (mesh.port), opened in the mesh zone. */
  readonly controlPort: number;
  /** This node's IPv4 address inside site.ipv4Prefix (see meshAddress). */
  readonly address: string;
}

/** A value as `uci batch` reads it: single-quoted, a quote written '\''. */
export function uciQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

function ipv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/**
 * The node's address in the prefix, from its node id: the first bytes of the id fill
 * the host bits. Ids are uniformly random keys, so in 100.64.0.0/10 (22 host bits) a
 * mesh of 100 nodes has about a 0.1 % chance of any clash. Host parts all-zero or
 * all-one (network, broadcast) move to 1 and to all-one minus 1.
 */
export function meshAddress(prefix: Ipv4Prefix, nodeId: Uint8Array): string {
  if (nodeId.length < 4) throw new RangeError(`node id: expected at least 4 bytes, got ${nodeId.length}`);
  const hostBits = 32 - prefix.length;
  const size = 2 ** hostBits;
  const head = ((nodeId[0]! << 24) >>> 0) + (nodeId[1]! << 16) + (nodeId[2]! << 8) + nodeId[3]!;
  let host = head % size;
  if (host === 0) host = 1;
  if (host === size - 1) host = size - 2;
  return ipv4(prefix.network + host);
}

export function prefixNetmask(prefix: Ipv4Prefix): string {
  return ipv4(2 ** 32 - 2 ** (32 - prefix.length));
}

/** True when the dotted-quad address is a usable host address inside the prefix. */
export function addressInPrefix(address: string, prefix: Ipv4Prefix): boolean {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(address);
  if (!m) return false;
  const octets = m.slice(1).map(Number);
  if (octets.some((o) => o > 255)) return false;
  const n = octets.reduce((a, o) => a * 256 + o, 0);
  const size = 2 ** (32 - prefix.length);
  const host = n - prefix.network;
  return host > 0 && host < size - 1;
}

/** The whole batch, one command per line, ending with the commits (no comments: uci batch has none). */
export function meshUciBatch(p: MeshConfigParams): string {
  const { site, role } = p;
  if (!addressInPrefix(p.address, site.ipv4Prefix)) {
    throw new RangeError(`address ${p.address} is not a host address in the site's IPv4 prefix`);
  }
  const lines: string[] = [];
  const set = (path: string, value: string | number) => lines.push(`set ${path}=${uciQuote(String(value))}`);
  const section = (path: string, type: string) => lines.push(`set ${path}=${type}`);
  const gateway = role === 'gateway';

  const radio = `wireless.${site.radio}`;
  set(`${radio}.channel`, site.channel);
  if (site.htmode) set(`${radio}.htmode`, site.htmode);
  if (site.country) set(`${radio}.country`, site.country);
  set(`${radio}.disabled`, '0');

  section('wireless.bitmesh_mesh', 'wifi-iface');
  set('wireless.bitmesh_mesh.device', site.radio);
  set('wireless.bitmesh_mesh.mode', 'mesh');
  set('wireless.bitmesh_mesh.ifname', MESH_IFNAME);
  set('wireless.bitmesh_mesh.mesh_id', site.meshId);
  set('wireless.bitmesh_mesh.encryption', 'sae');
  set('wireless.bitmesh_mesh.key', site.meshKey);
  // batman-adv does the multi-hop routing; 802.11s only links direct neighbours.
  set('wireless.bitmesh_mesh.mesh_fwding', '0');
  set('wireless.bitmesh_mesh.network', 'bitmesh_hardif');
  set('wireless.bitmesh_mesh.disabled', '0');

  section('network.bitmesh_hardif', 'interface');
  set('network.bitmesh_hardif.proto', 'batadv_hardif');
  set('network.bitmesh_hardif.master', BAT_DEVICE);
  set('network.bitmesh_hardif.mtu', site.hardifMtu);

  section(`network.${BAT_DEVICE}`, 'interface');
  set(`network.${BAT_DEVICE}.proto`, 'batadv');
  set(`network.${BAT_DEVICE}.routing_algo`, site.routingAlgo);
  set(`network.${BAT_DEVICE}.gw_mode`, gateway ? 'server' : 'client');
  if (gateway) set(`network.${BAT_DEVICE}.gw_bandwidth`, site.gwBandwidth);
  set(`network.${BAT_DEVICE}.bridge_loop_avoidance`, '1');
  set(`network.${BAT_DEVICE}.distributed_arp_table`, '1');

  section('network.bitmesh', 'interface');
  set('network.bitmesh.device', BAT_DEVICE);
  set('network.bitmesh.proto', 'static');
  set('network.bitmesh.ipaddr', p.address);
  set('network.bitmesh.netmask', prefixNetmask(site.ipv4Prefix));

  section('firewall.bitmesh_zone', 'zone');
  set('firewall.bitmesh_zone.name', MESH_ZONE);
  set('firewall.bitmesh_zone.network', 'bitmesh');
  set('firewall.bitmesh_zone.input', 'REJECT');
  set('firewall.bitmesh_zone.output', 'ACCEPT');
  set('firewall.bitmesh_zone.forward', 'REJECT');
  // A client hides its LAN behind its mesh address; a gateway's wan zone masquerades.
  set('firewall.bitmesh_zone.masq', gateway ? '0' : '1');
  set('firewall.bitmesh_zone.mtu_fix', '1');

  section('firewall.bitmesh_control', 'rule');
  set('firewall.bitmesh_control.name', 'Allow-BitMesh-Control');
  set('firewall.bitmesh_control.src', MESH_ZONE);
  set('firewall.bitmesh_control.proto', 'udp');
  set('firewall.bitmesh_control.dest_port', p.controlPort);
  set('firewall.bitmesh_control.target', 'ACCEPT');

  section('firewall.bitmesh_icmp', 'rule');
  set('firewall.bitmesh_icmp.name', 'Allow-BitMesh-ICMP');
  set('firewall.bitmesh_icmp.src', MESH_ZONE);
  set('firewall.bitmesh_icmp.proto', 'icmp');
  set('firewall.bitmesh_icmp.target', 'ACCEPT');

  // The one forwarding that differs by role, under one name so a role change replaces it.
  section('firewall.bitmesh_fwd', 'forwarding');
  set('firewall.bitmesh_fwd.src', gateway ? MESH_ZONE : 'lan');
  set('firewall.bitmesh_fwd.dest', gateway ? 'wan' : MESH_ZONE);

  section('bitmesh.main', 'agent');
  set('bitmesh.main.role', role);
  section('bitmesh.mesh', 'mesh');
  set('bitmesh.mesh.interface', BAT_DEVICE);
  set('bitmesh.mesh.port', p.controlPort);
  set('bitmesh.mesh.link_quality', 'batman');

  lines.push('commit wireless', 'commit network', 'commit firewall', 'commit bitmesh');
  return lines.join('\n') + '\n';
}
