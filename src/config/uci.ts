// UCI, OpenWrt's config file format: read the way libuci reads it in its default
// strict mode (openwrt/uci file.c), written the way `uci export` writes it.
//
// One command per line, or several separated by ';':
//   package <name>            names the config; ignored (we know which file we read)
//   config <type> [<name>]    opens a section; no name (or '') → anonymous
//   option <name> [<value>]   sets an option; an empty value changes nothing
//   list <name> <value>       appends to a list; after an `option` of the same name the
//                             option's value becomes item 0, as libuci's uci_add_list does
// libuci also accepts the command words abbreviated to one letter (c, o, l, p).
// An argument is pieces with no space between them: bare text, '…' (literal, may span
// lines) and "…" (may span lines). Outside single quotes a backslash takes the next
// character literally and a backslash at the end of a line joins the next line.
// '#' outside quotes starts a comment. Names are letters, digits and '_'; a section type
// is any printable ASCII. Repeating an option replaces it in place (last one wins).
//
// libuci's quirks around ';' are kept, so that we read a file as LuCI and `uci` do: a ';'
// right after an unquoted value ends the line (the rest is ignored), a ';' where an
// argument should be counts as an empty one, and a ';' at the end of a line is an error.
// NUL bytes are refused.
import { LocalError } from '../core/errors.js';
import { ConfigError } from './error.js';

export interface UciOption {
  /** A string for `option`, an array for `list`. */
  value: string | string[];
  /** Line of the `option` line, or of the first `list` line. */
  line: number;
  /** For lists: the line of each item, for errors that name one item. */
  itemLines?: number[];
}

export interface UciSection {
  type: string;
  /** Absent for an anonymous section. */
  name?: string;
  /** Line of the `config` line. */
  line: number;
  /** In file order. */
  options: Map<string, UciOption>;
}

/** What the writer needs: line numbers are ignored. */
export interface UciSectionInput {
  readonly type: string;
  readonly name?: string | undefined;
  readonly options: ReadonlyMap<string, { readonly value: string | readonly string[] }>;
}

/** Parse UCI text. `file` is only used in error messages. Throws only ConfigError. */
export function parseUci(text: string, file: string): UciSection[] {
  return parseDocument(text, file).sections;
}

/** Canonical UCI: `config type 'name'`, `\toption key 'value'`, a blank line between sections. */
export function writeUci(sections: readonly UciSectionInput[]): string {
  const out: string[] = [];
  for (const s of sections) {
    if (!isType(s.type)) throw new LocalError('config_write', `invalid UCI section type '${s.type}'`);
    if (s.name !== undefined && s.name !== '' && !isName(s.name))
      throw new LocalError('config_write', `invalid UCI section name '${s.name}'`);
    if (out.length > 0) out.push('');
    out.push(`config ${/['"\\#;]/.test(s.type) ? quote(s.type) : s.type}${s.name ? ` ${quote(s.name)}` : ''}`);
    for (const [key, opt] of s.options) out.push(...optionLines(key, opt.value));
  }
  return out.length > 0 ? out.join('\n') + '\n' : '';
}

export interface UciTarget {
  /** Section type, used when the section has to be created or is anonymous. */
  readonly type: string;
  readonly name: string;
}

/**
 * Set (or with undefined, '' or [] delete) one option in one section of a UCI text and
 * return the new text. The section is found by type and name, else the first anonymous
 * section of that type, else appended. Only the lines of that option change, so other
 * sections, options, their order and comments survive; when the option shares a line
 * with another command (`a; b`) the whole file is rewritten canonically instead.
 */
export function setUciOption(
  text: string,
  file: string,
  target: UciTarget,
  option: string,
  value: string | readonly string[] | undefined,
): string {
  if (!isName(option)) throw new LocalError('config_write', `invalid UCI option name '${option}'`);
  if (!isType(target.type) || !isName(target.name))
    throw new LocalError('config_write', `invalid UCI section '${target.type}' '${target.name}'`);
  const newLines = optionLines(option, value ?? '');
  const doc = parseDocument(text, file);
  let index = doc.sections.findIndex((s) => s.type === target.type && s.name === target.name);
  if (index < 0) index = doc.sections.findIndex((s) => s.type === target.type && s.name === undefined);
  if (index < 0) {
    if (newLines.length === 0) return text;
    const sep = text === '' ? '' : text.endsWith('\n') ? '\n' : '\n\n';
    return `${text}${sep}config ${target.type} ${quote(target.name)}\n${newLines.join('\n')}\n`;
  }

  const ours = doc.commands.filter((c) => c.section === index && c.kind !== 'config' && c.name === option);
  const mine = doc.commands.filter((c) => c.section === index);
  const drop = new Set<number>();
  for (const c of ours) for (let l = c.first; l <= c.last; l++) drop.add(l);
  const insertAt = ours[0]?.first ?? (mine.at(-1)?.last ?? 0) + 1;
  // Line editing is only safe when no other command shares the lines we touch.
  const shared = doc.commands.some((c) => {
    if (ours.includes(c)) return false;
    for (let l = c.first; l <= c.last; l++) if (drop.has(l)) return true;
    return ours.length === 0 && !mine.includes(c) && c.first <= insertAt - 1 && insertAt - 1 <= c.last;
  });
  if (shared) {
    const s = doc.sections[index];
    if (s === undefined) throw new LocalError('config_write', 'section vanished');
    const v = value === undefined || value.length === 0 ? undefined : typeof value === 'string' ? value : [...value];
    if (v === undefined) s.options.delete(option);
    else s.options.set(option, { value: v, line: 0 });
    return writeUci(doc.sections);
  }
  const lines = text.split('\n');
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (i + 1 === insertAt) out.push(...newLines);
    if (!drop.has(i + 1)) out.push(lines[i] ?? '');
  }
  if (insertAt > lines.length) out.push(...newLines);
  return out.join('\n');
}

