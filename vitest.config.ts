import { defineConfig } from 'vitest/config';

// Unit tests sit beside the code (src/**/*.test.ts); system tests that need root,
// namespaces or services live in hw-test/ and skip themselves with a message otherwise.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'hw-test/**/*.test.ts', 'scripts/**/*.test.ts', 'packages-openwrt/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['scripts/testing/global-setup.ts'],
  },
});
