import { loadOrCreateIdentity } from '../../agent/identity.js';
import { Crypto } from '../../crypto/facade.js';
import type { Command } from '../command.js';

export const idCommand: Command = {
  name: 'id',
  summary: "print this node's id (bm1…), creating the node key on first use",
  usage: 'bitmesh id [--json] [--state-dir DIR]',
  help: `Prints the node id: the x-only secp256k1 public key of the node key in the
state dir, as bech32m with prefix bm. The first call creates the key (mode 0600).
The secret key itself is never printed. --json adds the hex form.`,
  async run(ctx) {
    const config = await ctx.loadConfig();
    const { identity } = await loadOrCreateIdentity(ctx.stateDir(config), new Crypto());
    ctx.out(ctx.json ? JSON.stringify({ id: identity.idBech32, hex: identity.idHex }) : identity.idBech32);
    return 0;
  },
};