// ---- parser ----
// Shaped like libuci's: one buffer holding the current line (plus the lines a quoted value
// or a trailing backslash pulls in), a position in it, and "kill" where libuci writes a
// NUL into the buffer, which makes it ignore the rest of that line.

type CommandKind = 'package' | 'config' | 'option' | 'list';

/** Where each command sits, so that edits can touch only its lines. */
interface Command {
  readonly kind: CommandKind;
  /** Index of the section the command belongs to (-1 before the first section). */
  readonly section: number;
  /** Option name for option/list, section name for config. */
  readonly name: string;
  readonly first: number;
  readonly last: number;
}

interface UciDocument {
  readonly sections: UciSection[];
  readonly commands: Command[];
}

const COMMANDS: ReadonlyMap<string, CommandKind> = new Map([
  ['package', 'package'], ['p', 'package'],
  ['config', 'config'], ['c', 'config'],
  ['option', 'option'], ['o', 'option'],
  ['list', 'list'], ['l', 'list'],
]);

/** C isspace(). */
const isSpace = (c: string | undefined): boolean =>
  c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\v' || c === '\f';
const isName = (s: string): boolean => /^[A-Za-z0-9_]+$/.test(s);
const isType = (s: string): boolean => /^[\x21-\x7e]+$/.test(s);
const isPackage = (s: string): boolean => /^[A-Za-z0-9_-]+$/.test(s);

function parseDocument(text: string, file: string): UciDocument {
  const nul = text.indexOf('\0');
  if (nul >= 0) {
    const line = text.slice(0, nul).split('\n').length;
    throw new ConfigError('config_syntax', { file, line, expected: 'text without NUL bytes' });
  }
  const r = new Reader(text, file);
  const doc: UciDocument = { sections: [], commands: [] };
  while (r.nextLine()) parseLine(doc, r);
  return doc;
}

/** One line: commands separated by ';' (libuci's uci_parse_line). */
function parseLine(doc: UciDocument, r: Reader): void {
  r.skipSpace();
  for (;;) {
    while (r.cur() === ' ' || r.cur() === '\t') r.pos += 1;
    if (r.cur() === undefined) return;
    const first = r.line;
    const word = r.readWord();
    if (word.startsWith('#')) return;
    const command = word.trimEnd();
    const kind = COMMANDS.get(command);
    if (kind === undefined) {
      if (command === '') r.fail("a command after ';'", undefined, first);
      r.fail('a command (config, option, list or package)', word, first);
    }
    const args = [r.nextArg()];
    if (kind !== 'package') args.push(r.nextArg());
    const extra = r.nextArg();
    if (extra !== '') r.fail('the end of the command', extra);
    apply(doc, r, kind, command, args, first);
  }
}

function apply(doc: UciDocument, r: Reader, kind: CommandKind, word: string, args: string[], first: number): void {
  const [a0 = '', a1 = ''] = args;
  let section = doc.sections.length - 1;

  if (kind === 'package') {
    if (a0 === '') r.fail(`a package name after '${word}'`, undefined, first);
    if (!isPackage(a0)) r.fail('a package name of letters, digits, _ and -', a0, first);
  } else if (kind === 'config') {
    if (a0 === '') r.fail(`a section type after '${word}'`, undefined, first);
    if (!isType(a0)) r.fail('a section type of printable characters', a0, first);
    if (a1 !== '' && !isName(a1)) r.fail('a section name of letters, digits and _', a1, first);
    doc.sections.push({ type: a0, ...(a1 !== '' && { name: a1 }), line: first, options: new Map() });
    section += 1;
  } else {
    const s = doc.sections[section];
    if (s === undefined) r.fail(`a 'config' line before the first ${kind}`, undefined, first);
    if (a0 === '') r.fail(`an option name after '${word}'`, undefined, first);
    if (!isName(a0)) r.fail('an option name of letters, digits and _', a0, first);
    const old = s.options.get(a0);
    if (kind === 'option') {
      // libuci's uci_set with an empty value while loading: neither creates nor deletes.
      if (a1 !== '') s.options.set(a0, { value: a1, line: first });
    } else if (old === undefined) {
      s.options.set(a0, { value: [a1], line: first, itemLines: [first] });
    } else if (typeof old.value === 'string') {
      s.options.set(a0, { value: [old.value, a1], line: old.line, itemLines: [old.line, first] });
    } else {
      old.value.push(a1);
      old.itemLines?.push(first);
    }
  }
  doc.commands.push({ kind, section, name: kind === 'config' ? a1 : a0, first, last: r.line });
}

