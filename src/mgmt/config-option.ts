// The remote `set_config` command: which options an operator may set over MQTT, and
// how one is written to the UCI file. Validate first, write atomically, or change nothing.
// The whitelist is short on purpose: options that could cut the node off the mesh or the
// broker (ports, addresses, keys, the mgmt section itself) are set on the router only.
import { chmod, open, readFile, rename, stat } from 'node:fs/promises';
import { ConfigError } from '../config/error.js';
import { lookupOption, validateConfig } from '../config/load.js';
import { SCHEMA, type BitmeshConfig } from '../config/schema.js';
import { parseUci, setUciOption } from '../config/uci.js';
import { MgmtError } from './errors.js';

/** `<section type>.<uci option>` that `set_config` accepts. */
export const REMOTE_SETTABLE: ReadonlySet<string> = new Set([
  'market.price_msat_per_kib',
  'market.max_price_msat_per_kib',
  'mesh.hello_interval_ms',
  'agent.log_level',
]);

export interface WrittenOption {
  readonly config: BitmeshConfig;
  /** Section type and camelCase key, to apply the value: config[section][key]. */
  readonly section: keyof BitmeshConfig;
  readonly key: string;
  readonly value: unknown;
}

/**
 * Validate `value` for the whitelisted option, write it into the UCI file at `file`
 * (created if missing) and return the new validated config. On any error the file is
 * untouched and a MgmtError says why ('refused' or 'bad_args').
 */
export async function writeConfigOption(file: string, section: string, option: string, value: string): Promise<WrittenOption> {
  if (!REMOTE_SETTABLE.has(`${section}.${option}`))
    throw new MgmtError('refused', `${section}.${option} cannot be set remotely (allowed: ${[...REMOTE_SETTABLE].join(', ')})`);
  const hit = lookupOption(section, option);
  if (hit === undefined) throw new MgmtError('refused', `unknown option ${section}.${option}`);
  const decoded = hit.spec.decode(value);
  if (!decoded.ok) throw new MgmtError('bad_args', `${section}.${option}: expected ${hit.spec.expected}`);

  let text = '';
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw new MgmtError('failed', `cannot read ${file}: ${(e as Error).message}`);
  }
  let config: BitmeshConfig;
  let next: string;
  try {
    next = setUciOption(text, file, { type: hit.type, name: SCHEMA[hit.type].name }, option, value);
    // The whole file must still load, exactly as the agent would load it at its next start.
    config = validateConfig(parseUci(next, file), file);
  } catch (e) {
    if (e instanceof ConfigError) throw new MgmtError('bad_args', e.message);
    throw new MgmtError('failed', (e as Error).message);
  }
  await writeAtomically(file, next);
  return { config, section: hit.type, key: hit.key, value: decoded.value };
}

async function writeAtomically(file: string, text: string): Promise<void> {
  const mode = await stat(file).then((s) => s.mode & 0o777, () => 0o644);
  const tmp = `${file}.tmp-${process.pid}`;
  try {
    const fh = await open(tmp, 'w', mode);
    try {
      await fh.writeFile(text);
      await fh.sync();
    } finally {
      await fh.close();
    }
    await chmod(tmp, mode);
    await rename(tmp, file);
  } catch (e) {
    throw new MgmtError('failed', `cannot write ${file}: ${(e as Error).message}`);
  }
}
