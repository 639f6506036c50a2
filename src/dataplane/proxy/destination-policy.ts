// Where the relay may connect on a client's behalf. A gateway sells its upstream, not
// its own LAN or itself: by default only public unicast addresses are allowed. The
// check runs on the address actually connected to (after DNS), so a domain name that
// resolves to 127.0.0.1 is refused too.
import { isIPv4, isIPv6 } from 'node:net';

export type DestinationPolicy = (address: string, port: number) => boolean;

/** Allows any destination (tests, or an operator who really wants an open relay). */
export const anyDestination: DestinationPolicy = () => true;

/** Refuses loopback, private, link-local, CGNAT, multicast, reserved and unspecified addresses. */
export const publicDestinationsOnly: DestinationPolicy = (address, port) => {
  if (port < 1 || port > 0xffff) return false;
  if (isIPv4(address)) return isPublicIpv4(address.split('.').map(Number));
  if (isIPv6(address)) return isPublicIpv6(address);
  return false;
};

function isPublicIpv4(o: number[]): boolean {
  const [a = 0, b = 0] = o;
  if (a === 0 || a === 10 || a === 127 || a >= 224) return false; // this net, private, loopback, multicast/reserved
  if (a === 100 && b >= 64 && b < 128) return false; // CGNAT 100.64/10
  if (a === 169 && b === 254) return false; // link-local
  if (a === 172 && b >= 16 && b < 32) return false;
  if (a === 192 && b === 168) return false;
  if (a === 192 && b === 0 && o[2] === 0) return false; // IETF protocol assignments
  if (a === 198 && (b === 18 || b === 19)) return false; // benchmarking
  return true;
}

function isPublicIpv6(address: string): boolean {
  const s = address.toLowerCase();
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (mapped) return isPublicIpv4(mapped[1]!.split('.').map(Number));
  if (s === '::' || s === '::1') return false;
  const first = parseInt(s.split(':')[0] || '0', 16);
  if ((first & 0xfe00) === 0xfc00) return false; // unique local fc00::/7
  if ((first & 0xffc0) === 0xfe80) return false; // link-local fe80::/10
  if ((first & 0xff00) === 0xff00) return false; // multicast
  if (first === 0) return false; // ::/16 holds unspecified, loopback, mapped, compat
  return true;
}
