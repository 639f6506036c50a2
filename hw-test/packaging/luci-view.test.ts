// The LuCI status view rendered in headless Chromium (Debian's chromium) from recorded
// overviews (fixtures/README.md): the page must show the price, the earnings, the
// uplink and buyers of a gateway, the award of a client, the peers, the offers and the
// channels. With UPDATE_SCREENSHOT=1 it also writes docs/luci-bitmesh.png.
// It drives the chromium binary itself (--dump-dom, --screenshot), so it needs no npm
// package; it skips with a message when chromium is not installed.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { harnessHtml } from './luci-harness.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CHROMIUM = '/usr/bin/chromium';
const VIEW = readFileSync(path.join(ROOT, 'packages-openwrt/luci-app-bitmesh/htdocs/luci-static/resources/view/bitmesh/status.js'), 'utf8');
const OVERVIEW = JSON.parse(readFileSync(path.join(import.meta.dirname, 'fixtures/luci-overview.json'), 'utf8')) as {
  status: { node: { id: string }; market: { priceMsatPerKiB: number } };
  peers: { id: string }[];
  channels: { id: string; state: string }[];
};

interface Offer {
  gateway: string;
  priceMsatPerKiB: number;
  capacityKbps: number;
  spareKbps: number;
  confidencePermille: number;
}
interface Recorded {
  status: {
    node: { id: string; role: string };
    market: {
      capability: { capacityKbps: number; spareKbps: number; confidencePermille: number } | null;
      offers: Offer[];
      bidding: { awards: unknown[] } | null;
      auction: { award: { gateway: string; priceMsatPerKiB: number } | null } | null;
    };
  };
  peers: { id: string }[];
  channels: { id: string; role: string; paidMsat: string }[];
}
const recorded = (name: string) => JSON.parse(readFileSync(path.join(import.meta.dirname, `fixtures/${name}`), 'utf8')) as Recorded;
const GATEWAY = recorded('luci-overview-gateway.json');
const CLIENT = recorded('luci-overview-client.json');
/** The view's short form of a node id. */
const shortId = (id: string) => `${id.slice(0, 14)}…${id.slice(-4)}`;

const have = existsSync(CHROMIUM);
if (!have) console.warn(`SKIPPED (no ${CHROMIUM}: apt-get install chromium)`);

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--virtual-time-budget=3000'];

function page(overview: unknown): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'bitmesh-luci-'));
  const file = path.join(dir, 'index.html');
  writeFileSync(file, harnessHtml(VIEW, overview));
  return file;
}

function dumpDom(file: string): string {
  const r = spawnSync(CHROMIUM, [...FLAGS, `--user-data-dir=${path.dirname(file)}/profile`, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
  expect(r.status, r.stderr).toBe(0);
  return r.stdout;
}

/** The page's text with tags removed and whitespace collapsed. */
function text(html: string): string {
  return html.replace(/<script[\s\S]*?<\/script>/g, '').replace(/<[^>]+>/g, ' ').replace(/&amp;/g, '&').replace(/\s+/g, ' ');
}

describe.skipIf(!have)('luci-app-bitmesh status view in headless Chromium', () => {
  it('renders a recorded status document: price, earnings, peers, offers, channels', () => {
    const html = dumpDom(page(OVERVIEW));
    expect(html).toContain('data-rendered="yes"');
    expect(html).toContain('data-rpc="luci.bitmesh.overview"');
    expect(html).toContain('data-poll="10"');
    const t = text(html);
    expect(t).toContain(OVERVIEW.status.node.id);
    expect(t).toContain('Price 250 msat/KiB (262,144 sat/GiB)');
    expect(t).toContain('Earned 0 sat from 1 channels');
    expect(t).toContain('Peers (1)');
    expect(t).toContain(OVERVIEW.peers[0]!.id.slice(0, 14));
    expect(t).toContain('No gateway heard: no offers.');
    expect(t).toContain('Channels (1)');
    expect(t).toMatch(new RegExp(`${OVERVIEW.channels[0]!.id.slice(0, 14)}… ?\\S* selling .* ${OVERVIEW.channels[0]!.state} 50,000 sat`));
  });

  it('a gateway selling to three clients: its earnings, uplink, buyers, the offers it hears, its channels', () => {
    const t = text(dumpDom(page(GATEWAY)));
    const payee = GATEWAY.channels.filter((c) => c.role === 'payee');
    expect(payee).toHaveLength(3);
    const earnedSat = payee.reduce((a, c) => a + Number(c.paidMsat), 0) / 1000;
    expect(earnedSat).toBeGreaterThan(100); // shown rounded to whole sats
    expect(t).toContain(`Earned ${Math.round(earnedSat).toLocaleString('en-US')} sat from 3 channels`);
    const cap = GATEWAY.status.market.capability!;
    expect(t).toContain(`Uplink ${(cap.capacityKbps / 1e6).toFixed(2)} Gbit/s measured, ${(cap.spareKbps / 1e3).toFixed(1)} Mbit/s spare (${Math.round(cap.confidencePermille / 10)}% confidence)`);
    expect(t).toContain(`Selling to ${GATEWAY.status.market.bidding!.awards.length} clients`);
    expect(t).toContain(`Peers (${GATEWAY.peers.length})`);
    expect(GATEWAY.status.market.offers.length).toBeGreaterThan(0);
    for (const o of GATEWAY.status.market.offers) expect(t).toContain(`${shortId(o.gateway)} ${o.priceMsatPerKiB} msat/KiB`);
    expect(t).not.toContain('(ours)'); // a gateway holds no award
    expect(t).toContain('Channels (3)');
    for (const c of payee) expect(t).toContain(`${shortId(c.id)} selling`);
  });

  it('a client: the gateway it awarded and what it pays, that gateway marked among the offers, what it spent', () => {
    const t = text(dumpDom(page(CLIENT)));
    const award = CLIENT.status.market.auction!.award!;
    expect(t).toContain(`Gateway ${shortId(award.gateway)}, ${award.priceMsatPerKiB} msat/KiB,`);
    const o = CLIENT.status.market.offers.find((x) => x.gateway === award.gateway)!;
    expect(o).toBeDefined();
    expect(t).toContain(`${shortId(o.gateway)} (ours) ${o.priceMsatPerKiB} msat/KiB`);
    expect(t.match(/\(ours\)/g)).toHaveLength(1);
    const spentSat = CLIENT.channels.filter((c) => c.role === 'payer').reduce((a, c) => a + Number(c.paidMsat), 0) / 1000;
    expect(spentSat).toBeGreaterThan(100);
    expect(t).toContain(`Spent ${Math.round(spentSat).toLocaleString('en-US')} sat`);
    expect(t).not.toContain('Selling to');
  });

  it('says the agent is not running when the plugin reports no status', () => {
    const t = text(dumpDom(page({ status: null, peers: [], channels: [], error: 'the BitMesh agent is not running' })));
    expect(t).toContain('the BitMesh agent is not running');
  });

  it.runIf(process.env['UPDATE_SCREENSHOT'] === '1')('writes docs/luci-bitmesh.png', () => {
    const file = page(GATEWAY);
    const png = path.join(ROOT, 'docs/luci-bitmesh.png');
    execFileSync(CHROMIUM, [...FLAGS, `--user-data-dir=${path.dirname(file)}/profile`, `--screenshot=${png}`, '--window-size=1200,1080', '--hide-scrollbars', `file://${file}`], { stdio: 'pipe', timeout: 60_000 });
    expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
