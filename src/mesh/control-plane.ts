// The receive path for one datagram, in order:
//   1. admission: per-source rate limit and ban (before spending any CPU on it)
//   2. decode: strict CBOR envelope → typed message, or a typed WireError
//   3. authenticate: timestamp window, replay cache, BIP340 signature
//   4. hand the message to the agent
// Every refusal is counted by reason and charged to the source; nothing throws.
// The send path mirrors it: encode (and sign) → one datagram → transport.
import type { Crypto } from '../crypto/facade.js';
import { WireCodec } from '../core/wire/codec.js';
import type { MessageType } from '../core/wire/constants.js';
import { authenticate, encodeMessage, type Signer } from '../core/wire/envelope.js';
import type { WireErrorCode } from '../core/wire/errors.js';
import type { Body, Message } from '../core/wire/messages.js';
import { ReplayGuard } from '../core/wire/replay.js';
import { PeerGuard, type PeerGuardOptions } from './peer-guard.js';
import type { Endpoint } from './udp-transport.js';

export type RejectReason = WireErrorCode | 'rate_limited' | 'banned';

export interface ControlPlaneStats {
  rxDatagrams: number;
  rxBytes: number;
  txDatagrams: number;
  txBytes: number;
  accepted: Partial<Record<MessageType, number>>;
  sent: Partial<Record<MessageType, number>>;
  rejected: Partial<Record<RejectReason, number>>;
}

export interface ControlPlaneOptions {
  readonly guard: PeerGuardOptions;
  readonly replayCapacity: number;
  readonly clockSkewMs: number;
}

/** An admitted message, with its signature for the signed types (a REPORT's proof needs an ACCEPT's). */
export interface Admitted {
  readonly message: Message;
  readonly sig: Uint8Array | undefined;
}

export class ControlPlane {
  readonly codec = new WireCodec();
  readonly guard: PeerGuard;
  readonly replay: ReplayGuard;
  readonly stats: ControlPlaneStats = {
    rxDatagrams: 0,
    rxBytes: 0,
    txDatagrams: 0,
    txBytes: 0,
    accepted: {},
    sent: {},
    rejected: {},
  };

  constructor(
    private readonly crypto: Crypto,
    private readonly signer: Signer,
    opts: ControlPlaneOptions,
  ) {
    this.guard = new PeerGuard(opts.guard);
    this.replay = new ReplayGuard({ capacity: opts.replayCapacity, skewMs: opts.clockSkewMs });
  }

  /** Returns the authenticated message, or undefined when it was refused (and counted). */
  receive(data: Uint8Array, from: Endpoint, now: number): Admitted | undefined {
    this.stats.rxDatagrams++;
    this.stats.rxBytes += data.length;
    const source = `${from.address}:${from.port}`;
    const admission = this.guard.admit(source, now);
    if (admission !== 'ok') return this.#reject(admission);
    const decoded = this.codec.decode(data);
    if (!decoded.ok) {
      this.guard.reportGarbage(source, now);
      return this.#reject(decoded.error.code);
    }
    const auth = authenticate(this.crypto, this.replay, decoded.value, now);
    if (!auth.ok) {
      // A stale or replayed message may be an honest late duplicate; only forgeries
      // and malformed input count towards a ban.
      if (auth.error.code === 'bad_signature') this.guard.reportGarbage(source, now);
      return this.#reject(auth.error.code);
    }
    const t = auth.value.type;
    this.stats.accepted[t] = (this.stats.accepted[t] ?? 0) + 1;
    return { message: auth.value, sig: decoded.value.sig };
  }

  encode<T extends MessageType>(type: T, body: Body<T>): Uint8Array {
    const bytes = encodeMessage(this.codec, type, body, this.signer);
    this.stats.txDatagrams++;
    this.stats.txBytes += bytes.length;
    this.stats.sent[type] = (this.stats.sent[type] ?? 0) + 1;
    return bytes;
  }

  #reject(reason: RejectReason): undefined {
    this.stats.rejected[reason] = (this.stats.rejected[reason] ?? 0) + 1;
    return undefined;
  }
}
