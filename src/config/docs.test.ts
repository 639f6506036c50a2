// docs/config.md must stay true: its option tables are what SCHEMA renders to, with
// the prose (each section's paragraph, each option's meaning) taken from the document
// itself, where it is written once. After changing the schema, run
// `UPDATE_CONFIG_DOCS=1 npx vitest run src/config/docs.test.ts` to rewrite the block,
// write the meaning of any new option, then read the diff.
import { describe, it, expect } from 'vitest';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { SCHEMA } from './schema.js';
import type { OptionSpec } from './schema.js';
import { parseUci } from './uci.js';
import { validateConfig } from './load.js';

const DOC = fileURLToPath(new URL('../../docs/config.md', import.meta.url));
const BEGIN = '<!-- BEGIN options: generated from src/config/schema.ts, checked by src/config/docs.test.ts -->';
const END = '<!-- END options -->';

function showDefault(v: unknown): string {
  if (typeof v === 'boolean') return v ? '`1`' : '`0`';
  if (Array.isArray(v)) return v.length === 0 ? '*(none)*' : v.map(showDefault).join(' ');
  if (typeof v === 'object' && v !== null && 'host' in v && 'port' in v) return `\`${String(v.host)}:${String(v.port)}\``;
  if (v === '') return '*(empty)*';
  return `\`${String(v)}\``;
}

/** The prose already in the block: section paragraphs and option meanings, by key. */
function proseOf(block: string): Map<string, string> {
  const prose = new Map<string, string>();
  let type = '';
  const lines = block.split('\n');
  lines.forEach((line, i) => {
    const heading = /^### `config (\w+) '/.exec(line);
    if (heading) {
      type = heading[1]!;
      prose.set(type, lines[i + 2] ?? '');
    }
    const row = /^\| (?:option|list) `(\w+)` \|.*\| ([^|]*) \|$/.exec(line);
    if (row) prose.set(`${type}.${row[1]}`, row[2]!);
  });
  return prose;
}

function renderTables(prose: Map<string, string>): string {
  const out: string[] = [];
  for (const [type, section] of Object.entries(SCHEMA)) {
    out.push(`### \`config ${type} '${section.name}'\``, '', prose.get(type) ?? '', '');
    out.push('| option | type | default | meaning |', '| --- | --- | --- | --- |');
    const options: Record<string, OptionSpec<unknown>> = section.options;
    for (const spec of Object.values(options)) {
      const name = `${spec.list ? 'list' : 'option'} \`${spec.uci}\``;
      out.push(`| ${name} | ${spec.expected} | ${showDefault(spec.default)} | ${prose.get(`${type}.${spec.uci}`) ?? ''} |`);
    }
    out.push('');
  }
  return out.join('\n');
}

describe('docs/config.md', () => {
  const doc = readFileSync(DOC, 'utf8');
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);

  it('documents every option of the schema, as the schema says', () => {
    expect(begin).toBeGreaterThanOrEqual(0);
    expect(end).toBeGreaterThan(begin);
    const prose = proseOf(doc.slice(begin, end));
    const want = `${BEGIN}\n\n${renderTables(prose)}${END}`;
    if (process.env['UPDATE_CONFIG_DOCS'] === '1') writeFileSync(DOC, doc.slice(0, begin) + want + doc.slice(end + END.length));
    else expect(doc.slice(begin, end + END.length)).toBe(want);
    // Every section and option says what it is for.
    const undocumented = Object.entries(SCHEMA).flatMap(([type, section]) => [
      ...(prose.get(type)?.trim() ? [] : [type]),
      ...Object.values(section.options as Record<string, OptionSpec<unknown>>)
        .filter((spec) => !prose.get(`${type}.${spec.uci}`)?.trim())
        .map((spec) => `${type}.${spec.uci}`),
    ]);
    expect(undocumented).toEqual([]);
  });

  it('has example files that load', () => {
    const examples = [...doc.matchAll(/```uci\n([\s\S]*?)```/g)].map((m) => m[1] ?? '');
    expect(examples.length).toBe(2);
    const [gateway, laptop] = examples.map((text) => validateConfig(parseUci(text, 'docs/config.md'), 'docs/config.md'));
    expect(gateway?.agent.role).toBe('gateway');
    expect(laptop?.mesh.peer).toEqual([{ host: '127.0.0.1', port: 4272 }]);
  });
});
