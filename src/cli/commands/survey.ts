import { readFile } from 'node:fs/promises';
import { execFileRunner, type CommandRunner } from '../../mesh/linkquality/command-runner.js';
import { checkIfname } from '../../mesh/linkquality/ifname.js';
import { parseIwScan } from '../../mesh/survey/iw-scan.js';
import { sortSurvey, surveyFromIw, type SurveyEntry } from '../../mesh/survey/site-survey.js';
import { parseMeshSite } from '../../mesh/mesh-site.js';
import { UsageError, type Command } from '../command.js';
import { stringOption } from '../options.js';
import { renderTable } from '../table.js';
import { DEFAULT_SITE_PATH } from './mesh-config.js';

const IW_TIMEOUT_MS = 20_000;

/** iw on a router; `scan` can be refused while the radio is busy, then the cached `scan dump`. */
export async function iwSurvey(iface: string, run: CommandRunner = execFileRunner()): Promise<SurveyEntry[]> {
  let text: string;
  try {
    text = await run('iw', ['dev', iface, 'scan'], IW_TIMEOUT_MS);
  } catch (e) {
    if ((e as { reason?: string }).reason === 'missing') throw e;
    text = await run('iw', ['dev', iface, 'scan', 'dump'], IW_TIMEOUT_MS);
  }
  return surveyFromIw(parseIwScan(text));
}

/** Through node-wifi: dist/bitmesh-dev.js, as on a laptop (scripts/build.mjs DEV_MODULES). */
async function wifiSurvey(iface: string | null): Promise<SurveyEntry[]> {
  const { loadNodeWifiScanner } = await import('../../mesh/linkquality/wifi-source.js');
  const { surveyFromWifi } = await import('../../mesh/survey/wifi-survey.js');
  const scanner = await loadNodeWifiScanner(iface);
  return surveyFromWifi(await scanner.scan());
}

async function siteMeshId(path: string): Promise<string | undefined> {
  try {
    return parseMeshSite(await readFile(path, 'utf8'), path).meshId;
  } catch {
    return undefined; // no site file: nothing is marked as ours
  }
}

export const surveyCommand: Command = {
  name: 'survey',
  summary: 'list nearby mesh nodes and access points: signal, channel, mesh id',
  usage: 'bitmesh survey [--iface IF] [--source auto|iw|wifi] [--site FILE] [--json]',
  help: `Scans the air and lists the 802.11s mesh points (with their mesh id, and whether
they reach a mesh gate) and access points around, our mesh first (marked *), then by
signal. On an OpenWrt router it runs \`iw dev <if> scan\` (root; when the radio is busy,
the cached \`scan dump\`); on a laptop with NetworkManager it scans through node-wifi.

  --iface IF          interface to scan on (default: mesh.link_quality_iface, else mesh0
                      for iw; node-wifi picks one itself)
  --source S          auto (iw when installed, else node-wifi), iw or wifi
  --site FILE         site settings naming our mesh id (default ${DEFAULT_SITE_PATH})`,
  options: { iface: { type: 'string' }, source: { type: 'string' }, site: { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length) throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
    const source = stringOption(ctx, 'source', 'auto');
    if (!['auto', 'iw', 'wifi'].includes(source)) throw new UsageError(`--source expects auto, iw or wifi, got '${source}'`);
    const config = await ctx.loadConfig();
    const given = ctx.values['iface'] === undefined ? null : checkIfname(stringOption(ctx, 'iface', ''), '--iface');
    const iwIface = given ?? (config.mesh.linkQualityIface || 'mesh0');
    let entries: SurveyEntry[];
    if (source === 'wifi') entries = await wifiSurvey(given);
    else {
      try {
        entries = await iwSurvey(checkIfname(iwIface, '--iface'));
      } catch (e) {
        if (source === 'iw' || (e as { reason?: string }).reason !== 'missing') throw e;
        entries = await wifiSurvey(given); // no iw: not a router
      }
    }
    const ours = await siteMeshId(stringOption(ctx, 'site', DEFAULT_SITE_PATH));
    const list = sortSurvey(entries, ours);
    if (ctx.json) {
      ctx.out(JSON.stringify(list, null, 2));
      return 0;
    }
    if (list.length === 0) {
      ctx.out('nothing heard');
      return 0;
    }
    ctx.out(
      renderTable(
        ['', 'KIND', 'NAME', 'BSSID', 'CH', 'SIGNAL', 'SECURITY', 'NOTE'],
        list.map((e) => [
          ours !== undefined && e.meshId === ours ? '*' : e.associated ? '>' : ' ',
          e.kind,
          e.name === '' ? '(hidden)' : JSON.stringify(e.name).slice(1, -1),
          e.bssid,
          e.channel === null ? '-' : String(e.channel),
          e.signalDbm === null ? `${Math.round(e.quality * 100)}%` : `${e.signalDbm} dBm`,
          e.security,
          [e.meshGate ? 'mesh gate' : '', e.associated ? 'associated' : ''].filter(Boolean).join(', ') || '-',
        ]),
      ),
    );
    return 0;
  },
};
