import type { PeerReport } from '../../agent/agent.js';
import { controlRequest } from '../../agent/control-client.js';
import type { Command } from '../command.js';
import { formatAgo, renderTable } from '../table.js';
import { socketPathFor } from './socket-path.js';

export const peersCommand: Command = {
  name: 'peers',
  summary: 'list the neighbours the running agent hears on the mesh',
  usage: 'bitmesh peers [--json] [--config FILE] [--state-dir DIR]',
  help: `Lists every neighbour heard in a verified HELLO and not yet expired: node id,
address, roles, when it was last heard, and the mesh link quality to it when a
link-quality source is configured. --json prints an array for scripts.`,
  async run(ctx) {
    const peers = (await controlRequest(await socketPathFor(ctx), 'peers')) as PeerReport[];
    if (ctx.json) {
      ctx.out(JSON.stringify(peers, null, 2));
      return 0;
    }
    if (peers.length === 0) {
      ctx.out('no neighbours heard');
      return 0;
    }
    ctx.out(
      renderTable(
        ['NODE', 'ADDRESS', 'ROLES', 'LAST SEEN', 'UP', 'LINK'],
        peers.map((p) => [
          p.id,
          `${p.address}:${p.port}`,
          p.roles.join(',') || '-',
          formatAgo(p.lastSeenMsAgo) + ' ago',
          formatAgo(p.upForMs),
          p.linkQuality ? `${Math.round(p.linkQuality.quality * 100)}% ${p.linkQuality.source}` : '-',
        ]),
      ),
    );
    return 0;
  },
};
