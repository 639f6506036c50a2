import type { Socket } from 'node:net';

/** Sends a last message (a SOCKS5 refusal) and closes, whatever the peer does next. */
export function endWith(sock: Socket, bytes: Uint8Array): void {
  sock.end(bytes, () => sock.destroy());
}
