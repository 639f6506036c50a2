// `bitmesh mgmt`: its name, options and help. What it does is in ../operator/mgmt.ts,
// which dist/bitmesh.js loads from dist/bitmesh-dev.js (the operator's machine): a
// router neither holds the operator's key nor commands its peers.
import { COMMAND_USAGE } from '../../mgmt/command-words.js';
import { DEV_COMMAND_SUMMARIES } from '../dev-command-list.js';
import type { Command, OptionDefs } from '../command.js';

export const BROKER_OPTIONS: OptionDefs = {
  broker: { type: 'string' },
  username: { type: 'string' },
  password: { type: 'string' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  'tls-key': { type: 'string' },
  prefix: { type: 'string' },
};

export const BROKER_HELP = `Broker options (default: the config's mgmt section):
      --broker URL       mqtt://host:1883 or mqtts://host:8883
      --username U, --password P
      --ca FILE, --cert FILE, --tls-key FILE   TLS CA, client certificate and its key (PEM)
      --prefix P         topic prefix (default bitmesh)`;

export const mgmtCommand: Command = {
  name: 'mgmt',
  summary: DEV_COMMAND_SUMMARIES.mgmt,
  usage: `bitmesh mgmt keygen [--out FILE] [--json]
       bitmesh mgmt send --to NODE_ID --key FILE [--broker URL] [--ttl-s N] [--timeout-ms N] [--json] COMMAND [ARGS]`,
  help: `keygen makes an operator key (a secp256k1 secret, hex, mode 0600; default
./operator.key, never overwritten) and prints its public key. List that public key in
each node's config (mgmt section, list operator) to let it command the node.

send signs COMMAND with the operator key (BIP340 over the tagged hash of the canonical
command, with the target node id, an expiry --ttl-s, default 60, and a random nonce),
publishes it on bitmesh/<node>/cmd and prints the node's answer from cmd/result.
Exit status 0 when the node did it, 1 when it refused or did not answer.

Both run on the operator's machine: their code is in dist/bitmesh-dev.js, beside
dist/bitmesh.js (not in the OpenWrt package).

Commands: ${COMMAND_USAGE.join(' | ')}

${BROKER_HELP}

Example:
  bitmesh mgmt send --to bm1… --key operator.key --broker mqtt://10.0.0.1 set-price 120`,
  options: {
    ...BROKER_OPTIONS,
    out: { type: 'string' },
    to: { type: 'string' },
    key: { type: 'string' },
    'ttl-s': { type: 'string' },
    'timeout-ms': { type: 'string' },
  },
  async run(ctx) {
    const { runMgmt } = await import('../operator/mgmt.js');
    return runMgmt(ctx);
  },
};
