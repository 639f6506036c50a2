// Settlement: each gateway closes its channels with the best state it holds (leaf
// A with the payer's latest signature), the closes are mined, and each one is checked
// on chain. Returns one entry per channel: gateway, client, paidMsat, bytes, txid, hex,
// spends, confirmed, blockHeight, or error. A channel whose payee share is below the
// close's fee plus dust cannot be closed at a profit; it is left open, as a gateway
// would leave it (the payer refunds after expiry), and marked `skipped`. (A client that
// switched gateways under load can leave one with a single prepaid tick on it.)
// `chain` is a chain-client.mjs client.
import { askAgent } from './market-view.mjs';
import { waitFor } from './wait-for.mjs';

// Signing and broadcasting a close can take a while on a loaded machine.
const CLOSE_MS = 30_000;

export async function settle({ gateways, names, chain, say }) {
  const closes = [];
  for (const g of gateways) {
    for (const c of await askAgent(g.sock, 'channels')) {
      if (c.role !== 'payee') continue;
      const entry = { gateway: g.name, client: names.get(c.peer) ?? c.peer, channelId: c.id, paidMsat: c.paidMsat, bytes: c.bytes };
      // Closed already: the client left (switched gateways) and the gateway closed at once.
      if (c.state === 'Closed') {
        if (BigInt(c.paidMsat) < 1000n) continue;
        entry.earlier = true;
        if (c.closeTxid) Object.assign(entry, { txid: c.closeTxid, hex: (await chain.request('GET', `/tx/${c.closeTxid}/hex`)).text, spends: spendsOf(c) });
        else entry.skipped = 'closed when the client left, without a close tx (the gateway log says why: usually a share below fee + dust)';
        closes.push(entry);
        continue;
      }
      // Suspended: the client stopped paying (it switched gateways); what it paid is still due.
      if (c.state !== 'Open' && c.state !== 'Suspended') continue;
      try {
        const r = await askAgent(g.sock, 'channel.close', { id: c.id }, CLOSE_MS);
        Object.assign(entry, r.hex ? { txid: r.txid, hex: r.hex, spends: r.spends } : {});
      } catch (e) {
        if (/below dust/.test(e.message)) entry.skipped = e.message;
        else entry.error = e.message;
      }
      closes.push(entry);
    }
  }
  // A close still being built when the command returned: its txid shows in the report.
  for (const c of closes.filter((x) => !x.txid && !x.error && !x.skipped)) {
    const g = gateways.find((x) => x.name === c.gateway);
    try {
      const rep = await waitFor(`the close of ${c.channelId.slice(0, 12)}`, 10_000, async () => (await askAgent(g.sock, 'channels')).find((x) => x.id === c.channelId && x.closeTxid));
      c.txid = rep.closeTxid;
      c.hex = (await chain.request('GET', `/tx/${c.txid}/hex`)).text;
      c.spends = spendsOf(rep);
    } catch (e) {
      // A close that failed after the command returned says why only when asked again.
      await askAgent(g.sock, 'channel.close', { id: c.channelId }, CLOSE_MS).then(
        (r) => (r.hex ? Object.assign(c, { txid: r.txid, hex: r.hex, spends: r.spends }) : (c.error = e.message)),
        (again) => (/below dust/.test(again.message) ? (c.skipped = again.message) : (c.error = `${e.message}; ${again.message}`)),
      );
    }
  }
  // The gateway returns the close as soon as it is signed; wait for the chain to have it.
  for (const c of closes.filter((x) => x.txid)) {
    await waitFor(`${c.txid} in the mempool`, 10_000, async () => (await chain.request('GET', `/tx/${c.txid}/status`)).ok).catch(() => {});
  }
  await chain.post('/mine', { blocks: 1 });
  for (const c of closes) {
    if (!c.txid) continue;
    const r = await chain.request('GET', `/tx/${c.txid}/status`);
    const st = r.ok ? JSON.parse(r.text) : {};
    if (!r.ok) c.error = `the chain does not know ${c.txid}: ${r.text}`;
    c.confirmed = st.confirmed === true;
    c.blockHeight = st.block_height ?? null;
  }
  for (const c of closes) {
    if (c.skipped) {
      say(`  ${c.gateway} <- ${c.client}: ${(Number(c.paidMsat) / 1000).toFixed(3)} sat, left open: ${c.skipped}`);
      continue;
    }
    if (c.error) {
      say(`  ${c.gateway} <- ${c.client}: close failed: ${c.error}`);
      continue;
    }
    say(`  ${c.gateway} <- ${c.client}: ${(Number(c.paidMsat) / 1000).toFixed(3)} sat for ${(c.bytes / 2 ** 20).toFixed(1)} MiB, tx ${c.txid} ${c.confirmed ? `confirmed in block ${c.blockHeight}` : 'NOT confirmed'}${c.earlier ? ' (closed when the client left)' : ''}`);
    for (const sp of c.spends) say(`      spends ${sp.txid}:${sp.vout} (${sp.amountSat} sat${sp.scriptHex ? `, script ${sp.scriptHex}` : `, ${sp.address}`})`);
    say(`      raw ${c.hex}`);
  }
  return closes;
}

/** What a close spends, from the channel report (the funding output). */
function spendsOf(report) {
  return [{ txid: report.funding.txid, vout: report.funding.vout, amountSat: String(report.capacitySat), address: report.funding.address }];
}
