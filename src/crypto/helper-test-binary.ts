// Test support (not shipped): makes sure the helper binary is built, by running its
// Makefile, so the helper suites run wherever libsecp256k1-dev is installed. Where it
// cannot be built, returns null and says why loudly; the suites then skip.
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const HELPER_SRC = join(dirname(fileURLToPath(import.meta.url)), '../../packages-openwrt/bitmesh-helper/src');

/** `target` is a binary the helper's src/Makefile builds: the release or the ASan+UBSan one. */
export function ensureHelperBinary(target: 'bitmesh-helper' | 'bitmesh-helper-asan' = 'bitmesh-helper'): string | null {
  try {
    execFileSync('make', ['-s', '-C', HELPER_SRC, target], { stdio: ['ignore', 'pipe', 'pipe'] });
    return join(HELPER_SRC, target);
  } catch (err) {
    const e = err as { stderr?: Buffer; message: string };
    console.warn(
      `${target} could not be built (install libsecp256k1-dev and a C compiler); ` +
        `helper tests are SKIPPED.\n${e.stderr?.toString() ?? e.message}`,
    );
    return null;
  }
}
