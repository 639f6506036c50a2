// Typed readers for command-line option values: bad input is a UsageError (exit 2).
import { UsageError, type CommandContext } from './command.js';

export function intOption(ctx: CommandContext, name: string, def: number, min: number, max: number): number {
  const raw = ctx.values[name];
  if (raw === undefined) return def;
  if (typeof raw !== 'string' || !/^[0-9]{1,16}$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw new UsageError(`--${name} expects an integer ${min}..${max}, got '${String(raw)}'`);
  }
  return Number(raw);
}

export function stringOption(ctx: CommandContext, name: string, def: string): string {
  const raw = ctx.values[name];
  if (raw === undefined) return def;
  if (typeof raw !== 'string' || raw === '') throw new UsageError(`--${name} expects a value`);
  return raw;
}
