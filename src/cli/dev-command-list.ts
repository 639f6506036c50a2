// The commands a router does not run (the simulator, the devchain server, the operator's
// console): dist/bitmesh.js lists them by name and summary only, and loads each one,
// help text included, from dist/bitmesh-dev.js when it is asked for (scripts/build.mjs
// DEV_MODULES; src/cli/dev-commands.ts). The OpenWrt package ships bitmesh.js alone, so
// on a router these say that they need bitmesh-dev.js.
import type { Command } from './command.js';

export const DEV_COMMAND_SUMMARIES = {
  devchain: 'serve the embedded regtest-like chain (Esplora API + faucet) on loopback',
  mgmt: 'remote management: make an operator key, sign and send a command to a node',
  fleet: 'live table of every node on the MQTT broker (status and metrics)',
  sim: 'simulate a mesh market in virtual time and compare it with baseline selectors',
} as const;

export type DevCommandName = keyof typeof DEV_COMMAND_SUMMARIES;

/** A command listed by name and summary, whose definition is loaded on use. */
export interface LazyCommand {
  readonly name: DevCommandName;
  readonly summary: string;
  readonly load: () => Promise<Command>;
}

const load = async (name: DevCommandName): Promise<Command> => (await import('./dev-commands.js')).DEV_COMMANDS[name];

export const DEV_COMMANDS_LISTED: readonly LazyCommand[] = (Object.keys(DEV_COMMAND_SUMMARIES) as DevCommandName[]).map((name) => ({
  name,
  summary: DEV_COMMAND_SUMMARIES[name],
  load: () => load(name),
}));
