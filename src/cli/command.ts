// What a `bitmesh` sub-command is: a name, its help text, its own options, and a run
// function. main.ts parses the common options (--config, --state-dir, --json, --help)
// for every command, so each command only declares what is its own.
import type { ParseArgsConfig } from 'node:util';
import type { BitmeshConfig } from '../config/schema.js';
import { RemoteError } from '../core/errors.js';

export type OptionDefs = NonNullable<ParseArgsConfig['options']>;

export interface CommandContext {
  readonly configPath: string;
  /** Config as loaded from configPath, with --state-dir applied. */
  loadConfig(): Promise<BitmeshConfig>;
  readonly stateDir: (config: BitmeshConfig) => string;
  readonly json: boolean;
  readonly values: Readonly<Record<string, string | boolean | string[] | boolean[] | undefined>>;
  readonly positionals: readonly string[];
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
}

export interface Command {
  readonly name: string;
  readonly summary: string;
  readonly usage: string;
  /** Help text below the usage line: what it does, its options, an example. */
  readonly help: string;
  readonly options?: OptionDefs;
  readonly run: (ctx: CommandContext) => Promise<number>;
}

/** Bad command line: exit status 2 and the usage line. */
export class UsageError extends RemoteError {
  constructor(message: string) {
    super('usage', message);
  }
}
