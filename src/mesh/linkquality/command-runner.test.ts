import { describe, it, expect } from 'vitest';
import { execFileRunner, withTimeout } from './command-runner.js';
import { LinkQualityUnavailableError } from './errors.js';

const node = process.execPath;

describe('execFileRunner (real child processes)', () => {
  const run = execFileRunner();

  it('returns what the program printed, run without a shell', async () => {
    await expect(run(node, ['-e', 'process.stdout.write(process.argv[1])', '$(echo hi); *'], 5000)).resolves.toBe('$(echo hi); *');
  });

  it('a missing program is "missing"', async () => {
    await expect(run('/nonexistent/batctl', ['meshif', 'bat0', 'oj'], 5000)).rejects.toMatchObject({
      code: 'LINK_QUALITY_UNAVAILABLE',
      reason: 'missing',
    });
  });

  it('a non-zero exit is "failed" and says what the program said', async () => {
    const err: unknown = await run(node, ['-e', 'console.error("Error - interface bat0 is not present"); process.exit(3)'], 5000).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(LinkQualityUnavailableError);
    expect(err).toMatchObject({ reason: 'failed' });
    expect((err as Error).message).toMatch(/exited 3: Error - interface bat0 is not present/);
  });

  it('a program that hangs is killed and reported as "timeout"', async () => {
    const t0 = Date.now();
    await expect(run(node, ['-e', 'setTimeout(() => {}, 20000)'], 300)).rejects.toMatchObject({ reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('output past the limit is "oversize"', async () => {
    await expect(execFileRunner(64)(node, ['-e', 'process.stdout.write("x".repeat(10000))'], 5000)).rejects.toMatchObject({
      reason: 'oversize',
    });
  });
});

describe('withTimeout', () => {
  it('passes a result through and times out a promise that never settles', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'x')).resolves.toBe(7);
    await expect(withTimeout(new Promise(() => {}), 20, 'scan')).rejects.toThrow(/timeout: scan did not finish in time/);
  });
});
