// The mesh interfaces' own byte counters, from sysfs: a cheap "did anything move?"
// before the meter asks nft (src/agent/meter-pace.ts). `ip netns exec` mounts the
// namespace's own /sys, so this reads the agent's namespace's interfaces.
import { readFileSync } from 'node:fs';

const SYS_NET = '/sys/class/net';

/**
 * A reader of rx + tx bytes summed over `interfaces`, or undefined from it when any of
 * them cannot be read (absent, renamed, no sysfs): the caller then reads nft as usual.
 */
export function linkBytesReader(interfaces: readonly string[], root = SYS_NET): () => number | undefined {
  // Interface names are validated by the config (no '/', no '..'); checked again here
  // because this builds paths from them.
  const ok = interfaces.length > 0 && interfaces.every((i) => /^[A-Za-z0-9_.@-]{1,15}$/.test(i) && i !== '.' && i !== '..');
  const files = ok ? interfaces.flatMap((i) => [`${root}/${i}/statistics/rx_bytes`, `${root}/${i}/statistics/tx_bytes`]) : [];
  return () => {
    if (files.length === 0) return undefined;
    let sum = 0;
    for (const f of files) {
      let text: string;
      try {
        text = readFileSync(f, 'latin1');
      } catch {
        return undefined;
      }
      const n = Number(text.trim());
      if (!Number.isSafeInteger(n) || n < 0) return undefined;
      sum += n;
    }
    return sum;
  };
}
