import type { StatusReport } from '../../agent/agent.js';
import { controlRequest } from '../../agent/control-client.js';
import type { Command, CommandContext } from '../command.js';
import { formatBytes, renderKeyValues, renderTable } from '../table.js';
import { socketPathFor } from './socket-path.js';

export const statusCommand: Command = {
  name: 'status',
  summary: 'show the running agent: node, mesh, crypto backend, counters',
  usage: 'bitmesh status [--json] [--config FILE] [--state-dir DIR]',
  help: `Asks the running agent over its control socket and prints its node id, role,
uptime, mesh port and neighbour count, the crypto backend in use and why, datagram
counters, and every rejected datagram counted by reason (oversize, malformed_cbor,
bad_signature, replay, rate_limited, …). --json prints the full report for scripts.`,
  async run(ctx: CommandContext) {
    const s = (await controlRequest(await socketPathFor(ctx), 'status')) as StatusReport;
    if (ctx.json) {
      ctx.out(JSON.stringify(s, null, 2));
      return 0;
    }
    const cp = s.controlPlane;
    ctx.out(
      renderKeyValues([
        ['node', s.node.id],
        ['role', s.node.role],
        ['version', s.node.version],
        ['uptime', `${s.node.uptimeS} s`],
        ['mesh', `udp ${s.mesh.bind} port ${s.mesh.port}, ${s.mesh.neighbours} neighbours`],
        ['crypto', `${s.crypto.name} (${s.crypto.reason})`],
        ['received', `${cp.rxDatagrams} datagrams, ${formatBytes(cp.rxBytes)}`],
        ['sent', `${cp.txDatagrams} datagrams, ${formatBytes(cp.txBytes)}`],
        ['memory', `rss ${formatBytes(s.memory.rssBytes)}, heap ${formatBytes(s.memory.heapUsedBytes)}`],
      ]),
    );
    const rejects = Object.entries(cp.rejected);
    if (rejects.length) {
      ctx.out('\n' + renderTable(['REJECTED', 'COUNT'], rejects.map(([k, v]) => [k, String(v)])));
    }
    if (s.peerGuard.banned.length) {
      ctx.out('\n' + renderTable(['BANNED SOURCE', 'FOR', 'REJECTS'], s.peerGuard.banned.map((b) => [b.address, `${Math.ceil(b.forMs / 1000)} s`, String(b.rejects)])));
    }
    return 0;
  },
};
