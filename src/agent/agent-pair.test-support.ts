// Test support: a gateway and a client agent in this process, on loopback, peered with
// each other and pointed at a devchain. Each suite gives the sections it sets apart.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePorts } from '../../scripts/testing/agent-process.js';
import { waitFor } from '../../scripts/testing/wait-for.js';
import { defaultConfig } from '../config/load.js';
import { Crypto } from '../crypto/facade.js';
import { Agent } from './agent.js';
import { loadOrCreateIdentity } from './identity.js';
import { silentLogger } from './log.js';

type Overrides = NonNullable<Parameters<typeof defaultConfig>[0]>;

export interface AgentPairOptions {
  readonly chainUrl: string;
  /** Config sections for both agents, on top of the pair's own (role, state dir, mesh, chain). */
  readonly config: (role: 'gateway' | 'client') => Overrides;
  /** Called with each agent's stop, to run when the suite ends. */
  readonly cleanup: (stop: () => Promise<void>) => void;
  /** Wait this long after the gateway starts before starting the client. */
  readonly clientDelayMs?: number;
}

/** Starts the gateway, then the client, and waits until each has the other as a neighbour. */
export async function startAgentPair(o: AgentPairOptions): Promise<{ gw: Agent; cl: Agent }> {
  const ports = await freePorts(2);
  const crypto = new Crypto();
  const agents: Agent[] = [];
  for (const [i, role] of (['gateway', 'client'] as const).entries()) {
    if (role === 'client' && o.clientDelayMs) await new Promise((r) => setTimeout(r, o.clientDelayMs));
    const dir = await mkdtemp(path.join(tmpdir(), `bitmesh-pair-${role}-`));
    const { identity } = await loadOrCreateIdentity(dir, crypto);
    const own = o.config(role);
    const config = defaultConfig({
      ...own,
      agent: { ...own.agent, role, stateDir: dir },
      mesh: { bindAddress: '127.0.0.1', port: ports[i]!, helloIntervalMs: 200, peer: ports.map((port) => ({ host: '127.0.0.1', port })) },
      chain: { ...own.chain, esploraUrl: o.chainUrl },
    });
    const a = new Agent({ config, identity, crypto, log: silentLogger });
    await a.start();
    o.cleanup(() => a.stop());
    agents.push(a);
  }
  const [gw, cl] = agents as [Agent, Agent];
  await waitFor(() => gw.peers().length === 1 && cl.peers().length === 1, 5000, 'discovery');
  return { gw, cl };
}
