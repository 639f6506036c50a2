import { readFile } from 'node:fs/promises';
import { loadOrCreateIdentity } from '../../agent/identity.js';
import { Crypto } from '../../crypto/facade.js';
import { addressInPrefix, MESH_ROLES, meshAddress, meshUciBatch, type MeshRole } from '../../mesh/mesh-config.js';
import { MeshSiteError, parseMeshSite } from '../../mesh/mesh-site.js';
import { UsageError, type Command } from '../command.js';
import { stringOption } from '../options.js';

export const DEFAULT_SITE_PATH = '/etc/bitmesh/site.conf';

export const meshConfigCommand: Command = {
  name: 'mesh-config',
  summary: 'print the UCI batch that sets up the 802.11s + batman-adv mesh',
  usage: 'bitmesh mesh-config --role gateway|client [--site FILE] [--address A.B.C.D]',
  help: `Prints a \`uci batch\` script built from the community's site settings (mesh id,
SAE key, radio, channel, MTU; firmware/site.conf, installed as ${DEFAULT_SITE_PATH}):
an 802.11s interface mesh0 (mode mesh, SAE, mesh_fwding 0) joined to batman-adv bat0
as a batadv_hardif, bat0 as gateway server (gateway) or gateway client (client), the
node's IPv4 address on bat0, the firewall zone 'bitmesh' with the control-plane port
open, and the agent's role. Nothing is changed until you pipe it into uci.

  --role gateway|client   sell upstream, or buy it
  --site FILE             site settings (default ${DEFAULT_SITE_PATH})
  --address A.B.C.D       this node's mesh address (default: derived from the node id
                          inside the site's ipv4_prefix; creates the node key if none)

Example:
  bitmesh mesh-config --role gateway | uci batch && reload_config`,
  options: { role: { type: 'string' }, site: { type: 'string' }, address: { type: 'string' } },
  async run(ctx) {
    if (ctx.positionals.length) throw new UsageError(`unexpected argument '${ctx.positionals[0]}'`);
    const role = stringOption(ctx, 'role', '');
    if (!MESH_ROLES.includes(role as MeshRole)) throw new UsageError(`--role expects gateway or client, got '${role}'`);
    const sitePath = stringOption(ctx, 'site', DEFAULT_SITE_PATH);
    let text: string;
    try {
      text = await readFile(sitePath, 'utf8');
    } catch (e) {
      throw new MeshSiteError(`cannot read the site settings ${sitePath}: ${(e as Error).message} (--site FILE)`);
    }
    const site = parseMeshSite(text, sitePath);
    const config = await ctx.loadConfig();
    let address = ctx.values['address'] === undefined ? undefined : stringOption(ctx, 'address', '');
    if (address === undefined) {
      const { identity } = await loadOrCreateIdentity(ctx.stateDir(config), new Crypto());
      address = meshAddress(site.ipv4Prefix, identity.id);
    } else if (!addressInPrefix(address, site.ipv4Prefix)) {
      throw new UsageError(`--address ${address} is not a host address inside the site's ipv4_prefix`);
    }
    const batch = meshUciBatch({ role: role as MeshRole, site, controlPort: config.mesh.port, address });
    if (ctx.json) ctx.out(JSON.stringify({ role, address, site: sitePath, batch: batch.trimEnd().split('\n') }, null, 2));
    else ctx.out(batch.trimEnd());
    return 0;
  },
};
