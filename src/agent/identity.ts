// The node key: a secp256k1 secret made on first start, kept in the state dir with
// mode 0600 (on a router /etc/bitmesh/, kept across sysupgrade). Never logged.
import { randomBytes } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import { writeFileAtomic } from './atomic-file.js';
import path from 'node:path';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import { LocalError, RemoteError } from '../core/errors.js';
import type { Crypto } from '../crypto/facade.js';
import { isValidSecretKey, secretKeyFromEntropy } from '../crypto/keys.js';
import { nodeIdToBech32 } from '../core/wire/node-id.js';

export const NODE_KEY_FILE = 'node.key';

export interface Identity {
  readonly secretKey: Uint8Array;
  /** x-only public key = node id. */
  readonly id: Uint8Array;
  readonly idBech32: string;
  readonly idHex: string;
}

export async function loadOrCreateIdentity(stateDir: string, crypto: Crypto): Promise<{ identity: Identity; created: boolean }> {
  const file = path.join(stateDir, NODE_KEY_FILE);
  let secretKey: Uint8Array;
  let created = false;
  try {
    const text = (await readFile(file, 'utf8')).trim();
    if (!/^[0-9a-f]{64}$/.test(text)) throw new RemoteError('bad_node_key', `${file}: expected 64 hex characters`);
    secretKey = hexToBytes(text);
    if (!isValidSecretKey(secretKey)) throw new RemoteError('bad_node_key', `${file}: not a valid secp256k1 secret key`);
    const mode = (await stat(file)).mode & 0o777;
    if (mode & 0o077) throw new RemoteError('bad_node_key', `${file}: mode ${mode.toString(8)} lets others read the key; chmod 600 it`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    secretKey = secretKeyFromEntropy(randomBytes(48));
    await writeSecretFile(file, bytesToHex(secretKey) + '\n');
    created = true;
  }
  const id = crypto.schnorrPublicKey(secretKey);
  return { identity: { secretKey, id, idBech32: nodeIdToBech32(id), idHex: bytesToHex(id) }, created };
}

/** Atomic create with mode 0600 from the first byte. */
async function writeSecretFile(file: string, content: string): Promise<void> {
  await writeFileAtomic(file, content, { exclusiveTemp: true });
  if (((await stat(file)).mode & 0o077) !== 0) throw new LocalError('key_mode', `${file} is not 0600`);
}
