// Network-namespace testbed helpers (root only). Every name this creates carries the
// testbed's prefix, and teardown removes them all, so an interrupted run is cleaned up
// by the next one.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const exec = promisify(execFile);

export const isRoot = (): boolean => process.getuid?.() === 0;

/** Why root-only tests cannot run here, or undefined when they can. */
export async function netnsUnavailable(): Promise<string | undefined> {
  if (!isRoot()) return 'not root';
  try {
    await exec('ip', ['-V']);
  } catch {
    return 'iproute2 (ip) not installed';
  }
  return undefined;
}

export async function sh(cmd: string, args: readonly string[]): Promise<string> {
  try {
    return (await exec(cmd, [...args], { maxBuffer: 16 << 20 })).stdout;
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${cmd} ${args.join(' ')}: ${err.stderr || err.message}`);
  }
}

export const ip = (...args: string[]) => sh('ip', args);
export const inNs = (ns: string, cmd: string, ...args: string[]) => sh('ip', ['netns', 'exec', ns, cmd, ...args]);

export async function deleteNamespaces(prefix: string): Promise<void> {
  const list = await ip('netns', 'list').catch(() => '');
  for (const line of list.split('\n')) {
    const name = line.split(' ')[0];
    if (name && name.startsWith(prefix)) await ip('netns', 'del', name).catch(() => {});
  }
}

/**
 * A layer-2 mesh segment: one bridge in namespace `<prefix>seg`, and for each node a
 * namespace `<prefix><name>` whose `mesh0` is a veth into that bridge, with an IPv4
 * address and an EUI-64 IPv6 link-local address (DAD off, so it is usable at once).
 */
export async function buildSegment(prefix: string, nodes: readonly string[]): Promise<Map<string, { ns: string; ipv4: string }>> {
  await deleteNamespaces(prefix);
  const seg = `${prefix}seg`;
  await ip('netns', 'add', seg);
  await inNs(seg, 'ip', 'link', 'add', 'br0', 'type', 'bridge');
  await inNs(seg, 'ip', 'link', 'set', 'br0', 'up');
  const out = new Map<string, { ns: string; ipv4: string }>();
  for (const [i, name] of nodes.entries()) {
    const ns = `${prefix}${name}`;
    await ip('netns', 'add', ns);
    await inNs(ns, 'ip', 'link', 'set', 'lo', 'up');
    await inNs(ns, 'sysctl', '-qw', 'net.ipv6.conf.all.accept_dad=0', 'net.ipv6.conf.default.accept_dad=0');
    const host = `m${i}`;
    await ip('link', 'add', host, 'netns', seg, 'type', 'veth', 'peer', 'name', 'mesh0', 'netns', ns);
    await inNs(seg, 'ip', 'link', 'set', host, 'master', 'br0', 'up');
    const ipv4 = `10.42.0.${i + 1}`;
    await inNs(ns, 'ip', 'link', 'set', 'mesh0', 'address', `02:42:00:00:00:${(i + 1).toString(16).padStart(2, '0')}`);
    await inNs(ns, 'ip', 'addr', 'add', `${ipv4}/24`, 'brd', '10.42.0.255', 'dev', 'mesh0');
    await inNs(ns, 'ip', 'link', 'set', 'mesh0', 'up');
    out.set(name, { ns, ipv4 });
  }
  return out;
}
