// What `bitmesh mgmt keygen` and `bitmesh mgmt send` do: the operator's side of remote
// management, on the operator's machine. It lives in dist/bitmesh-dev.js with
// `bitmesh fleet` (which shares the broker code here): a router neither holds the
// operator's key nor watches the fleet. The commands' names, options and help are in
// ../commands/mgmt.ts.
import { randomBytes } from 'node:crypto';
import { open, readFile, stat } from 'node:fs/promises';
import { bytesToHex, hexToBytes } from '@noble/hashes/utils.js';
import type { BitmeshConfig } from '../../config/schema.js';
import { nodeIdToBech32, parseNodeId } from '../../core/wire/node-id.js';
import { Crypto } from '../../crypto/facade.js';
import { isValidSecretKey, secretKeyFromEntropy } from '../../crypto/keys.js';
import { DEFAULT_COMMAND_LIFETIME_MS, MAX_COMMAND_LIFETIME_MS, commandBody, signCommand } from '../../mgmt/command.js';
import { commandFromWords } from '../../mgmt/command-words.js';
import { MgmtError } from '../../mgmt/errors.js';
import type { CommandResult } from '../../mgmt/manager.js';
import type { BrokerConnection, BrokerHandlers, BrokerOptions } from '../../mgmt/mqtt-client.js';
import { DEFAULT_BACKOFF } from '../../mgmt/reconnect.js';
import { topicFor } from '../../mgmt/topics.js';
import { UsageError, type CommandContext } from '../command.js';
import { intOption, stringOption } from '../options.js';

export interface CliBroker {
  readonly options: Omit<BrokerOptions, 'clientId'>;
  readonly prefix: string;
}

/** Broker settings from the command line, falling back to the config's mgmt section. */
export async function brokerFromCli(ctx: CommandContext): Promise<CliBroker> {
  let config: BitmeshConfig | undefined;
  const mgmt = async () => (config ??= await ctx.loadConfig()).mgmt;
  const pick = async (flag: string, fromConfig: (m: BitmeshConfig['mgmt']) => string): Promise<string> => {
    const v = ctx.values[flag];
    if (typeof v === 'string') return v;
    return fromConfig(await mgmt());
  };
  const url = await pick('broker', (m) => m.brokerUrl);
  if (url === '') throw new UsageError('no broker: give --broker URL or set mgmt.broker_url in the config');
  if (!/^mqtts?:\/\//.test(url)) throw new UsageError(`--broker expects mqtt:// or mqtts://, got '${url}'`);
  const username = await pick('username', (m) => m.username);
  const password = await pick('password', (m) => m.password);
  const file = async (flag: string, fromConfig: (m: BitmeshConfig['mgmt']) => string) => {
    const p = await pick(flag, fromConfig);
    return p === '' ? undefined : new Uint8Array(await readFile(p));
  };
  const ca = await file('ca', (m) => m.tlsCa);
  const cert = await file('cert', (m) => m.tlsCert);
  const key = await file('tls-key', (m) => m.tlsKey);
  const prefix = await pick('prefix', (m) => m.topicPrefix);
  return {
    options: {
      url,
      ...(username !== '' && { username }),
      ...(password !== '' && { password }),
      ...(ca && { ca }),
      ...(cert && { cert }),
      ...(key && { key }),
    },
    prefix,
  };
}

/**
 * A connection that retries with backoff; `up` resolves at the first connect. The
 * client is loaded here, on use, so that importing this command (every `bitmesh` run
 * does) does not load MQTT.
 */
export async function openBroker(
  b: CliBroker,
  onMessage: BrokerHandlers['message'],
  onUp: () => void = () => {},
): Promise<{ conn: BrokerConnection; up: Promise<void> }> {
  const { BrokerConnection } = await import('../../mgmt/mqtt-client.js');
  let resolveUp: () => void = () => {};
  const up = new Promise<void>((r) => (resolveUp = r));
  const conn = new BrokerConnection(
    { ...b.options, clientId: `bitmesh-cli-${randomBytes(6).toString('hex')}` },
    {
      up: () => {
        onUp();
        resolveUp();
      },
      down: () => {},
      message: onMessage,
    },
    { clock: Date.now, backoff: { ...DEFAULT_BACKOFF, random: Math.random } },
  );
  conn.start();
  return { conn, up };
}

export async function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const t = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new MgmtError('failed', `${what}: no answer within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([p, t]);
  } finally {
    clearTimeout(timer);
  }
}

// ---- keygen ----

async function keygen(ctx: CommandContext): Promise<number> {
  const out = stringOption(ctx, 'out', 'operator.key');
  const crypto = new Crypto();
  const sk = secretKeyFromEntropy(randomBytes(48));
  let fh;
  try {
    fh = await open(out, 'wx', 0o600);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new UsageError(`${out} exists; not overwriting an operator key`);
    throw e;
  }
  try {
    await fh.writeFile(bytesToHex(sk) + '\n');
    await fh.sync();
  } finally {
    await fh.close();
  }
  const pub = crypto.schnorrPublicKey(sk);
  if (ctx.json) ctx.out(JSON.stringify({ file: out, pubkey: nodeIdToBech32(pub), hex: bytesToHex(pub) }));
  else {
    ctx.out(nodeIdToBech32(pub));
    ctx.err(`operator key written to ${out} (mode 0600); add to each node's config:\n  list operator '${nodeIdToBech32(pub)}'`);
  }
  return 0;
}

