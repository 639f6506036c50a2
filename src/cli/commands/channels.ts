import type { ChannelReport, CloseResult } from '../../agent/channel-manager.js';
import { controlRequest } from '../../agent/control-client.js';
import { UsageError, type Command } from '../command.js';
import { intOption } from '../options.js';
import { formatBytes, renderKeyValues, renderTable } from '../table.js';
import { socketPathFor } from './socket-path.js';

export const channelsCommand: Command = {
  name: 'channels',
  summary: 'list payment channels: role, peer, state, capacity, paid, bytes, credit',
  usage: 'bitmesh channels [--json]',
  help: `Lists the agent's payment channels: as payer (we buy upstream) or payee (we sell
it), the peer, the state, capacity, the amount paid so far (millisatoshi), the bytes
received or served, and for a payee the allowance granted and the credit in force.
A channel whose funding output was spent 6 blocks deep shows as Settled; the most
recent 100 are listed, and every one is in <state_dir>/channels/channels-settled.jsonl.`,
  async run(ctx) {
    const list = (await controlRequest(await socketPathFor(ctx), 'channels')) as ChannelReport[];
    if (ctx.json) {
      ctx.out(JSON.stringify(list, null, 2));
      return 0;
    }
    if (list.length === 0) {
      ctx.out('no channels');
      return 0;
    }
    ctx.out(
      renderTable(
        ['CHANNEL', 'ROLE', 'PEER', 'STATE', 'CAPACITY', 'PAID', 'BYTES', 'CREDIT'],
        list.map((c) => [
          c.id.slice(0, 16),
          c.role,
          c.peer.slice(0, 16) + '…',
          c.settled ? 'Settled' : c.state,
          `${c.capacitySat} sat`,
          `${(Number(c.paidMsat) / 1000).toFixed(3)} sat`,
          formatBytes(c.bytes),
          c.creditBytes === null ? '-' : formatBytes(c.creditBytes),
        ]),
      ),
    );
    return 0;
  },
};

export const channelCommand: Command = {
  name: 'channel',
  summary: 'open or close one payment channel',
  usage: 'bitmesh channel open <node> --capacity SAT [--price MSAT_PER_KIB] | close <channel-id> [--json]',
  help: `open <node>       open a channel to a gateway (bm1… or hex node id), funded from the
                    wallet with --capacity sats, at --price msat/KiB (default: the
                    config's market.max_price_msat_per_kib)
close <channel>   close it. As payee: broadcast the best state through leaf A now. As
                  payer: ask the gateway to close (it broadcasts its best state).
                  Prints the raw transaction and the outputs it spends (script and
                  amount), so anyone can check it with a script interpreter.`,
  options: { capacity: { type: 'string' }, price: { type: 'string' } },
  async run(ctx) {
    const [sub, arg, ...rest] = ctx.positionals;
    if (rest.length || !arg) throw new UsageError('expected: open <node> --capacity SAT | close <channel-id>');
    const sock = await socketPathFor(ctx);
    if (sub === 'open') {
      const args: Record<string, unknown> = { peer: arg, capacitySat: intOption(ctx, 'capacity', 0, 1000, 2_100_000_000_000_000) };
      if (ctx.values['price'] !== undefined) args['priceMsatPerKiB'] = intOption(ctx, 'price', 0, 0, 1e12);
      const r = (await controlRequest(sock, 'channel.open', args, 60_000)) as { channelId: string };
      ctx.out(ctx.json ? JSON.stringify(r) : r.channelId);
      return 0;
    }
    if (sub === 'close') {
      const r = (await controlRequest(sock, 'channel.close', { id: arg }, 30_000)) as CloseResult | { channelId: string; requested: true };
      if (ctx.json) ctx.out(JSON.stringify(r, null, 2));
      else if ('requested' in r) ctx.out(`asked the gateway to close channel ${r.channelId}; it broadcasts its best state`);
      else {
        ctx.out(renderKeyValues([['txid', r.txid], ['raw tx', r.hex]]));
        ctx.out('\n' + renderTable(['SPENDS', 'SCRIPT', 'AMOUNT'], r.spends.map((s) => [`${s.txid}:${s.vout}`, s.scriptHex, `${s.amountSat} sat`])));
      }
      return 0;
    }
    throw new UsageError(`unknown sub-command '${sub ?? ''}'`);
  },
};
