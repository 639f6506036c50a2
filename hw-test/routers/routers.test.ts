// Real routers over SSH. BITMESH_ROUTERS lists ssh targets (space or comma separated,
// e.g. "root@10.0.0.1 root@10.0.0.2"); the first is the gateway, the rest clients. Each
// gets the freshly built .ipk (opkg install), then the smoke test: the agent runs under
// procd, its nft table exists, the routers hear each other, and a client opens a channel
// to the gateway and pays for bytes (BITMESH_CHANNEL_SAT, default 20000, from the
// client's wallet, which must be funded on the configured chain).
// Skipped with a message when BITMESH_ROUTERS is unset.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const targets = (process.env['BITMESH_ROUTERS'] ?? '').split(/[\s,]+/).filter(Boolean);
if (targets.length === 0) console.warn('SKIPPED (set BITMESH_ROUTERS="root@gw root@client …" to test on real routers)');

const ROOT = path.resolve(import.meta.dirname, '../..');
const SSH_OPTS = ['-o', 'BatchMode=yes', '-o', 'ConnectTimeout=10', '-o', 'StrictHostKeyChecking=accept-new'];

function ssh(target: string, command: string, timeoutMs = 60_000): string {
  return execFileSync('ssh', [...SSH_OPTS, target, command], { encoding: 'utf8', timeout: timeoutMs, stdio: ['ignore', 'pipe', 'pipe'] });
}

function json<T>(target: string, command: string): T {
  return JSON.parse(ssh(target, command)) as T;
}

async function until<T>(what: string, fn: () => T | undefined, timeoutMs: number): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 2000));
  }
}

describe.skipIf(targets.length === 0)('bitmesh on real routers', () => {
  const gateway = targets[0]!;
  const clients = targets.slice(1);
  let ids = new Map<string, string>();

  it('installs the ipk on every router and the agent comes up under procd', () => {
    const out = mkdtempSync(path.join(tmpdir(), 'bitmesh-routers-'));
    execFileSync(process.execPath, [path.join(ROOT, 'scripts/build-ipk.mjs'), '--out', out, path.join(ROOT, 'packages-openwrt/bitmesh')]);
    const ipk = readdirSync(out).find((f) => f.startsWith('bitmesh_'))!;
    for (const t of targets) {
      execFileSync('scp', [...SSH_OPTS, '-O', path.join(out, ipk), `${t}:/tmp/${ipk}`], { timeout: 120_000 });
      ssh(t, `opkg install --force-reinstall /tmp/${ipk} && rm -f /tmp/${ipk}`, 300_000);
      ssh(t, `uci set bitmesh.main.role=${t === gateway ? 'gateway' : 'client'} && uci commit bitmesh && /etc/init.d/bitmesh restart`);
    }
    ids = new Map(targets.map((t) => [t, ssh(t, 'sleep 3; bitmesh id').trim()]));
    for (const t of targets) {
      expect(ssh(t, '/etc/init.d/bitmesh running && echo up').trim()).toBe('up');
      expect(ssh(t, 'ubus call service list \'{"name":"bitmesh"}\'')).toContain('"running": true');
      expect(json<{ node: { id: string } }>(t, 'bitmesh status --json').node.id).toBe(ids.get(t));
    }
  }, 900_000);

  it('the routers hear each other on the mesh', async () => {
    for (const t of targets) {
      const others = targets.filter((o) => o !== t).map((o) => ids.get(o)!);
      await until(`${t} to hear ${others.length} peers`, () => {
        const peers = json<{ id: string }[]>(t, 'bitmesh peers --json').map((p) => p.id);
        return others.every((o) => peers.includes(o)) ? true : undefined;
      }, 60_000);
    }
  }, 300_000);

  it.runIf(clients.length > 0)('a client pays the gateway for a transfer', async () => {
    const client = clients[0]!;
    const cap = process.env['BITMESH_CHANNEL_SAT'] ?? '20000';
    const channelId = ssh(client, `bitmesh channel open ${ids.get(gateway)} --capacity ${cap}`, 120_000).trim();
    expect(channelId).toMatch(/^[0-9a-f]{64}$/);
    // Traffic through the gateway: the client's default route follows the chosen gateway.
    ssh(client, 'wget -q -O /dev/null http://detectportal.firefox.com/success.txt || true', 120_000);
    const paid = await until('the gateway to be paid', () => {
      const ch = json<{ id: string; paidMsat: string; bytes: number }[]>(gateway, 'bitmesh channels --json').find((c) => c.id === channelId);
      return ch && BigInt(ch.paidMsat) > 0n && ch.bytes > 0 ? ch : undefined;
    }, 600_000);
    expect(BigInt(paid.paidMsat)).toBeGreaterThan(0n);
    expect(ssh(gateway, 'nft list table inet bitmesh >/dev/null && echo ok').trim()).toBe('ok');
  }, 900_000);
});
