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
  return reply(status, reason, {
    detail: err.message,
    headers: status === 413 ? { connection: 'close' } : undefined,
  });
}
