// When to (re)connect to the broker: exponential backoff with full jitter, reset on
// success. A pure machine: inputs carry `now`, the random source is injected, and the
// adapter keeps one real timer armed from pollTimeout().
//
// States and transitions (anything else is ignored):
//   idle       --start-->         connecting   (effect: connect)
//   connecting --connected-->     connected    (attempt counter reset)
//   connecting --failed-->        waiting      (deadline = now + jittered delay)
//   connected  --failed-->        waiting      (a dropped connection backs off too,
//                                               from the first step, so a broker that
//                                               restarts is retried within a second)
//   waiting    --timeout(now≥dl)-> connecting  (effect: connect)
//   any        --stop-->          stopped
// Full jitter (delay = U(0, min(cap, base·2^attempt))) spreads a fleet that lost the
// broker at the same instant, so 50 routers do not reconnect in lockstep.

export type ReconnectState = 'idle' | 'connecting' | 'connected' | 'waiting' | 'stopped';

export interface BackoffOptions {
  /** First step's upper bound, ms. */
  readonly baseMs: number;
  /** No delay exceeds this, ms. */
  readonly capMs: number;
  /** Uniform in [0, 1). */
  readonly random: () => number;
}

export const DEFAULT_BACKOFF = { baseMs: 500, capMs: 5_000 } as const;

export class ReconnectMachine {
  #state: ReconnectState = 'idle';
  #attempt = 0;
  #deadline: number | undefined;
  #connectDue = false;

  constructor(private readonly opts: BackoffOptions) {
    if (!(opts.baseMs > 0 && opts.capMs >= opts.baseMs)) throw new RangeError('backoff needs 0 < baseMs <= capMs');
  }

  get state(): ReconnectState {
    return this.#state;
  }
  /** Failed attempts since the last success. */
  get attempt(): number {
    return this.#attempt;
  }

  start(): void {
    if (this.#state !== 'idle') return;
    this.#state = 'connecting';
    this.#connectDue = true;
  }

  connected(): void {
    if (this.#state !== 'connecting') return;
    this.#state = 'connected';
    this.#attempt = 0;
  }

  /** A connect attempt failed or an established connection dropped. */
  failed(now: number): void {
    if (this.#state !== 'connecting' && this.#state !== 'connected') return;
    const bound = Math.min(this.opts.capMs, this.opts.baseMs * 2 ** Math.min(this.#attempt, 30));
    this.#attempt += 1;
    this.#deadline = now + Math.floor(this.opts.random() * bound);
    this.#state = 'waiting';
  }

  stop(): void {
    this.#state = 'stopped';
    this.#deadline = undefined;
    this.#connectDue = false;
  }

  /** When handleTimeout wants to be called, or undefined. */
  pollTimeout(): number | undefined {
    return this.#state === 'waiting' ? this.#deadline : undefined;
  }

  handleTimeout(now: number): void {
    if (this.#state !== 'waiting' || this.#deadline === undefined || now < this.#deadline) return;
    this.#deadline = undefined;
    this.#state = 'connecting';
    this.#connectDue = true;
  }

  /** True once per transition into connecting: the adapter should open a connection now. */
  pollConnect(): boolean {
    const due = this.#connectDue;
    this.#connectDue = false;
    return due;
  }
}
