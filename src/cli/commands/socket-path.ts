import type { CommandContext } from '../command.js';

/** The control socket the agent for this config and state dir listens on. */
export async function socketPathFor(ctx: CommandContext): Promise<string> {
  return (await ctx.loadConfig()).agent.controlSocket;
}
