import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { isRunningChild, killChild } from './kill-child.js';

describe('killChild', () => {
  it('leaves a child that failed to spawn alone (Node would signal pid 0: our own process group)', async () => {
    const child = spawn('/nonexistent/bitmesh-no-such-binary');
    const errored = once(child, 'error');
    // Before and after the spawn error: never "running", never signalled.
    expect(isRunningChild(child)).toBe(false);
    expect(killChild(child, 'SIGKILL')).toBe(false);
    await errored;
    expect(killChild(child, 'SIGKILL')).toBe(false);
    // Still here: had kill(0, SIGKILL) happened, this test process would be gone.
    expect(process.pid).toBeGreaterThan(0);
  });

  it('kills a running child once, and not again after it exited', async () => {
    const child = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    expect(isRunningChild(child)).toBe(true);
    const exited = once(child, 'exit');
    expect(killChild(child, 'SIGKILL')).toBe(true);
    const [, signal] = await exited;
    expect(signal).toBe('SIGKILL');
    expect(isRunningChild(child)).toBe(false);
    expect(killChild(child, 'SIGKILL')).toBe(false);
  });
});
