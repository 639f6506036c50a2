// The one error type of the Esplora client. Everything that goes wrong talking to a
// chain server (it is slow, down, answers nonsense, or rejects our transaction) is the
// server's or the network's doing, so it is a RemoteError with a stable `code`.
import { RemoteError } from '../core/errors.js';

export type EsploraErrorCode =
  /** No complete answer within the per-attempt timeout. */
  | 'timeout'
  /** Connection refused/reset, DNS failure and the like. */
  | 'network'
  /** A status code we do not retry or did not expect (after retries for 5xx/429). */
  | 'http_status'
  /** The body does not decode to what the endpoint documents. */
  | 'bad_response'
  /** The body is longer than the configured cap. */
  | 'response_too_large'
  /** `POST /tx` answered 400: the node refused the transaction. */
  | 'broadcast_rejected';

export interface EsploraErrorDetails {
  /** HTTP status, when the server answered. */
  readonly status?: number;
  /** bitcoind RPC error code parsed from a broadcast rejection (e.g. -26), when present. */
  readonly rpcCode?: number;
  /** bitcoind reject reason (e.g. "txn-mempool-conflict") or the raw body text. */
  readonly reason?: string;
  /** Request path, for logs. */
  readonly path?: string;
}

export class EsploraError extends RemoteError {
  declare readonly code: EsploraErrorCode;
  readonly status: number | undefined;
  readonly rpcCode: number | undefined;
  readonly reason: string | undefined;
  readonly path: string | undefined;

  constructor(code: EsploraErrorCode, message: string, details: EsploraErrorDetails = {}) {
    super(code, message);
    this.status = details.status;
    this.rpcCode = details.rpcCode;
    this.reason = details.reason;
    this.path = details.path;
  }
}
