// Three agents as separate processes on loopback: they find each other, and a
// killed one drops out of the others' tables after the configured expiry.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import { AgentProcess, BUNDLE, freePorts } from '../../scripts/testing/agent-process.js';

const run = promisify(execFile);

describe('agents on loopback', () => {
  const agents: AgentProcess[] = [];
  afterAll(async () => {
    await Promise.all(agents.map((a) => a.stop('SIGKILL')));
  });

  it('see each other within 3 s, and forget a killed one after the expiry', async () => {
    const ports = await freePorts(3);
    const t0 = Date.now();
    agents.push(...(await Promise.all(ports.map((port) => AgentProcess.start({ port, peers: ports })))));
    const [a, b, c] = agents as [AgentProcess, AgentProcess, AgentProcess];
    // Through the CLI, as a user would: `bitmesh peers --json`.
    const peersViaCli = async (x: AgentProcess) =>
      JSON.parse((await run(process.execPath, [BUNDLE, 'peers', '--json', '--config', x.configPath])).stdout) as { id: string }[];
    await a.waitFor(async () => {
      const counts = await Promise.all(agents.map(async (x) => (await peersViaCli(x)).length));
      return counts.every((n) => n === 2);
    }, 3000);
    expect(Date.now() - t0).toBeLessThan(3000); // from spawning the processes to a full mesh
    const idOf = async (x: AgentProcess) => (await x.status())!.node.id;
    const cId = await idOf(c);
    expect((await peersViaCli(a)).map((p) => p.id)).toContain(cId);

    await c.stop('SIGKILL');
    const killedAt = Date.now();
    const gone = await a.waitFor(async () => !(await a.peers()).some((p) => p.id === cId), 5000);
    // Expiry is 2 s: not before it, and not long after.
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1500);
    expect(gone).toBeLessThan(4000);
    // b sweeps its own table on its own timer: gone there too, within the same bound.
    await b.waitFor(async () => !(await b.peers()).some((p) => p.id === cId), Math.max(0, 4000 - (Date.now() - killedAt)));
    expect((await b.peers()).map((p) => p.id)).not.toContain(cId);
  });

  it('stops cleanly on SIGTERM: exit 0 and the control socket removed', async () => {
    const [port] = await freePorts(1);
    const a = await AgentProcess.start({ port: port!, peers: [] });
    expect(await a.stop('SIGTERM')).toBe(0);
    expect(a.output).toContain('agent stopped');
    await expect(run(process.execPath, [BUNDLE, 'status', '--config', a.configPath])).rejects.toMatchObject({ code: 1 });
  });

  it('refuses to start on a bad config and says where the fault is', async () => {
    const [port] = await freePorts(1);
    const a = await AgentProcess.start({ port: port!, peers: [] });
    await a.stop();
    const { writeFile } = await import('node:fs/promises');
    await writeFile(a.configPath, "config mesh 'mesh'\n\toption port 'seventy'\n");
    const r = await run(process.execPath, [BUNDLE, 'agent', '--config', a.configPath]).catch((e: { code: number; stderr: string }) => e);
    expect(r).toMatchObject({ code: 2 });
    expect((r as { stderr: string }).stderr).toMatch(/bitmesh\.conf:2: section 'mesh' option 'port'.*expected/);
  });
});