export async function readOperatorKey(file: string): Promise<Uint8Array> {
  const text = (await readFile(file, 'utf8')).trim();
  if (!/^[0-9a-f]{64}$/.test(text)) throw new UsageError(`${file}: expected 64 hex characters (made by 'bitmesh mgmt keygen')`);
  if (((await stat(file)).mode & 0o077) !== 0) throw new UsageError(`${file}: others can read this key; chmod 600 it`);
  const sk = hexToBytes(text);
  if (!isValidSecretKey(sk)) throw new UsageError(`${file}: not a valid secp256k1 secret key`);
  return sk;
}

// ---- send ----

async function send(ctx: CommandContext, words: readonly string[]): Promise<number> {
  const toRaw = ctx.values['to'];
  const keyFile = ctx.values['key'];
  if (typeof toRaw !== 'string') throw new UsageError('--to NODE_ID is required');
  if (typeof keyFile !== 'string') throw new UsageError('--key FILE is required');
  let command;
  try {
    command = commandFromWords(words);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
  let to: Uint8Array;
  try {
    to = parseNodeId(toRaw);
  } catch (e) {
    throw new UsageError(`--to: ${(e as Error).message}`);
  }
  const ttlMs = intOption(ctx, 'ttl-s', DEFAULT_COMMAND_LIFETIME_MS / 1000, 1, MAX_COMMAND_LIFETIME_MS / 1000) * 1000;
  const timeoutMs = intOption(ctx, 'timeout-ms', 10_000, 100, 3_600_000);
  const sk = await readOperatorKey(keyFile);
  const broker = await brokerFromCli(ctx);
  const crypto = new Crypto();
  const node = nodeIdToBech32(to);
  const now = Date.now();
  const body = commandBody(command, { to, op: crypto.schnorrPublicKey(sk), ts: now, exp: now + ttlMs, nonce: new Uint8Array(randomBytes(16)) });
  const payload = signCommand(crypto, body, sk, new Uint8Array(randomBytes(32)));

  const resultTopic = topicFor(broker.prefix, node, 'cmd/result');
  let resolveResult: (r: CommandResult) => void = () => {};
  const answered = new Promise<CommandResult>((r) => (resolveResult = r));
  const { conn, up } = await openBroker(broker, (topic, data) => {
    if (topic !== resultTopic) return;
    try {
      const r = JSON.parse(new TextDecoder().decode(data)) as CommandResult;
      if (r.nonce === body.nonce) resolveResult(r);
    } catch {
      // not ours
    }
  });
  try {
    await withTimeout(up, timeoutMs, `broker ${broker.options.url}`);
    if (!(await conn.subscribe(resultTopic, 1))) throw new MgmtError('failed', `broker refused to subscribe ${resultTopic} (ACL?)`);
    if (!conn.publish(topicFor(broker.prefix, node, 'cmd'), payload, 1, false)) throw new MgmtError('failed', 'broker went away');
    const r = await withTimeout(answered, timeoutMs, `node ${node}`);
    if (ctx.json) ctx.out(JSON.stringify(r, null, 2));
    else if (r.ok) ctx.out(`ok ${r.cmd ?? ''}${r.result !== undefined ? ' ' + JSON.stringify(r.result) : ''}`);
    else ctx.out(`refused: ${r.code ?? '?'}: ${r.message ?? ''}`);
    return r.ok ? 0 : 1;
  } finally {
    await conn.stop();
  }
}

/** `bitmesh mgmt …`: the sub-command's words are the positionals. */
export async function runMgmt(ctx: CommandContext): Promise<number> {
  const [sub, ...words] = ctx.positionals;
  if (sub === 'keygen') {
    if (words.length) throw new UsageError('keygen takes no arguments');
    return keygen(ctx);
  }
  if (sub === 'send') return send(ctx, words);
  throw new UsageError(sub === undefined ? 'keygen or send?' : `unknown mgmt sub-command '${sub}'`);
}
