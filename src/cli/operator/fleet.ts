// What `bitmesh fleet` does: every node under the topic prefix, from their retained
// status and periodic metrics, as a live table (or once, as JSON, for scripts). On the
// operator's machine, in dist/bitmesh-dev.js (see ./mgmt.ts); the command's name,
// options and help are in ../commands/fleet.ts.
import { FleetView, type FleetEntry } from '../../mgmt/fleet-view.js';
import { topicFor } from '../../mgmt/topics.js';
import { UsageError, type CommandContext } from '../command.js';
import { intOption } from '../options.js';
import { formatAgo, formatBytes, renderTable } from '../table.js';
import { brokerFromCli, openBroker, withTimeout } from './mgmt.js';

export function renderFleet(entries: readonly FleetEntry[]): string {
  const rows = entries.map((e) => {
    const m = e.metrics;
    const price = m?.priceMsatPerKiB ?? (typeof e.status?.['priceMsatPerKiB'] === 'number' ? e.status['priceMsatPerKiB'] : undefined);
    return [
      e.node,
      e.state,
      typeof e.status?.['role'] === 'string' ? e.status['role'] : '-',
      price === undefined ? '-' : String(price),
      m ? (m.selling ? 'yes' : 'paused') : '-',
      m ? String(m.peers) : '-',
      m ? String(m.channelsOpen) : '-',
      m ? `${Math.floor(m.earnedMsat / 1000)}` : '-',
      m ? formatBytes(m.bytesSold) : '-',
      e.metricsAgeMs === null ? '-' : formatAgo(e.metricsAgeMs),
    ];
  });
  const head = ['NODE', 'STATE', 'ROLE', 'PRICE', 'SELLING', 'PEERS', 'CHANNELS', 'EARNED SAT', 'SOLD', 'METRICS AGE'];
  return `${renderTable(head, rows)}\n${entries.length} nodes, ${entries.filter((e) => e.state === 'online').length} online`;
}

export async function runFleet(ctx: CommandContext): Promise<number> {
  if (ctx.positionals.length) throw new UsageError('fleet takes no arguments');
  const once = ctx.values['once'] === true || ctx.json;
  const waitMs = intOption(ctx, 'wait-ms', 5000, 0, 3_600_000);
  const refreshMs = intOption(ctx, 'refresh-ms', 2000, 100, 3_600_000);
  const broker = await brokerFromCli(ctx);
  const view = new FleetView(broker.prefix);
  const { conn, up } = await openBroker(
    broker,
    (topic, payload) => view.onMessage(topic, payload, Date.now()),
    () => {
      void conn.subscribe(topicFor(broker.prefix, '+', 'status'), 0);
      void conn.subscribe(topicFor(broker.prefix, '+', 'metrics'), 0);
    },
  );
  try {
    await withTimeout(up, Math.max(waitMs, 10_000), `broker ${broker.options.url}`);
    if (once) {
      await new Promise((r) => setTimeout(r, waitMs));
      const list = view.list(Date.now());
      ctx.out(ctx.json ? JSON.stringify(list, null, 2) : renderFleet(list));
      return 0;
    }
    await new Promise<void>((resolve) => {
      const tty = process.stdout.isTTY === true;
      const draw = () => ctx.out((tty ? '\x1b[H\x1b[2J' : '') + renderFleet(view.list(Date.now())) + (tty ? '' : '\n'));
      const timer = setInterval(draw, refreshMs);
      const stop = () => {
        clearInterval(timer);
        resolve();
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    return 0;
  } finally {
    await conn.stop();
  }
}
