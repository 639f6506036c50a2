// What the demo shows comes from the agents themselves: each node's `status` and
// `channels` through its control socket (what `bitmesh status --json` and `bitmesh
// channels --json` print), folded into one row per node. Both modes (proxy on
// loopback, nft in namespaces) use these rows for the live table and the summary.
// An agent is { name, role, sock }; `names` maps node ids (hex and bm1…) to names.
import net from 'node:net';

const ASK_MS = 3_000;

/**
 * One control request (JSON lines, as src/agent/control-client.ts speaks it) that gives
 * up after `ms` (a stuck agent must not stall the demo). A refusal rejects with an
 * Error carrying the agent's error `code`.
 */
export function askAgent(sock, cmd, args = {}, ms = ASK_MS) {
  return new Promise((resolve, reject) => {
    const c = net.connect(sock);
    let buf = '';
    const timer = setTimeout(() => c.destroy(new Error(`${cmd}: no answer within ${ms} ms`)), ms);
    c.setEncoding('utf8');
    c.on('connect', () => c.write(JSON.stringify({ cmd, args }) + '\n'));
    c.on('data', (d) => {
      buf += d;
      if (!buf.includes('\n')) return;
      clearTimeout(timer);
      c.end();
      try {
        const r = JSON.parse(buf.slice(0, buf.indexOf('\n')));
        if (r.ok) resolve(r.result);
        else reject(Object.assign(new Error(r.error?.message ?? 'refused'), { code: r.error?.code }));
      } catch (e) {
        reject(e);
      }
    });
    c.on('error', (e) => {
      clearTimeout(timer);
      reject(e);
    });
  });
}

/** The node ids of each agent, for showing names instead of keys. */
export async function nameAgents(agents, names = new Map()) {
  for (const a of agents) {
    const s = await askAgent(a.sock, 'status');
    a.id = s.node.idHex;
    names.set(s.node.idHex, a.name);
    names.set(s.node.id, a.name);
  }
  return names;
}

export async function snapshot(agents) {
  return Promise.all(agents.map(async (a) => {
    try {
      const [s, ch] = await Promise.all([askAgent(a.sock, 'status'), askAgent(a.sock, 'channels')]);
      return { a, s, ch };
    } catch {
      return { a, s: undefined, ch: [] };
    }
  }));
}

export function row({ a, s, ch }, names) {
  const open = ch.filter((c) => c.state === 'Open');
  const msat = ch.reduce((x, c) => x + BigInt(c.paidMsat), 0n);
  const bytes = ch.reduce((x, c) => x + c.bytes, 0);
  const award = s?.market?.auction?.award ?? null;
  const via = a.role === 'client'
    ? (award ? `${names.get(award.gatewayHex) ?? award.gateway.slice(0, 12)}${award.channelOpen ? '' : ' (opening)'}` : '-')
    : `${open.length} client${open.length === 1 ? '' : 's'}`;
  const price = a.role === 'gateway' ? s?.market?.priceMsatPerKiB : award?.priceMsatPerKiB;
  return { name: a.name, role: a.role, via, price: price ?? null, bytes, msat: msat.toString(), channels: ch.length, failovers: s?.market?.auction?.counters?.failovers ?? null };
}

export async function rows(agents, names) {
  return (await snapshot(agents)).map((x) => row(x, names));
}

export function table(rows) {
  const head = ['NODE', 'ROLE', 'GATEWAY / SELLS TO', 'PRICE msat/KiB', 'BYTES', 'SATS'];
  const cells = rows.map((r) => [r.name, r.role, r.via, r.price === null ? '-' : String(r.price), (r.bytes / 2 ** 20).toFixed(1) + ' MiB', (Number(r.msat) / 1000).toFixed(3)]);
  const w = head.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const fmt = (c) => c.map((x, i) => x.padEnd(w[i])).join('  ');
  return [fmt(head), ...cells.map(fmt)].join('\n');
}

/**
 * The demo's machine-readable summary and its verdict: every client downloaded bytes
 * and paid for them, and every channel a gateway closed is confirmed on chain (one whose
 * share does not pay for its own close is left open, as a gateway would: `skipped`).
 * `traffic` maps a client's name to { bytes, ok, failed, firstPaidMs }.
 */
export function summarize({ t0, clients, rows, traffic, closes }) {
  const summary = {
    seconds: (Date.now() - t0) / 1000,
    nodes: rows,
    traffic: Object.fromEntries(traffic),
    settlements: closes,
  };
  const everyClientPaid = clients.every((c) => traffic.get(c.name).bytes > 0 && rows.find((r) => r.name === c.name).msat !== '0');
  const closed = closes.filter((c) => !c.skipped);
  const allSettled = closed.length > 0 && closed.every((c) => c.confirmed);
  summary.ok = everyClientPaid && allSettled;
  return { summary, everyClientPaid, allSettled };
}

export function verdictLine({ summary, everyClientPaid, allSettled }) {
  return `\n${summary.ok ? 'OK' : 'FAILED'}: every client carried paid traffic: ${everyClientPaid}; every channel settled on chain: ${allSettled}; ${summary.seconds.toFixed(1)} s`;
}
