// The operator's command line (`bitmesh mgmt send … set-price 120`) → a typed command.
// Words use dashes or underscores; numbers are plain decimal.
import { MgmtError } from './errors.js';
import type { MgmtCommand } from './command.js';

export const COMMAND_USAGE = [
  'status',
  'set-price MSAT_PER_KIB',
  'pause',
  'resume',
  'set-config SECTION OPTION VALUE',
  'close-channel ID',
  'reauction',
  'restart',
] as const;

export function commandFromWords(words: readonly string[]): MgmtCommand {
  const [first, ...args] = words;
  if (first === undefined) throw new MgmtError('bad_args', `a command: ${COMMAND_USAGE.join(' | ')}`);
  const name = first.replaceAll('-', '_');
  const want = (n: number, what: string): void => {
    if (args.length !== n) throw new MgmtError('bad_args', `${first} takes ${n === 0 ? 'no arguments' : what}`);
  };
  switch (name) {
    case 'status':
      want(0, '');
      return { name };
    case 'set_price': {
      want(1, 'MSAT_PER_KIB');
      const raw = args[0] ?? '';
      if (!/^[0-9]{1,13}$/.test(raw)) throw new MgmtError('bad_args', `set-price expects an integer msat/KiB, got '${raw}'`);
      return { name, msatPerKiB: Number(raw) };
    }
    case 'pause':
    case 'pause_selling':
      want(0, '');
      return { name: 'pause_selling' };
    case 'resume':
    case 'resume_selling':
      want(0, '');
      return { name: 'resume_selling' };
    case 'set_config':
      want(3, 'SECTION OPTION VALUE');
      return { name, section: args[0] ?? '', option: args[1] ?? '', value: args[2] ?? '' };
    case 'close_channel':
      want(1, 'ID');
      return { name, channel: args[0] ?? '' };
    case 'reauction':
      want(0, '');
      return { name };
    case 'restart':
      want(0, '');
      return { name };
    default:
      throw new MgmtError('unknown_command', `unknown command '${first}': ${COMMAND_USAGE.join(' | ')}`);
  }
}
