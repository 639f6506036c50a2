// The human form of a simulation report: one table, BitMesh against the baselines,
// then the figures that only BitMesh has (control traffic, liars, messages).
import { renderKeyValues, renderTable } from '../cli/table.js';
import type { SimReport } from './run.js';
import { GAP_REASONS } from './welfare-gaps.js';

const ms = (v: number | null) => (v === null ? '—' : v < 10_000 ? `${Math.round(v)} ms` : `${(v / 1000).toFixed(1)} s`);
const pct = (v: number) => `${(v * 100).toFixed(1)} %`;

export function formatSimReport(r: SimReport): string {
  const rows = r.strategies.map((s) => [
    s.name,
    pct(s.servedShare),
    s.welfareRatio.toFixed(3),
    ms(s.medianFirstPaidByteMs),
    ms(s.medianFailoverMs),
    s.controlKbpsPerNode === null ? '—' : `${(s.controlKbpsPerNode * 125).toFixed(0)} B/s`,
    s.priceDispersion === null ? '—' : s.priceDispersion.toFixed(2),
  ]);
  const table = renderTable(['SELECTOR', 'SERVED', 'WELFARE/OPT', 'FIRST PAID BYTE', 'FAILOVER', 'CONTROL/NODE', 'PRICE CV'], rows);
  const kv = renderKeyValues([
    ['instance', `${r.nodes} nodes (${r.gateways} gateways, ${r.liars.liars} liars, ${r.clients} clients, ${r.clientsWithReach} within reach of a gateway), seed ${r.seed}, ${r.minutes} min`],
    ['optimum', `${(r.optimum.welfareMsat / 1000).toFixed(0)} sat of welfare, an upper bound on the best ${r.optimum.bound === 'split' ? 'split flows' : 'single-gateway assignment'} (${r.optimum.solves} solves, one per ${r.optimum.windowMs / 1000} s window whose state changed, ${(r.optimum.solveMs / 1000).toFixed(1)} s)`],
    ['control', `${r.control.kbpsPerNode.toFixed(3)} kbit/s per node (${Object.entries(r.control.byType).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ')})`],
    ['payment', `${r.payment.kbpsPerNode.toFixed(1)} kbit/s per node of TICK/COMMIT, ${pct(r.payment.shareOfGoodput)} of goodput`],
    [
      'liars',
      `awards held: peak ${r.liars.peak}, at end ${r.liars.atEnd} (${r.liars.atEndPathLimited} on paths the real uplink fills): ${pct(r.liars.awardLoss)} lost`,
    ],
    ['probes', `${r.market['probes'] ?? 0} capacity probes, ${r.market['probesFailed'] ?? 0} failed`],
    ['re-quotes', `${r.market['requotes'] ?? 0} (an occupant's capacity given to a client paying more)`],
    ['reports', `${r.reports.sent} flooded (${r.reports.againstHonest} against honest gateways), ${r.market['reportBans'] ?? 0} bans by clients`],
    ['messages', `${r.messages.delivered} delivered, ${r.messages.lost} lost, ${r.messages.decodeErrors} undecodable, ${r.messages.authErrors} refused`],
    ['run', `${(r.wallMs / 1000).toFixed(1)} s wall, peak RSS ${r.peakRssMiB.toFixed(0)} MiB`],
  ]);
  if (!r.gaps) return `${table}\n\n${kv}`;
  const g = r.gaps;
  const gaps = renderTable(
    ['WHY SHORT OF THE BEST GATEWAY (END OF RUN)', 'CLIENTS', 'SHARE'],
    [
      ['reached (capacity ignored, so not the optimum)', '', pct(g.reachedShare)],
      ...GAP_REASONS.map((k) => [k, String(g.reasons[k].clients), pct(g.reasons[k].share)]),
      ['of best_full, swaps at full gateways would add', '', pct(g.swappableShare)],
    ],
  );
  return `${table}\n\n${kv}\n\n${gaps}`;
}
