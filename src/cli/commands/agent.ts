import { loadOrCreateIdentity } from '../../agent/identity.js';
import { createLogger } from '../../agent/log.js';
import { Crypto } from '../../crypto/facade.js';
import type { Command } from '../command.js';

export const agentCommand: Command = {
  name: 'agent',
  summary: 'run the BitMesh agent in the foreground',
  usage: 'bitmesh agent [--config FILE] [--state-dir DIR]',
  help: `Runs the agent: UDP control plane on the mesh, discovery beacons, neighbour
table and the local control socket that \`bitmesh status\` and \`bitmesh peers\` use.
The config is read once at start; a bad config file is refused with the file, line,
section and option at fault, and the agent does not start. SIGTERM or SIGINT stops it
cleanly: sockets closed, state flushed. Logs go to stderr as one-line records.

Example:
  bitmesh agent --config ./bitmesh.conf --state-dir ./state`,
  async run(ctx) {
    const config = await ctx.loadConfig();
    const stateDir = ctx.stateDir(config);
    const log = createLogger({ level: config.agent.logLevel, target: config.agent.logTarget });
    // Loaded on use, so the short commands (status, peers, id) start without the agent.
    const { Agent } = await import('../../agent/agent.js');
    const crypto = new Crypto();
    const { identity, created } = await loadOrCreateIdentity(stateDir, crypto);
    if (created) log.info('created node key', { node: identity.idBech32, stateDir });
    // nft mode: the kernel data plane, started before and stopped after the agent.
    const nft = config.dataplane.backend === 'nft' ? new (await import('../../agent/nft-dataplane.js')).NftDataplane({ config, log }) : undefined;
    const agent = new Agent({
      config, identity, crypto, log, configPath: ctx.configPath,
      ...(nft ? { dataplane: nft } : {}),
      ...(config.agent.helperPath ? { helperPath: config.agent.helperPath } : {}),
    });
    nft?.attach(agent);
    await nft?.start();
    await agent.start();
    await new Promise<void>((resolve) => {
      const stop = (sig: string) => {
        log.info('stopping', { signal: sig });
        void agent.stop().then(() => nft?.stop()).then(resolve);
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
    return 0;
  },
};
