// The LuCI status view rendered in headless Chromium (Debian's chromium) from a recorded
// overview: the page must show the price, the earnings, the peers, the offers and the
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

  it('adds earnings of payee channels, shows offers when the agent reports them', () => {
    const ch = OVERVIEW.channels[0]!;
    const doc = {
      ...OVERVIEW,
      status: { ...OVERVIEW.status, market: { ...OVERVIEW.status.market, offers: [{ gateway: 'bm1gatewayoffer0000000000000000000', priceMsatPerKiB: 180, score: 0.8 }] } },
      channels: [
        { ...ch, paidMsat: '1234567' },
        { ...ch, id: 'ff'.repeat(32), paidMsat: '1000000' },
        { ...ch, id: 'ee'.repeat(32), role: 'payer', paidMsat: '5000' },
      ],
    };
    const t = text(dumpDom(page(doc)));
    expect(t).toContain('Earned 2,235 sat from 2 channels');
    expect(t).toContain('Spent 5 sat');
    expect(t).toContain('180 msat/KiB 0.8');
  });

  it('says the agent is not running when the plugin reports no status', () => {
    const t = text(dumpDom(page({ status: null, peers: [], channels: [], error: 'the BitMesh agent is not running' })));
    expect(t).toContain('the BitMesh agent is not running');
  });

  it.runIf(process.env['UPDATE_SCREENSHOT'] === '1')('writes docs/luci-bitmesh.png', () => {
    const file = page(OVERVIEW);
    const png = path.join(ROOT, 'docs/luci-bitmesh.png');
    execFileSync(CHROMIUM, [...FLAGS, `--user-data-dir=${path.dirname(file)}/profile`, `--screenshot=${png}`, '--window-size=1200,900', '--hide-scrollbars', `file://${file}`], { stdio: 'pipe', timeout: 60_000 });
    expect(readFileSync(png).subarray(1, 4).toString('latin1')).toBe('PNG');
  });
});
