// Reputation: per gateway, what it delivered against what it claimed, as seen by this
// client. Kept across restarts (toJSON/fromJSON) and bounded (least recently updated
// entries evicted first).
//
// Rules:
// - A sample is delivered / expected, clamped to [0, 1], where expected is what the
//   gateway's claim promised on this path (min(wanted, claim × link)); a failure is a
//   sample of 0. The ratio is an EWMA whose weight starts at 1/(n+1) (a plain mean of
//   the first samples) and never drops below `alpha`.
// - A sample may count as several (`weight`): a capacity probe, which tests the claim
//   itself, weighs more than a window that was merely backlogged.
// - Evidence ages: the sample count halves every `halfLifeMs`, so the table drifts
//   back to the prior and a reformed gateway can earn its way back.
// - confidence = n / (n + halfCount); discount = (1 − confidence) × prior +
//   confidence × ratio^exponent. With the exponent 2, a gateway claiming k× what it
//   delivers ends at capacity/k of effective claim: over-claiming loses auctions
//   against honest gateways of the same capacity, it does not merely break even.
// - Entries are created only by observations (the client used that gateway), never
//   by reading, so bids from fresh ids do not grow the table.
import {
  DEFAULT_REPUTATION_ALPHA,
  DEFAULT_REPUTATION_EXPONENT,
  DEFAULT_REPUTATION_HALF_COUNT,
  DEFAULT_REPUTATION_HALF_LIFE_MS,
  DEFAULT_REPUTATION_MAX_ENTRIES,
  DEFAULT_REPUTATION_PRIOR,
  REPUTATION_FILE_VERSION,
} from './constants.js';
import { MarketOptionError, ReputationFileError } from './errors.js';
import { LruMap } from './lru-map.js';

export interface ReputationOptions {
  /** Discount of an unknown gateway, in [0, 1]. */
  readonly prior: number;
  readonly halfCount: number;
  readonly alpha: number;
  readonly exponent: number;
  readonly halfLifeMs: number;
  readonly maxEntries: number;
}

export const DEFAULT_REPUTATION_OPTIONS: ReputationOptions = {
  prior: DEFAULT_REPUTATION_PRIOR,
  halfCount: DEFAULT_REPUTATION_HALF_COUNT,
  alpha: DEFAULT_REPUTATION_ALPHA,
  exponent: DEFAULT_REPUTATION_EXPONENT,
  halfLifeMs: DEFAULT_REPUTATION_HALF_LIFE_MS,
  maxEntries: DEFAULT_REPUTATION_MAX_ENTRIES,
};

/** One gateway's standing at time `now`. */
export interface ReputationView {
  /** EWMA of delivered/claimed, in [0, 1]; the prior when never observed. */
  readonly ratio: number;
  /** Effective sample count after ageing. */
  readonly samples: number;
  readonly confidence: number;
  /** Multiplier on the gateway's claims, in [0, 1]. */
  readonly discount: number;
}

/** The persisted form. `samples` is the effective count as of `updatedAt`. */
export interface ReputationFileEntry {
  readonly gateway: string;
  readonly ratio: number;
  readonly samples: number;
  readonly updatedAt: number;
}
export interface ReputationFile {
  readonly version: typeof REPUTATION_FILE_VERSION;
  readonly entries: readonly ReputationFileEntry[];
}

/** Files with more entries than this are refused outright (no table is ever this big). */
export const MAX_REPUTATION_FILE_ENTRIES = 65_536;
const MAX_SAMPLES = 1e9;
const MAX_WEIGHT = 16;
const GATEWAY_HEX = /^[0-9a-f]{64}$/;

interface Entry {
  ratio: number;
  samples: number;
  updatedAt: number;
}

export class ReputationTable {
  readonly #opts: ReputationOptions;
  readonly #entries: LruMap<string, Entry>;
  #revision = 0;

  constructor(opts: Partial<ReputationOptions> = {}) {
    this.#opts = { ...DEFAULT_REPUTATION_OPTIONS, ...opts };
    const o = this.#opts;
    if (!(o.prior >= 0 && o.prior <= 1)) throw new MarketOptionError(`prior must be in [0, 1], got ${o.prior}`);
    if (!(o.alpha > 0 && o.alpha <= 1)) throw new MarketOptionError(`alpha must be in (0, 1], got ${o.alpha}`);
    if (!(o.halfCount > 0 && o.exponent > 0 && o.halfLifeMs > 0)) {
      throw new MarketOptionError('halfCount, exponent and halfLifeMs must be > 0');
    }
    this.#entries = new LruMap(o.maxEntries);
  }

  get size(): number {
    return this.#entries.size;
  }

  /** Grows on every change; the agent persists when it moved (at its flash-friendly interval). */
  get revision(): number {
    return this.#revision;
  }

  /**
   * One delivery measurement: `deliveredKbps` against the `expectedKbps` the claim
   * promised. `weight` (a whole number, 1–16) counts it as that many samples: a
   * capacity probe tests the claim head-on and says more than one ordinary window.
   */
  observe(gateway: string, deliveredKbps: number, expectedKbps: number, now: number, weight = 1): void {
    if (!(expectedKbps > 0) || !Number.isFinite(deliveredKbps) || !Number.isFinite(now)) return;
    const k = Number.isFinite(weight) ? Math.min(MAX_WEIGHT, Math.max(1, Math.round(weight))) : 1;
    for (let i = 0; i < k; i++) this.#sample(gateway, clamp01(deliveredKbps / expectedKbps), now);
  }

  /** The gateway delivered nothing when it should have. */
  recordFailure(gateway: string, now: number): void {
    if (Number.isFinite(now)) this.#sample(gateway, 0, now);
  }

