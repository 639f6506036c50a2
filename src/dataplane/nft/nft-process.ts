// One long-lived `nft -j -i` child that takes commands one line at a time (a line is one
// transaction), plus one-shot `nft -f -` / `nft -j …` runs for whole-table scripts.
//
// Framing. nft -i answers nothing on success and prints errors on stderr, echoing the
// offending input line. After each command we send a sentinel line `bm_sync_<n>`, which
// is a syntax error: its error (…"\nbm_sync_<n>\n   ^\n") on stderr marks the end of
// the command, and whatever stderr came before it is the command's own error. With -j,
// a `list` prints one JSON document per command on one stdout line, flushed at once.
// stdout and stderr are separate pipes whose data may reach us in either order, so
// commands go one at a time: a read is done when its sentinel has come and either its
// own stderr holds an error or its JSON line has come.
// Why: an update through the child costs ~0.1 ms, a fresh nft process ~2 ms (DESIGN §7).

import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { killChild } from '../../os/kill-child.js';
import { NftCommandError, NftInputError, NftProcessError } from './errors.js';
import { decodeNftJson, type NftItem } from './nft-json.js';

export interface NftProcessOptions {
  /** The nft program and leading arguments; default `['nft']` (tests: `['ip','netns','exec',ns,'nft']`). */
  readonly command?: readonly string[];
  /** Longest a command may take before the child is killed and restarted. */
  readonly timeoutMs?: number;
  /** Cap on buffered output of one command. */
  readonly maxOutputBytes?: number;
  /** Called when a child died or was killed; the next command starts a new one. */
  readonly onChildLost?: (reason: NftProcessError) => void;
}

interface Job {
  readonly line: string;
  readonly read: boolean;
  readonly resolve: (items: NftItem[] | undefined) => void;
  readonly reject: (e: Error) => void;
}

interface Running {
  readonly job: Job;
  readonly token: string;
  readonly timer: NodeJS.Timeout;
  ownStderr: string | undefined;
  lines: string[];
}

const DEFAULT_TIMEOUT_MS = 5_000;
const DEFAULT_MAX_OUTPUT = 32 << 20;

function checkLine(line: string): void {
  if (line.length === 0 || /[\r\n\0]/.test(line)) throw new NftInputError('command', 'expected one non-empty line');
}

export class NftProcess {
  readonly #command: readonly string[];
  readonly #timeoutMs: number;
  readonly #maxOutput: number;
  readonly #onChildLost: ((reason: NftProcessError) => void) | undefined;
  readonly #queue: Job[] = [];
  #child: ChildProcessWithoutNullStreams | undefined;
  #running: Running | undefined;
  #stdout = '';
  #stderr = '';
  #seq = 0;
  #closed = false;
  /** Children started so far (1 after the first command; more after losses). */
  spawned = 0;

