// The one error type of the config module. A config file is written by an operator
// (or by mgmt on their behalf), so anything wrong in it is a RemoteError: we refuse
// to start and say exactly where and what, `file:line: section 'x' option 'y': expected …`.
import { RemoteError } from '../core/errors.js';

export type ConfigErrorCode =
  /** The text is not UCI: bad quoting, unknown command, bad name, too many arguments. */
  | 'config_syntax'
  /** A section type or option name the schema does not know (typos are not ignored). */
  | 'config_unknown'
  /** A section given twice. */
  | 'config_duplicate'
  /** A value of the wrong kind or out of range. */
  | 'config_value'
  /** The file exists but cannot be read (permissions, a directory, too large). */
  | 'config_io';

export interface ConfigErrorWhere {
  readonly file: string;
  /** 1-based; 0 when the error is about the file as a whole. */
  readonly line: number;
  /** Section name, or `@type[i]` for an anonymous section. */
  readonly section?: string;
  readonly option?: string;
  /** What would have been accepted, as a phrase: "an integer 1-65535". */
  readonly expected: string;
  /** What was found, when there is something to show. */
  readonly got?: string;
}

export class ConfigError extends RemoteError {
  declare readonly code: ConfigErrorCode;
  readonly file: string;
  readonly line: number;
  readonly section: string | undefined;
  readonly option: string | undefined;
  readonly expected: string;
  readonly got: string | undefined;

  constructor(code: ConfigErrorCode, where: ConfigErrorWhere) {
    super(code, formatMessage(where));
    this.file = where.file;
    this.line = where.line;
    this.section = where.section;
    this.option = where.option;
    this.expected = where.expected;
    this.got = where.got;
  }
}

function formatMessage(w: ConfigErrorWhere): string {
  let msg = w.line > 0 ? `${w.file}:${w.line}: ` : `${w.file}: `;
  if (w.section !== undefined) msg += `section '${w.section}' `;
  if (w.option !== undefined) msg += `option '${w.option}'`;
  if (w.section !== undefined || w.option !== undefined) msg = msg.trimEnd() + ': ';
  msg += `expected ${w.expected}`;
  if (w.got !== undefined) msg += `, got '${printable(w.got)}'`;
  return msg;
}

/** Hostile text must not forge log lines or flood them: escape controls, cap the length. */
export function printable(s: string, max = 60): string {
  const cut = s.length > max ? s.slice(0, max) + '…' : s;
  return cut.replace(/[\u0000-\u001f\u007f]/g, (c) => {
    if (c === '\n') return '\\n';
    if (c === '\t') return '\\t';
    if (c === '\r') return '\\r';
    return '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0');
  });
}
