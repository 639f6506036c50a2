// One-line log records fit for syslog: `level=info msg="channel opened" peer=bm1…`.
// procd forwards the agent's stderr to syslog on a router, so no syslog client is needed;
// with target 'syslog' we drop our own timestamp (syslog adds one).

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';
const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogFields = Record<string, string | number | boolean | undefined>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
}

function quote(v: string): string {
  return /^[A-Za-z0-9_.:/@+\-]+$/.test(v) ? v : JSON.stringify(v);
}

export function formatRecord(level: LogLevel, msg: string, fields: LogFields | undefined, ts?: Date): string {
  let line = ts ? `ts=${ts.toISOString()} ` : '';
  line += `level=${level} msg=${JSON.stringify(msg)}`;
  if (fields) {
    for (const [k, v] of Object.entries(fields)) if (v !== undefined) line += ` ${k}=${quote(String(v))}`;
  }
  return line.replace(/[\r\n]+/g, ' ');
}

export function createLogger(opts: {
  level: LogLevel;
  target: 'stderr' | 'syslog';
  write?: (line: string) => void;
  clock?: () => Date;
}): Logger {
  const write = opts.write ?? ((line: string) => process.stderr.write(line + '\n'));
  const clock = opts.clock ?? (() => new Date());
  const min = RANK[opts.level];
  const log = (level: LogLevel) => (msg: string, fields?: LogFields) => {
    if (RANK[level] >= min) write(formatRecord(level, msg, fields, opts.target === 'stderr' ? clock() : undefined));
  };
  return { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') };
}

export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