  constructor(opts: NftProcessOptions = {}) {
    this.#command = opts.command ?? ['nft'];
    if (this.#command.length === 0) throw new NftInputError('command', 'expected a program');
    this.#timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.#maxOutput = opts.maxOutputBytes ?? DEFAULT_MAX_OUTPUT;
    this.#onChildLost = opts.onChildLost;
  }

  /** Runs one line (one transaction) and resolves when nft accepted it. */
  async exec(line: string): Promise<void> {
    await this.#enqueue(line, false);
  }

  /** Runs one `list …` command and decodes its JSON. */
  async read(line: string): Promise<NftItem[]> {
    const items = await this.#enqueue(line, true);
    return items ?? [];
  }

  /** Ends the child; queued commands fail with `closed`. */
  async close(): Promise<void> {
    this.#closed = true;
    for (const j of this.#queue.splice(0)) j.reject(new NftProcessError('closed', 'nft process closed'));
    const child = this.#child;
    if (!child) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.stdin.end();
    const t = setTimeout(() => killChild(child, 'SIGKILL'), 1_000);
    await exited;
    clearTimeout(t);
  }

  #enqueue(line: string, read: boolean): Promise<NftItem[] | undefined> {
    checkLine(line);
    if (this.#closed) return Promise.reject(new NftProcessError('closed', 'nft process closed'));
    return new Promise((resolve, reject) => {
      this.#queue.push({ line, read, resolve, reject });
      this.#pump();
    });
  }

  #pump(): void {
    if (this.#running || this.#queue.length === 0) return;
    const job = this.#queue.shift() as Job;
    let child: ChildProcessWithoutNullStreams;
    try {
      child = this.#child ?? this.#start();
    } catch (e) {
      job.reject(new NftProcessError('spawn', (e as Error).message));
      this.#pump();
      return;
    }
    const token = `bm_sync_${++this.#seq}`;
    const timer = setTimeout(() => this.#lose(new NftProcessError('timeout', `no answer to \`${job.line.slice(0, 120)}\` in ${this.#timeoutMs} ms`)), this.#timeoutMs);
    this.#running = { job, token, timer, ownStderr: undefined, lines: [] };
    child.stdin.write(`${job.line}\n${token}\n`);
  }

  #start(): ChildProcessWithoutNullStreams {
    const [prog, ...args] = this.#command as [string, ...string[]];
    const child = spawn(prog, [...args, '-j', '-i'], { stdio: ['pipe', 'pipe', 'pipe'] });
    this.spawned++;
    this.#child = child;
    this.#stdout = '';
    this.#stderr = '';
    child.stdout.setEncoding('utf8');
    child.stderr.setEncoding('utf8');
    child.stdout.on('data', (d: string) => {
      if (child !== this.#child) return;
      this.#stdout += d;
      this.#onStdout();
    });
    child.stderr.on('data', (d: string) => {
      if (child !== this.#child) return;
      this.#stderr += d;
      this.#onStderr();
    });
    child.stdin.on('error', () => {}); // EPIPE when the child died; 'exit' reports it.
    child.on('error', (e) => {
      if (child === this.#child) this.#lose(new NftProcessError('spawn', e.message));
    });
    child.on('exit', (code, signal) => {
      if (child === this.#child) this.#lose(new NftProcessError('exited', `nft -i exited (${signal ?? code})`));
    });
    return child;
  }

  #onStdout(): void {
    let nl: number;
    while ((nl = this.#stdout.indexOf('\n')) >= 0) {
      const line = this.#stdout.slice(0, nl);
      this.#stdout = this.#stdout.slice(nl + 1);
      // Output no running read asked for (there should be none) is dropped.
      if (this.#running?.job.read && line.trim() !== '') this.#running.lines.push(line);
    }
    if (this.#stdout.length > this.#maxOutput) return this.#lose(new NftProcessError('oversize', 'stdout line too long'));
    this.#settle();
  }

  #onStderr(): void {
    const r = this.#running;
    if (r && r.ownStderr === undefined) {
      let at = this.#stderr.startsWith(`${r.token}\n`) ? 0 : -1;
      if (at < 0) {
        const i = this.#stderr.indexOf(`\n${r.token}\n`);
        if (i >= 0) at = i + 1;
      }
      if (at >= 0) {
        const caretEnd = this.#stderr.indexOf('\n', at + r.token.length + 1);
        if (caretEnd >= 0) {
          // Drop the sentinel's own "Error: syntax error…" header line.
          const before = this.#stderr.slice(0, at);
          const header = before.lastIndexOf('\n', before.length - 2) + 1;
          r.ownStderr = before.slice(0, header);
          this.#stderr = this.#stderr.slice(caretEnd + 1);
        }
      }
    }
    if (this.#stderr.length > this.#maxOutput) return this.#lose(new NftProcessError('oversize', 'stderr too long'));
    this.#settle();
  }

  #settle(): void {
    const r = this.#running;
    if (!r || r.ownStderr === undefined) return;
    const failed = /(^|\n)Error:/.test(r.ownStderr);
    if (!failed && r.job.read && r.lines.length === 0) return; // its JSON is still on the way
    clearTimeout(r.timer);
    this.#running = undefined;
    if (failed) r.job.reject(new NftCommandError(r.job.line, r.ownStderr));
    else if (!r.job.read) r.job.resolve(undefined);
    else {
      try {
        r.job.resolve(decodeNftJson(r.lines[0] as string));
      } catch (e) {
        r.job.reject(e as Error);
      }
    }
    this.#pump();
  }

  /** The child is gone or useless: fail the running command, kill it, go on with a new one. */
  #lose(reason: NftProcessError): void {
    const child = this.#child;
    this.#child = undefined;
    if (child) killChild(child, 'SIGKILL');
    const r = this.#running;
    this.#running = undefined;
    if (r) {
      clearTimeout(r.timer);
      r.job.reject(reason);
    }
    this.#onChildLost?.(reason);
    this.#pump();
  }
}

interface OneShotResult {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function runOnce(command: readonly string[], args: readonly string[], stdin: string, timeoutMs: number): Promise<OneShotResult> {
  const [prog, ...pre] = command as [string, ...string[]];
  return new Promise((resolve, reject) => {
    const child = spawn(prog, [...pre, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => {
      killChild(child, 'SIGKILL');
      reject(new NftProcessError('timeout', `nft ${args.join(' ')} took over ${timeoutMs} ms`));
    }, timeoutMs);
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.stdin.on('error', () => {});
    child.on('error', (e) => {
      clearTimeout(timer);
      reject(new NftProcessError('spawn', e.message));
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin);
  });
}

/** Runs a whole script as one transaction in a fresh `nft -f -`. */
export async function runNftScript(command: readonly string[], script: string, timeoutMs = DEFAULT_TIMEOUT_MS): Promise<void> {
  const r = await runOnce(command, ['-f', '-'], script, timeoutMs);
  if (r.code !== 0) throw new NftCommandError('nft -f -', r.stderr || `exit ${r.code}`);
}

/** Runs one `nft -j <args>` in a fresh process and decodes its JSON. */
export async function readNftOnce(command: readonly string[], args: readonly string[], timeoutMs = DEFAULT_TIMEOUT_MS): Promise<NftItem[]> {
  const r = await runOnce(command, ['-j', ...args], '', timeoutMs);
  if (r.code !== 0) throw new NftCommandError(`nft ${args.join(' ')}`, r.stderr || `exit ${r.code}`);
  return decodeNftJson(r.stdout.trim());
}
