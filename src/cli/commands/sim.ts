import { DEV_COMMAND_SUMMARIES } from '../dev-command-list.js';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { intOption, stringOption } from '../options.js';

export const simCommand: Command = {
  name: 'sim',
  summary: DEV_COMMAND_SUMMARIES.sim,
  usage: 'bitmesh sim [--nodes N] [--seed S] [--minutes M] [--ranking surplus|per-price] [--bound assignment|split] [--explain] [--json]',
  help: `Generates a random mesh (N nodes in a unit square, 15 % gateways with heavy-tailed
uplinks and prices, 10 % of them claiming three times their capacity, some failing
and coming back) and runs the real market code on it in virtual time: every message
goes through the real encoder, decoder and validation, signed by a cheap
simulation-only backend; clients test each gateway's claimed spare with a short
full-rate probe (the market's probe effect) after each award, and every 2 minutes all
clients of a gateway probe it together for their share of its claimed spare; they flood
a signed REPORT when a probe fell far short while the gateway still claims the room
(6 hops; three distinct reporters ban a gateway for 10 minutes), and re-auction when a
gateway carries under half of the rate it claimed; full gateways give an occupant's
capacity to a client paying more (re-quotes). Reports, for BitMesh and four baseline
selectors (cheapest posted price, strongest signal, lowest mesh metric, stake-weighted random)
on the same instance: share of clients served, welfare against the optimum (see --bound),
median time to first paid byte, failover time, control traffic, price dispersion.
Its code is in dist/bitmesh-dev.js, beside dist/bitmesh.js (not in the OpenWrt package).

Options:
      --nodes N      mesh size (default 1000)
      --seed S       instance seed (default 1)
      --minutes M    simulated minutes (default 10)
      --ranking R    how clients rank offers: surplus (default) or per-price
                     (goodput per price, the market's built-in default)
      --bound B      what welfare is measured against: assignment (default), an upper
                     bound on the best assignment of each client to one gateway, as
                     the market makes them; or split, the looser LP that lets a client
                     take slices from several gateways at once
      --explain      also say where BitMesh's welfare falls short at the end of the
                     run: each client against its best gateway (capacity ignored),
                     by reason (full, reputation, hysteresis, liars, …)
      --json         print the report as JSON

Example: bitmesh sim --nodes 1000 --seed 1 --json`,
  options: {
    nodes: { type: 'string' },
    seed: { type: 'string' },
    minutes: { type: 'string' },
    ranking: { type: 'string' },
    bound: { type: 'string' },
    explain: { type: 'boolean' },
  },
  async run(ctx) {
    const nodes = intOption(ctx, 'nodes', 1000, 10, 100_000);
    const seed = intOption(ctx, 'seed', 1, 0, 2 ** 32 - 1);
    const minutes = intOption(ctx, 'minutes', 10, 1, 24 * 60);
    const ranking = stringOption(ctx, 'ranking', 'surplus');
    if (ranking !== 'surplus' && ranking !== 'per-price') throw new UsageError(`--ranking expects surplus or per-price, got '${ranking}'`);
    const bound = stringOption(ctx, 'bound', 'assignment');
    if (bound !== 'assignment' && bound !== 'split') throw new UsageError(`--bound expects assignment or split, got '${bound}'`);
    // Loaded on demand: the agent bundle's other commands never pay for the simulator.
    const { runSimulation } = await import('../../sim/run.js');
    const { formatSimReport } = await import('../../sim/report-format.js');
    const explain = ctx.values['explain'] === true;
    const report = runSimulation({ nodes, seed, minutes, explain, bound, market: { client: { rankBySurplus: ranking === 'surplus' } } });
    ctx.out(ctx.json ? JSON.stringify(report, null, 2) : formatSimReport(report));
    return 0;
  },
};
