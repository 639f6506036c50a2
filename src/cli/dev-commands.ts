// The dev-only commands' definitions (dev-command-list.ts says why they are apart).
import type { Command } from './command.js';
import type { DevCommandName } from './dev-command-list.js';
import { devchainCommand } from './commands/devchain.js';
import { fleetCommand } from './commands/fleet.js';
import { mgmtCommand } from './commands/mgmt.js';
import { simCommand } from './commands/sim.js';

export const DEV_COMMANDS: Readonly<Record<DevCommandName, Command>> = {
  devchain: devchainCommand,
  mgmt: mgmtCommand,
  fleet: fleetCommand,
  sim: simCommand,
};
