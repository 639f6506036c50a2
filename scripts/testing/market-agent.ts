// Test support: `bitmesh agent` with the market settings the config file does not
// carry yet (uplink probe URL, client auction tuning) and a shaped "uplink" per
// gateway (shaped-uplink.ts). Bundled by market-agent-bundle.ts and run as a separate
// process:  node market-agent.mjs --config FILE --market JSON
import { parseArgs } from 'node:util';
import { Agent, type AgentMarketOptions } from '../../src/agent/agent.js';
import { loadOrCreateIdentity } from '../../src/agent/identity.js';
import { createLogger } from '../../src/agent/log.js';
import { loadConfig } from '../../src/config/load.js';
import { Crypto } from '../../src/crypto/facade.js';
import type { ClientMarketOptions } from '../../src/core/market/client-market.js';
import { ShapedUplink } from './shaped-uplink.js';

export interface MarketAgentSettings {
  readonly probeUrl?: string;
  readonly probeIntervalMs?: number;
  readonly uplinkKbps?: number;
  readonly wantedKbps?: number;
  readonly client?: Partial<ClientMarketOptions>;
}

const { values } = parseArgs({ options: { config: { type: 'string' }, market: { type: 'string', default: '{}' } } });
if (!values.config) throw new Error('--config FILE is required');
const s = JSON.parse(values.market) as MarketAgentSettings;
const config = await loadConfig(values.config);
const log = createLogger({ level: config.agent.logLevel, target: 'stderr' });
const crypto = new Crypto();
const { identity } = await loadOrCreateIdentity(config.agent.stateDir, crypto);
const uplink = s.uplinkKbps;
const market: AgentMarketOptions = {
  ...(s.probeUrl ? { probe: { url: s.probeUrl, intervalMs: s.probeIntervalMs ?? 10_000 } } : {}),
  ...(s.wantedKbps ? { wantedKbps: s.wantedKbps } : {}),
  ...(s.client ? { client: s.client } : {}),
  ...(uplink ? { shapeUplink: (inner) => new ShapedUplink(inner, uplink) } : {}),
};
const agent = new Agent({ config, identity, crypto, log, configPath: values.config, market });
await agent.start();
const stop = (sig: string) => {
  log.info('stopping', { signal: sig });
  void agent.stop().then(() => process.exit(0));
};
process.once('SIGTERM', () => stop('SIGTERM'));
process.once('SIGINT', () => stop('SIGINT'));