  view(gateway: string, now: number): ReputationView {
    const e = this.#entries.peek(gateway);
    const o = this.#opts;
    if (!e) return { ratio: o.prior, samples: 0, confidence: 0, discount: o.prior };
    const samples = this.#aged(e, now);
    const confidence = samples / (samples + o.halfCount);
    const discount = (1 - confidence) * o.prior + confidence * e.ratio ** o.exponent;
    return { ratio: e.ratio, samples, confidence, discount };
  }

  discount(gateway: string, now: number): number {
    return this.view(gateway, now).discount;
  }

  toJSON(): ReputationFile {
    const entries: ReputationFileEntry[] = [];
    for (const [gateway, e] of this.#entries.entries()) {
      entries.push({ gateway, ratio: e.ratio, samples: e.samples, updatedAt: Math.max(0, Math.floor(e.updatedAt)) });
    }
    return { version: REPUTATION_FILE_VERSION, entries };
  }

  /** A table from persisted data; throws ReputationFileError if any of it is wrong. */
  static fromJSON(data: unknown, opts: Partial<ReputationOptions> = {}): ReputationTable {
    const table = new ReputationTable(opts);
    const entries = decodeReputationFile(data).entries;
    // Oldest first, so the LRU keeps the most recently updated when the file is bigger.
    const sorted = [...entries].sort((a, b) => a.updatedAt - b.updatedAt);
    for (const { gateway, ratio, samples, updatedAt } of sorted) table.#entries.set(gateway, { ratio, samples, updatedAt });
    return table;
  }

  /**
   * Loads the reputation file's text (undefined: no file yet). A bad file is not fatal:
   * the result is a fresh table plus the error, for the agent to log and count.
   */
  static restore(
    text: string | undefined,
    opts: Partial<ReputationOptions> = {},
  ): { table: ReputationTable; error?: ReputationFileError } {
    if (text === undefined) return { table: new ReputationTable(opts) };
    try {
      let data: unknown;
      try {
        data = JSON.parse(text);
      } catch (e) {
        throw new ReputationFileError('reputation_not_object', `not JSON: ${(e as Error).message}`);
      }
      return { table: ReputationTable.fromJSON(data, opts) };
    } catch (e) {
      if (e instanceof ReputationFileError) return { table: new ReputationTable(opts), error: e };
      throw e;
    }
  }

  #aged(e: Entry, now: number): number {
    return e.samples * 0.5 ** (Math.max(0, now - e.updatedAt) / this.#opts.halfLifeMs);
  }

  #sample(gateway: string, x: number, now: number): void {
    const e = this.#entries.peek(gateway);
    if (!e) {
      this.#entries.set(gateway, { ratio: x, samples: 1, updatedAt: now });
    } else {
      const n = this.#aged(e, now);
      const w = Math.max(this.#opts.alpha, 1 / (n + 1));
      e.ratio = clamp01(e.ratio + w * (x - e.ratio));
      e.samples = Math.min(MAX_SAMPLES, n + 1);
      e.updatedAt = Math.max(e.updatedAt, now);
      this.#entries.set(gateway, e);
    }
    this.#revision++;
  }
}

/** Strict decoder of the persisted form. */
export function decodeReputationFile(data: unknown): ReputationFile {
  if (!isRecord(data)) throw new ReputationFileError('reputation_not_object', 'expected a JSON object');
  if (data['version'] !== REPUTATION_FILE_VERSION) {
    throw new ReputationFileError('reputation_version', `version ${describe(data['version'])}, expected ${REPUTATION_FILE_VERSION}`);
  }
  const raw = data['entries'];
  if (!Array.isArray(raw)) throw new ReputationFileError('reputation_not_object', '"entries" must be an array');
  if (raw.length > MAX_REPUTATION_FILE_ENTRIES) {
    throw new ReputationFileError('reputation_too_many', `${raw.length} entries, at most ${MAX_REPUTATION_FILE_ENTRIES}`);
  }
  const seen = new Set<string>();
  const entries = raw.map((r: unknown, i): ReputationFileEntry => {
    const where = `entries[${i}]`;
    if (!isRecord(r)) throw new ReputationFileError('reputation_entry', `${where} is not an object`);
    const { gateway, ratio, samples, updatedAt } = r;
    if (typeof gateway !== 'string' || !GATEWAY_HEX.test(gateway)) {
      throw new ReputationFileError('reputation_entry', `${where}.gateway must be 64 lowercase hex characters`);
    }
    if (typeof ratio !== 'number' || !(ratio >= 0 && ratio <= 1)) {
      throw new ReputationFileError('reputation_entry', `${where}.ratio must be a number in [0, 1]`);
    }
    if (typeof samples !== 'number' || !(samples >= 0 && samples <= MAX_SAMPLES)) {
      throw new ReputationFileError('reputation_entry', `${where}.samples must be a number in [0, ${MAX_SAMPLES}]`);
    }
    if (typeof updatedAt !== 'number' || !Number.isSafeInteger(updatedAt) || updatedAt < 0) {
      throw new ReputationFileError('reputation_entry', `${where}.updatedAt must be a non-negative integer (ms)`);
    }
    if (seen.has(gateway)) throw new ReputationFileError('reputation_duplicate', `${where}: gateway ${gateway} appears twice`);
    seen.add(gateway);
    return { gateway, ratio, samples, updatedAt };
  });
  return { version: REPUTATION_FILE_VERSION, entries };
}

/** Never calls into the value (a hostile object's toString may throw). */
function describe(x: unknown): string {
  return typeof x === 'number' ? String(x) : typeof x;
}

function isRecord(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

function clamp01(x: number): number {
  if (!(x > 0)) return 0;
  return x > 1 ? 1 : x;
}
