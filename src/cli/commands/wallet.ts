import { controlRequest } from '../../agent/control-client.js';
import { UsageError, type Command } from '../command.js';
import { renderKeyValues } from '../table.js';
import { socketPathFor } from './socket-path.js';

export const walletCommand: Command = {
  name: 'wallet',
  summary: "the node's on-chain wallet: address, balance, send",
  usage: 'bitmesh wallet address | balance | send <address> <amount-sat> [--json]',
  help: `The agent's single-key Taproot wallet (the node key's BIP86 P2TR address). It
funds channels, receives channel change and the payee's closes.

  address                 print the receiving address (bech32m: bc1p…, tb1p…, bcrt1p…)
  balance                 confirmed and unconfirmed sats, from the chain backend
  send <address> <sat>    pay an address; prints the txid and the raw transaction

Talks to the running agent over its control socket.`,
  async run(ctx) {
    const [sub, ...rest] = ctx.positionals;
    const sock = await socketPathFor(ctx);
    let result: Record<string, unknown>;
    if (sub === 'address' && rest.length === 0) result = (await controlRequest(sock, 'wallet.address')) as Record<string, unknown>;
    else if (sub === 'balance' && rest.length === 0) result = (await controlRequest(sock, 'wallet.balance', {}, 15_000)) as Record<string, unknown>;
    else if (sub === 'send' && rest.length === 2) {
      const amount = rest[1]!;
      if (!/^[0-9]{1,16}$/.test(amount)) throw new UsageError(`amount must be whole satoshis, got '${amount}'`);
      result = (await controlRequest(sock, 'wallet.send', { address: rest[0], amountSat: Number(amount) }, 30_000)) as Record<string, unknown>;
    } else throw new UsageError('expected: address | balance | send <address> <amount-sat>');
    if (ctx.json) ctx.out(JSON.stringify(result, null, 2));
    else if (sub === 'address') ctx.out(String(result['address']));
    else ctx.out(renderKeyValues(Object.entries(result).map(([k, v]) => [k, String(v)] as const)));
    return 0;
  },
};
