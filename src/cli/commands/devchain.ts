import path from 'node:path';
import { DEVCHAIN_DEFAULT_HOST, DEVCHAIN_DEFAULT_PORT } from '../../chain/devchain/constants.js';
import { DEV_COMMAND_SUMMARIES } from '../dev-command-list.js';
import type { Command } from '../command.js';
import { intOption, stringOption } from '../options.js';

export const devchainCommand: Command = {
  name: 'devchain',
  summary: DEV_COMMAND_SUMMARIES.devchain,
  usage: 'bitmesh devchain [--port N] [--host H] [--block-interval-ms N] [--state-dir DIR]',
  help: `Serves devchain, a small regtest-like Bitcoin chain for demos, tests and laptops,
speaking the Esplora REST API (GET /blocks/tip/height, /tx/:txid/status,
/address/:addr/utxo, /fee-estimates, POST /tx, …) plus POST /faucet and POST /mine.
It checks signatures (Taproot key and script path), double spends and locktimes, and
keeps its state in <state dir>/devchain/devchain.json. Agents in separate processes
share it; an agent configured with backend 'devchain' starts one itself if none answers.
Its code is in dist/bitmesh-dev.js, beside dist/bitmesh.js (not in the OpenWrt package).

Options:
      --port N               TCP port (default ${DEVCHAIN_DEFAULT_PORT})
      --host H               listen address (default ${DEVCHAIN_DEFAULT_HOST}; loopback only is wise)
      --block-interval-ms N  mine a block every N ms (default 0: only on POST /mine)`,
  options: {
    port: { type: 'string' },
    host: { type: 'string' },
    'block-interval-ms': { type: 'string' },
  },
  async run(ctx) {
    const config = await ctx.loadConfig();
    // Loaded on use: the chain server is no part of the agent's or other commands' start.
    const { serveDevchain } = await import('../../chain/devchain/cli.js');
    return serveDevchain(
      {
        port: intOption(ctx, 'port', DEVCHAIN_DEFAULT_PORT, 0, 65535),
        host: stringOption(ctx, 'host', DEVCHAIN_DEFAULT_HOST),
        blockIntervalMs: intOption(ctx, 'block-interval-ms', 0, 0, 86_400_000),
        stateDir: path.join(ctx.stateDir(config), 'devchain'),
      },
      { log: ctx.out, error: ctx.err },
    );
  },
};
