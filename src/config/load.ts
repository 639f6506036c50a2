// Reading /etc/config/bitmesh: file → UCI sections → validated, defaulted, frozen config.
// A missing file means all defaults (a laptop starts that way). Anything the schema does
// not know is an error, because a typo silently ignored is a setting silently lost.
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from './error.js';
import { SCHEMA } from './schema.js';
import type { BitmeshConfig, OptionSpec, SectionType } from './schema.js';
import { parseUci } from './uci.js';
import type { UciSection } from './uci.js';

export type { BitmeshConfig } from './schema.js';

export const DEFAULT_CONFIG_PATH = '/etc/config/bitmesh';
/** A config is a few KiB; refuse to read a runaway file into memory. */
export const MAX_CONFIG_BYTES = 1 << 20;

/** Values that win over the file (CLI flags such as `--state-dir`). */
export type ConfigOverrides = { readonly [S in SectionType]?: Partial<BitmeshConfig[S]> };

/** Read, parse and validate a config file. Throws ConfigError (and nothing else for bad input). */
export async function loadConfig(path: string, overrides: ConfigOverrides = {}): Promise<BitmeshConfig> {
  const text = await readConfigText(path);
  return validateConfig(text === undefined ? [] : parseUci(text, path), path, overrides);
}

/** The configuration with no file at all. */
export function defaultConfig(overrides: ConfigOverrides = {}): BitmeshConfig {
  return validateConfig([], '(defaults)', overrides);
}

/** Find an option by UCI section type and UCI option name (for mgmt's whitelisted `set`). */
export function lookupOption(
  type: string,
  uciName: string,
): { readonly type: SectionType; readonly key: string; readonly spec: OptionSpec<unknown> } | undefined {
  if (!isSectionType(type)) return undefined;
  const options: Record<string, OptionSpec<unknown>> = SCHEMA[type].options;
  for (const [key, spec] of Object.entries(options)) if (spec.uci === uciName) return { type, key, spec };
  return undefined;
}

/** Check parsed sections against SCHEMA, apply defaults and overrides, freeze. */
export function validateConfig(
  sections: readonly UciSection[],
  file: string,
  overrides: ConfigOverrides = {},
): BitmeshConfig {
  const found = new Map<SectionType, UciSection>();
  const counts = new Map<string, number>();
  for (const s of sections) {
    const index = counts.get(s.type) ?? 0;
    counts.set(s.type, index + 1);
    const label = s.name ?? `@${s.type}[${index}]`;
    if (!isSectionType(s.type)) {
      const expected = `a section type: ${suggest(s.type, Object.keys(SCHEMA))}`;
      throw new ConfigError('config_unknown', { file, line: s.line, section: label, expected, got: s.type });
    }
    const spec = SCHEMA[s.type];
    if (s.name !== undefined && s.name !== spec.name) {
      const expected = `the name '${spec.name}' (or none) for section type '${s.type}'`;
      throw new ConfigError('config_unknown', { file, line: s.line, section: label, expected, got: s.name });
    }
    const first = found.get(s.type);
    if (first !== undefined) {
      const expected = `one '${s.type}' section (the first is on line ${first.line})`;
      throw new ConfigError('config_duplicate', { file, line: s.line, section: label, expected });
    }
    found.set(s.type, s);
  }

  const config: Record<string, Record<string, unknown>> = {};
  for (const type of Object.keys(SCHEMA).filter(isSectionType)) {
    const options: Record<string, OptionSpec<unknown>> = SCHEMA[type].options;
    const values: Record<string, unknown> = {};
    for (const [key, spec] of Object.entries(options)) values[key] = spec.default;
    const s = found.get(type);
    for (const [uciName, raw] of s?.options ?? []) {
      const section = s?.name ?? `@${type}[0]`;
      const hit = lookupOption(type, uciName);
      if (hit === undefined) {
        const names = Object.values(options).map((o) => o.uci);
        const expected = `an option of '${type}': ${suggest(uciName, names)}`;
        throw new ConfigError('config_unknown', { file, line: raw.line, section, option: uciName, expected, got: uciName });
      }
      const d = hit.spec.decode(raw.value);
      if (!d.ok) {
        const line = d.index === undefined ? raw.line : (raw.itemLines?.[d.index] ?? raw.line);
        const expected = d.list ? `${hit.spec.expected} in one 'option' line, not a 'list'` : hit.spec.expected;
        throw new ConfigError('config_value', { file, line, section, option: uciName, expected, got: d.got });
      }
      values[hit.key] = d.value;
    }
    // Copied, so that freezing the result does not freeze the caller's arrays.
    for (const [key, value] of Object.entries(overrides[type] ?? {}))
      if (value !== undefined) values[key] = Array.isArray(value) ? [...value] : value;
    config[type] = values;
  }
  const agent = config['agent'];
  if (agent !== undefined && agent['controlSocket'] === '' && typeof agent['stateDir'] === 'string')
    agent['controlSocket'] = join(agent['stateDir'], 'bitmesh.sock');
  // Every value above came from a spec's default or decode, so this has the schema's shape.
  return deepFreeze(config) as unknown as BitmeshConfig;
}

async function readConfigText(path: string): Promise<string | undefined> {
  const io = (expected: string, got?: string): ConfigError =>
    new ConfigError('config_io', { file: path, line: 0, expected, ...(got !== undefined && { got }) });
  try {
    const st = await stat(path);
    if (!st.isFile()) throw io('a regular file');
    if (st.size > MAX_CONFIG_BYTES) throw io(`a file of at most ${MAX_CONFIG_BYTES} bytes`, `${st.size} bytes`);
    return await readFile(path, 'utf8');
  } catch (e) {
    if (e instanceof ConfigError) throw e;
    if (errnoCode(e) === 'ENOENT') return undefined;
    throw io('a readable file', errnoCode(e) ?? String(e));
  }
}

function errnoCode(e: unknown): string | undefined {
  return e instanceof Error && 'code' in e && typeof e.code === 'string' ? e.code : undefined;
}

function isSectionType(type: string): type is SectionType {
  return Object.hasOwn(SCHEMA, type);
}

/** "did you mean 'port'?" for a near miss, else the whole list. */
function suggest(got: string, known: readonly string[]): string {
  const near = known.find((k) => editDistance(k, got) <= 2);
  return near !== undefined ? `did you mean '${near}'?` : `one of ${known.join(', ')}`;
}

function editDistance(a: string, b: string): number {
  if (Math.abs(a.length - b.length) > 2) return 3;
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      row.push(Math.min((prev[j] ?? 0) + 1, (row[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost));
    }
    prev = row;
  }
  return prev[b.length] ?? 0;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}
