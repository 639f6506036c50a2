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
uptime, mesh port and neighbour count, the crypto backend in use and why (the native
helper when it passed its test vectors and beat noble; noble otherwise, or after the
helper died, with the reason), how many commitment signatures it checked and signed
ahead, datagram
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
        ['crypto', cryptoLine(s.crypto)],
        ...commitmentLines(s.crypto.commitments),
        ['received', `${cp.rxDatagrams} datagrams, ${formatBytes(cp.rxBytes)}`],
        ['sent', `${cp.txDatagrams} datagrams, ${formatBytes(cp.txBytes)}`],
        ['memory', `rss ${formatBytes(s.memory.rssBytes)}, heap ${formatBytes(s.memory.heapUsedBytes)}`],
        ...marketLines(s.market),
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

function cryptoLine(c: StatusReport['crypto']): string {
  const pid = c.helperPid === null ? '' : `, pid ${c.helperPid}`;
  return `${c.name}${pid} (${c.reason})`;
}

function commitmentLines(c: StatusReport['crypto']['commitments']): [string, string][] {
  if (!c) return [];
  const checked = c.checkedAhead.helper + c.checkedAhead.noble;
  const signed = c.presigned.helper + c.presigned.noble;
  if (checked + signed + c.verdictMisses + c.presignMisses === 0) return [];
  return [
    ['commits checked', `${checked} ahead (helper ${c.checkedAhead.helper}, noble ${c.checkedAhead.noble}), ${c.verdictMisses} inline on noble`],
    ['commits signed', `${c.presignHits} pre-signed (helper ${c.presigned.helper}, noble ${c.presigned.noble}), ${c.presignMisses} inline on noble`],
  ];
}

/** The auction at a glance: a client's award (gateway, price, measured rate), a gateway's awards. */
function marketLines(m: StatusReport['market']): [string, string][] {
  const out: [string, string][] = [];
  const a = m.auction;
  if (a) {
    const w = a.award;
    const rate = (kbps: number | null) => (kbps === null ? 'not measured yet' : `measured ${kbps} kbit/s`);
    out.push([
      'award',
      w
        ? `${w.gateway} at ${w.priceMsatPerKiB} msat/KiB (bid ${w.bidPriceMsatPerKiB}), ${rate(w.measuredKbps)}, now ${w.recentKbps} kbit/s${w.channelOpen ? '' : ', channel opening'}${w.trial ? ', trial' : ''}`
        : `none (${a.state})`,
    ]);
    out.push(['auctions', `${a.counters.auctions} run, ${a.counters.switches} switches, ${a.counters.failovers} failovers${a.lastFailoverMs === null ? '' : ` (last ${a.lastFailoverMs} ms)`}`]);
  }
  const b = m.bidding;
  if (b) out.push(['bids', `${b.counters.bids} sent, ${b.counters.accepted} awards won, ${b.awards.length} in force`]);
  return out;
}
