// `bitmesh <command> [options]`: parses the options every command shares, then
// hands over to the command. Exit status: 0 ok, 1 failed, 2 bad command line or config.
import { homedir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { existsSync } from 'node:fs';
import { DEFAULT_CONFIG_PATH, loadConfig } from '../config/load.js';
import type { BitmeshConfig } from '../config/schema.js';
import { BitmeshError } from '../core/errors.js';
import { UsageError, type Command, type CommandContext, type OptionDefs } from './command.js';
import { agentCommand } from './commands/agent.js';
import { channelCommand, channelsCommand } from './commands/channels.js';
import { walletCommand } from './commands/wallet.js';
import { meshConfigCommand } from './commands/mesh-config.js';
import { surveyCommand } from './commands/survey.js';
import { idCommand } from './commands/id.js';
import { peersCommand } from './commands/peers.js';
import { statusCommand } from './commands/status.js';
import { DEV_COMMANDS_LISTED, type LazyCommand } from './dev-command-list.js';

/** Every command; the dev-only ones (dev-command-list.ts) are loaded when asked for. */
export const COMMANDS: readonly (Command | LazyCommand)[] = [agentCommand, statusCommand, peersCommand, idCommand, walletCommand, channelsCommand, channelCommand, meshConfigCommand, surveyCommand, ...DEV_COMMANDS_LISTED];

const COMMON_OPTIONS: OptionDefs = {
  config: { type: 'string', short: 'c' },
  'state-dir': { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

const COMMON_HELP = `Common options:
  -c, --config FILE    UCI config file (default ${DEFAULT_CONFIG_PATH}; a missing file means defaults)
      --state-dir DIR  keys and state (default: the config's agent.state_dir, /etc/bitmesh;
                       ~/.bitmesh when not root and there is no config file)
      --json           machine-readable output
  -h, --help           this help`;

export function usage(): string {
  const w = Math.max(...COMMANDS.map((c) => c.name.length));
  return `bitmesh — sell and buy mesh upstream per kilobyte, for Bitcoin

Usage: bitmesh <command> [options]

Commands:
${COMMANDS.map((c) => `  ${c.name.padEnd(w)}  ${c.summary}`).join('\n')}

${COMMON_HELP}

Run 'bitmesh <command> --help' for a command's own help.`;
}

/**
 * Not root and no config file: a laptop or a developer's machine, where /etc/bitmesh is
 * not writable. Keys and state then go to ~/.bitmesh, as a user would expect.
 */
function laptopStateDir(configPath: string): string | undefined {
  if (process.getuid?.() === 0 || existsSync(configPath)) return undefined;
  return path.join(homedir(), '.bitmesh');
}

export interface Io {
  out: (t: string) => void;
  err: (t: string) => void;
}

const stdio: Io = {
  out: (t) => process.stdout.write(t + '\n'),
  err: (t) => process.stderr.write(t + '\n'),
};

export async function main(argv: readonly string[], io: Io = stdio): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === '--help' || name === '-h' || name === 'help') {
    io.out(usage());
    return name === undefined ? 2 : 0;
  }
  if (name === '--version') {
    const { AGENT_VERSION } = await import('../agent/version.js');
    io.out(AGENT_VERSION);
    return 0;
  }
  const listed = COMMANDS.find((c) => c.name === name);
  if (!listed) {
    io.err(`bitmesh: unknown command '${name}'\n\n${usage()}`);
    return 2;
  }
  let cmd: Command;
  try {
    cmd = 'load' in listed ? await listed.load() : listed;
  } catch (e) {
    if (!(e instanceof BitmeshError)) throw e;
    io.err(`bitmesh ${name}: ${e.message}`); // on a router: bitmesh-dev.js is not installed
    return 1;
  }
  try {
    let parsed;
    try {
      parsed = parseArgs({
        args: [...rest],
        options: { ...COMMON_OPTIONS, ...cmd.options },
        allowPositionals: true,
        strict: true,
      });
    } catch (e) {
      throw new UsageError((e as Error).message);
    }
    const values = parsed.values as CommandContext['values'];
    if (values.help) {
      io.out(`Usage: ${cmd.usage}\n\n${cmd.help}\n\n${COMMON_HELP}`);
      return 0;
    }
    const configPath = path.resolve((values.config as string | undefined) ?? DEFAULT_CONFIG_PATH);
    const stateDirOverride = (values['state-dir'] as string | undefined) ?? laptopStateDir(configPath);
    let cached: Promise<BitmeshConfig> | undefined;
    const ctx: CommandContext = {
      configPath,
      // --state-dir goes in as an override so everything derived from it (the control
      // socket path) follows it.
      loadConfig: () =>
        (cached ??= loadConfig(configPath, stateDirOverride ? { agent: { stateDir: path.resolve(stateDirOverride) } } : {})),
      stateDir: (c) => c.agent.stateDir,
      json: values.json === true,
      values,
      positionals: parsed.positionals,
      out: io.out,
      err: io.err,
    };
    return await cmd.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`bitmesh ${cmd.name}: ${e.message}\nUsage: ${cmd.usage}`);
      return 2;
    }
    if (e instanceof BitmeshError) {
      io.err(`bitmesh ${cmd.name}: ${e.message}`);
      return e.code.startsWith('config') || e.name === 'ConfigError' ? 2 : 1;
    }
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EACCES' || err.code === 'EROFS') {
      io.err(`bitmesh ${cmd.name}: ${err.message} (try --state-dir DIR)`);
      return 1;
    }
    io.err(`bitmesh ${cmd.name}: ${err.stack ?? String(e)}`);
    return 1;
  }
}
