// `bitmesh fleet`: its name, options and help. What it does is in ../operator/fleet.ts,
// loaded from dist/bitmesh-dev.js on the operator's machine.
import { DEV_COMMAND_SUMMARIES } from '../dev-command-list.js';
import type { Command } from '../command.js';
import { BROKER_HELP, BROKER_OPTIONS } from './mgmt.js';

export const fleetCommand: Command = {
  name: 'fleet',
  summary: DEV_COMMAND_SUMMARIES.fleet,
  usage: 'bitmesh fleet [--broker URL] [--json] [--once] [--wait-ms N] [--refresh-ms N]',
  help: `Subscribes to <prefix>/+/status and <prefix>/+/metrics and shows one row per node:
state (online, or offline from its last will), role, price, selling or paused, peers,
channels, sats earned, bytes sold and the age of its last metrics message.

Without --once the table is redrawn every --refresh-ms (default 2000) until Ctrl-C.
With --once (implied by --json) it listens for --wait-ms (default 5000; make it longer
than the nodes' metrics interval for fresh metrics), prints once and exits.

It runs on the operator's machine: its code is in dist/bitmesh-dev.js, beside
dist/bitmesh.js (not in the OpenWrt package).

${BROKER_HELP}`,
  options: { ...BROKER_OPTIONS, once: { type: 'boolean' }, 'wait-ms': { type: 'string' }, 'refresh-ms': { type: 'string' } },
  async run(ctx) {
    const { runFleet } = await import('../operator/fleet.js');
    return runFleet(ctx);
  },
};