class Reader {
  /** The current line, with its '\n', plus any lines pulled in since. */
  buf = '';
  pos = 0;
  /** Number of the last line read into buf (1-based). */
  line = 0;
  private next = 0;

  constructor(
    readonly text: string,
    readonly file: string,
  ) {}

  fail(expected: string, got?: string, line = this.line): never {
    throw new ConfigError('config_syntax', { file: this.file, line, expected, ...(got !== undefined && { got }) });
  }

  cur(): string | undefined {
    return this.buf[this.pos];
  }

  /** Start a fresh buffer with the next line; false at the end of the text. */
  nextLine(): boolean {
    this.buf = '';
    this.pos = 0;
    return this.appendLine();
  }

  /** Replace the buffer from pos on by the next line (libuci's uci_getln(ctx, pos)). */
  private appendLine(): boolean {
    this.buf = this.buf.slice(0, this.pos);
    if (this.next >= this.text.length) return false;
    const nl = this.text.indexOf('\n', this.next);
    const end = nl < 0 ? this.text.length : nl + 1;
    this.buf += this.text.slice(this.next, end);
    this.next = end;
    this.line += 1;
    return true;
  }

  /** Ignore the rest of the buffer, where libuci writes a NUL into it. */
  private kill(): void {
    this.buf = this.buf.slice(0, this.pos);
  }

  skipSpace(): void {
    while (isSpace(this.cur())) this.pos += 1;
  }

  /** The command word ends at a space or tab (libuci's strtok(" \t")), which is skipped. */
  readWord(): string {
    const start = this.pos;
    while (this.cur() !== undefined && this.cur() !== ' ' && this.cur() !== '\t') this.pos += 1;
    const word = this.buf.slice(start, this.pos);
    if (this.cur() !== undefined) this.pos += 1;
    return word;
  }

  /** One argument, '' when there is none; a ';' here is consumed as an empty one. */
  nextArg(): string {
    this.skipSpace();
    if (this.cur() === ';') {
      this.pos += 1;
      return '';
    }
    let out = '';
    let bare = true; // nothing quoted or escaped: libuci then overwrites a final ';'
    do {
      const c = this.cur();
      if (c === undefined) return out;
      if (c === '#') {
        this.kill();
        return out;
      }
      if (c === ';') {
        if (bare) this.kill();
        return out;
      }
      if (c === "'" || c === '"' || c === '\\') bare = false;
      if (c === "'") out += this.readSingleQuoted();
      else if (c === '"') out += this.readDoubleQuoted();
      else if (c === '\\') out += this.readEscape();
      else {
        out += c;
        this.pos += 1;
      }
    } while (this.cur() !== undefined && !isSpace(this.cur()));
    if (this.cur() !== undefined) this.pos += 1;
    return out;
  }

  /** Backslash: the next character taken literally, or at the end of a line a join (''). */
  private readEscape(): string {
    this.pos += 1;
    const c = this.cur();
    const rest = this.buf.slice(this.pos);
    if (c === undefined || rest === '\n' || rest === '\r\n') {
      this.appendLine();
      return '';
    }
    this.pos += 1;
    return c;
  }

  private readSingleQuoted(): string {
    const opened = this.line;
    this.pos += 1;
    let out = '';
    for (;;) {
      const c = this.cur();
      if (c === "'") {
        this.pos += 1;
        return out;
      }
      if (c !== undefined) {
        out += c;
        this.pos += 1;
      } else if (!this.appendLine()) this.fail("a closing ' before the end of the file", undefined, opened);
    }
  }

  private readDoubleQuoted(): string {
    const opened = this.line;
    this.pos += 1;
    let out = '';
    for (;;) {
      const c = this.cur();
      if (c === '"') {
        this.pos += 1;
        return out;
      }
      if (c === '\\') out += this.readEscape();
      else if (c !== undefined) {
        out += c;
        this.pos += 1;
      } else if (!this.appendLine()) this.fail('a closing " before the end of the file', undefined, opened);
    }
  }
}

// ---- writer ----

/** Single quotes, with ' written as '\'' (close, escaped quote, reopen), as uci export. */
function quote(s: string): string {
  return `'${s.replaceAll("'", "'\\''")}'`;
}

function optionLines(key: string, value: string | readonly string[]): string[] {
  if (!isName(key)) throw new LocalError('config_write', `invalid UCI option name '${key}'`);
  const items = typeof value === 'string' ? [value] : value;
  if (items.some((v) => v.includes('\0'))) throw new LocalError('config_write', `NUL in value of option '${key}'`);
  // An empty option means "unset" to uci, so it is not written; list items may be empty.
  if (typeof value === 'string') return value === '' ? [] : [`\toption ${key} ${quote(value)}`];
  return value.map((v) => `\tlist ${key} ${quote(v)}`);
}
