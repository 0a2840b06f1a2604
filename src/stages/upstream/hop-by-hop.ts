import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';

/**
 * Hop-by-hop headers (RFC 9110 §7.6.1, plus the legacy ones proxies still meet) never cross
 * the gateway, and neither does any header the `Connection` header names — the trick behind
 * hop-by-hop abuse (`Connection: close, X-Forwarded-For` to make a proxy drop a header).
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'proxy-authenticate',
  'proxy-authorization',
  'te',
  'trailer',
  'transfer-encoding',
  'upgrade',
  'http2-settings',
]);

/** Request headers the gateway computes itself and never takes from the client as-is. */
const GATEWAY_OWNED = new Set([
  'host',
  'x-forwarded-for',
  'x-forwarded-proto',
  'x-forwarded-host',
  'x-forwarded-port',
  'x-real-ip',
  'forwarded',
  'x-request-id',
  'traceparent',
  'tracestate',
  'content-length',
]);

function connectionTokens(value: string | string[] | number | undefined): Set<string> | null {
  if (value === undefined) return null;
  const text = Array.isArray(value) ? value.join(',') : String(value);
  const tokens = new Set<string>();
  for (const t of text.split(',')) {
    const name = t.trim().toLowerCase();
    if (name !== '') tokens.add(name);
  }
  return tokens;
}

/** Copy request headers for the upstream, dropping hop-by-hop and gateway-owned ones. */
export function forwardRequestHeaders(headers: IncomingHttpHeaders): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || GATEWAY_OWNED.has(name) || named?.has(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  return out;
}

/** Strip hop-by-hop headers (and those `Connection` names) from an upstream response, in place. */
export function stripResponseHopByHop(headers: OutgoingHttpHeaders): OutgoingHttpHeaders {
  const named = connectionTokens(headers.connection);
  for (const name in headers) {
    if (HOP_BY_HOP.has(name) || named?.has(name)) delete headers[name];
  }
  return headers;
}
