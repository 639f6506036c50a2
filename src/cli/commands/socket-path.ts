import path from 'node:path';
import type { CommandContext } from '../command.js';

/** The control socket the agent for this config and state dir listens on. */
export async function socketPathFor(ctx: CommandContext): Promise<string> {
  const config = await ctx.loadConfig();
  return config.agent.controlSocket || path.join(ctx.stateDir(config), 'bitmesh.sock');
}
