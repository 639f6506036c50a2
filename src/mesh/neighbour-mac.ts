// Link-quality sources speak MAC addresses (batman originators, iw stations, BSSIDs);
// the control plane knows IP addresses. This maps one to the other: from the EUI-64
// interface id of an IPv6 link-local address (how batman-adv meshes address each
// other), or from the kernel's IPv4 neighbour table.
import { readFile } from 'node:fs/promises';

/** fe80::aabb:ccff:fedd:eeff(%if) → 'a8:bb:cc:dd:ee:ff' (universal/local bit flipped back). */
export function macFromLinkLocal(address: string): string | undefined {
  const a = address.split('%')[0]!.toLowerCase();
  if (!a.startsWith('fe80:')) return undefined;
  const groups = expandIpv6(a);
  if (!groups) return undefined;
  const iid = groups.slice(4).map((g) => g.padStart(4, '0')).join('');
  if (iid.slice(6, 10) !== 'fffe') return undefined; // not EUI-64 (e.g. a privacy address)
  const bytes = [iid.slice(0, 2), iid.slice(2, 4), iid.slice(4, 6), iid.slice(10, 12), iid.slice(12, 14), iid.slice(14, 16)];
  bytes[0] = (parseInt(bytes[0]!, 16) ^ 0x02).toString(16).padStart(2, '0');
  return bytes.join(':');
}

function expandIpv6(a: string): string[] | undefined {
  const [head, tail, extra] = a.split('::');
  if (extra !== undefined) return undefined;
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail === undefined ? 0 : 8 - h.length - t.length;
  const all = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t];
  if (all.length !== 8 || all.some((g) => !/^[0-9a-f]{1,4}$/.test(g))) return undefined;
  return all;
}

/** Parses /proc/net/arp into ip → mac (complete entries only). */
export function parseProcNetArp(text: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    // IP address, HW type, Flags, HW address, Mask, Device
    if (f.length < 6 || f[2] === '0x0') continue;
    const mac = f[3]!.toLowerCase();
    if (/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/.test(mac) && mac !== '00:00:00:00:00:00') out.set(f[0]!, mac);
  }
  return out;
}

export async function readArpTable(file = '/proc/net/arp'): Promise<Map<string, string>> {
  try {
    return parseProcNetArp(await readFile(file, 'utf8'));
  } catch {
    return new Map();
  }
}
