// Linux network interface names: 1..15 bytes (IFNAMSIZ - 1), no whitespace, '/' or ':'.

import { LinkQualityConfigError } from './errors.js';

const IFNAME_RE = /^[^\s/:\x00-\x1f\x7f]{1,15}$/;

export function isIfname(name: string): boolean {
  return IFNAME_RE.test(name);
}

/**
 * A configured interface name, checked before it goes on a command line. A leading
 * '-' is refused too, so a name can never be read as an option.
 */
export function checkIfname(name: string, what: string): string {
  if (!isIfname(name) || name.startsWith('-')) {
    throw new LinkQualityConfigError(`${what}: ${JSON.stringify(name.slice(0, 40))} is not an interface name`);
  }
  return name;
}
