// Runs a tool (batctl, iw) without a shell and returns what it printed. Sources take
// a CommandRunner as a parameter, so tests feed recorded output instead.

import { execFile } from 'node:child_process';
import { LinkQualityUnavailableError } from './errors.js';

/**
 * Runs `file` with `args` and resolves with its stdout. Rejects only with
 * LinkQualityUnavailableError.
 */
export type CommandRunner = (file: string, args: readonly string[], timeoutMs: number) => Promise<string>;

/** Output past this is not a table we want to read; batctl for 1,000 originators prints ~200 KB. */
export const DEFAULT_MAX_OUTPUT_BYTES = 4 * 1024 * 1024;

/** A CommandRunner on child_process.execFile: no shell, C locale, killed at the time limit. */
export function execFileRunner(maxOutputBytes: number = DEFAULT_MAX_OUTPUT_BYTES): CommandRunner {
  return (file, args, timeoutMs) =>
    new Promise<string>((resolve, reject) => {
      execFile(
        file,
        [...args],
        {
          timeout: timeoutMs,
          killSignal: 'SIGKILL',
          maxBuffer: maxOutputBytes,
          encoding: 'utf8',
          windowsHide: true,
          // iw and batctl print the same in every locale, but numbers must not get a decimal comma.
          env: { ...process.env, LC_ALL: 'C' },
        },
        (err, stdout, stderr) => {
          if (err === null) {
            resolve(stdout);
            return;
          }
          reject(toUnavailable(file, err, stderr));
        },
      );
    });
}

interface ExecFailure {
  readonly code?: string | number | null;
  readonly killed?: boolean;
  readonly signal?: NodeJS.Signals | null;
  readonly message: string;
}

function toUnavailable(file: string, err: ExecFailure, stderr: string): LinkQualityUnavailableError {
  const said = stderr.trim().slice(0, 200);
  if (err.code === 'ENOENT') return new LinkQualityUnavailableError('missing', `${file} is not installed`);
  if (err.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') {
    return new LinkQualityUnavailableError('oversize', `${file} printed more than the output limit`);
  }
  if (err.killed === true) return new LinkQualityUnavailableError('timeout', `${file} did not finish in time`);
  const how = typeof err.code === 'number' ? `exited ${err.code}` : err.signal ? `killed by ${err.signal}` : err.message;
  return new LinkQualityUnavailableError('failed', `${file} ${how}${said ? `: ${said}` : ''}`);
}

/** Rejects with a timeout error if `work` has not settled within `timeoutMs`; clears its timer either way. */
export async function withTimeout<T>(work: Promise<T>, timeoutMs: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new LinkQualityUnavailableError('timeout', `${what} did not finish in time`)), timeoutMs);
  });
  try {
    return await Promise.race([work, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
