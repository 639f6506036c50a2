// Bundles market-agent.ts into dist/testing/market-agent.mjs (dependencies stay
// external: Node finds them in the repository's node_modules).
import path from 'node:path';
import { build } from 'esbuild';

export const MARKET_AGENT = path.resolve('dist/testing/market-agent.mjs');

export async function buildMarketAgent(): Promise<string> {
  await build({
    entryPoints: [path.resolve('scripts/testing/market-agent.ts')],
    outfile: MARKET_AGENT,
    bundle: true,
    platform: 'node',
    target: 'node20',
    format: 'esm',
    packages: 'external',
    logLevel: 'warning',
  });
  return MARKET_AGENT;
}
