import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { commandFromWords } from './command-words.js';
import { MgmtError } from './errors.js';

describe('commandFromWords', () => {
  it('reads every command, with dashes or underscores', () => {
    expect(commandFromWords(['status'])).toEqual({ name: 'status' });
    expect(commandFromWords(['set-price', '120'])).toEqual({ name: 'set_price', msatPerKiB: 120 });
    expect(commandFromWords(['set_price', '0'])).toEqual({ name: 'set_price', msatPerKiB: 0 });
    expect(commandFromWords(['pause'])).toEqual({ name: 'pause_selling' });
    expect(commandFromWords(['resume-selling'])).toEqual({ name: 'resume_selling' });
    expect(commandFromWords(['set-config', 'market', 'price_msat_per_kib', '5'])).toEqual({
      name: 'set_config',
      section: 'market',
      option: 'price_msat_per_kib',
      value: '5',
    });
    expect(commandFromWords(['close-channel', 'c1'])).toEqual({ name: 'close_channel', channel: 'c1' });
    expect(commandFromWords(['reauction'])).toEqual({ name: 'reauction' });
    expect(commandFromWords(['restart'])).toEqual({ name: 'restart' });
  });

  const code = (words: string[]) => {
    try {
      commandFromWords(words);
      return 'ok';
    } catch (e) {
      return (e as MgmtError).code;
    }
  };

  it('refuses wrong arity, bad numbers and unknown words', () => {
    expect(code([])).toBe('bad_args');
    expect(code(['status', 'x'])).toBe('bad_args');
    expect(code(['set-price'])).toBe('bad_args');
    expect(code(['set-price', '-1'])).toBe('bad_args');
    expect(code(['set-price', '1.5'])).toBe('bad_args');
    expect(code(['set-config', 'a', 'b'])).toBe('bad_args');
    expect(code(['format-disk'])).toBe('unknown_command');
  });

  it('property: any words give a command or a MgmtError', () => {
    fc.assert(
      fc.property(fc.array(fc.string(), { maxLength: 5 }), (words) => {
        try {
          commandFromWords(words);
        } catch (e) {
          expect(e).toBeInstanceOf(MgmtError);
        }
      }),
    );
  });
});
