import { type Reply, reply } from '../../core/outcome.ts';
import type { ReasonCode } from '../../core/reasons.ts';

const TIMEOUTS = new Set([
  'UND_ERR_CONNECT_TIMEOUT',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'ETIMEDOUT',
]);
const TLS =
  /^(ERR_TLS_|ERR_SSL_|CERT_|UNABLE_TO_|DEPTH_ZERO_SELF_SIGNED_CERT|SELF_SIGNED_CERT_IN_CHAIN|ERR_OSSL_)/;

/** Map an upstream call failure to the gateway's reply (ARCHITECTURE §3 stage 12). */
export function classifyUpstreamError(err: unknown): { status: number; reason: ReasonCode } {
  const code = String((err as { code?: unknown })?.code ?? '');
  if (code === 'RAMPART_BODY_TOO_LARGE') return { status: 413, reason: 'body_too_large' };
  if (code === 'RAMPART_UPSTREAM_SATURATED') return { status: 503, reason: 'upstream_saturated' };
  if (code === 'RAMPART_OPERATION_SATURATED') return { status: 503, reason: 'operation_saturated' };
  if (code === 'RAMPART_CIRCUIT_OPEN') return { status: 503, reason: 'circuit_open' };
  if (TIMEOUTS.has(code)) return { status: 504, reason: 'upstream_timeout' };
  if (TLS.test(code)) return { status: 502, reason: 'upstream_tls_error' };
  const cause = (err as { cause?: { code?: unknown } })?.cause;
  if (cause && TLS.test(String(cause.code ?? ''))) return { status: 502, reason: 'upstream_tls_error' };
  return { status: 502, reason: 'upstream_unavailable' };
}

/**
 * The reply for a failed upstream call or request body. A body refused half-read (413) also
 * closes the connection: draining the rest would cost what the limit was meant to save, and
 * is bounded only by the request timeout (RFC 9110 §15.5.14 allows the close).
 */
export function upstreamErrorReply(err: Error): Reply {
  const { status, reason } = classifyUpstreamError(err);
  const retryAfter = (err as Partial<UpstreamRefusedError>).retryAfter;
  return reply(status, reason, {
    detail: err.message,
    headers:
      status === 413
        ? { connection: 'close' }
        : retryAfter === undefined
          ? undefined
          : { 'retry-after': String(retryAfter) },
  });
}

/**
 * A call the gateway refused before it reached the upstream: an in-flight limit was full, or
 * the upstream's circuit is open. Answered 503 with `Retry-After` (RFC 9110 §10.2.3), in
 * seconds; nothing was sent upstream, so the client may safely try again later.
 */
export class UpstreamRefusedError extends Error {
  readonly code: 'RAMPART_UPSTREAM_SATURATED' | 'RAMPART_OPERATION_SATURATED' | 'RAMPART_CIRCUIT_OPEN';
  readonly retryAfter: number;

  constructor(code: UpstreamRefusedError['code'], message: string, retryAfter: number) {
    super(message);
    this.code = code;
    this.retryAfter = retryAfter;
  }
}

/**
 * The reason a call is aborted when its client went away. Wrappers tell it from an upstream
 * failure by its code: a client hanging up says nothing about the upstream's health (it is
 * not a circuit-breaker failure) and is never retried.
 */
export class ClientAbortedError extends Error {
  readonly code = 'RAMPART_CLIENT_ABORTED';
  constructor() {
    super('client closed the connection');
  }
}

export function isClientAbort(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'RAMPART_CLIENT_ABORTED';
}
