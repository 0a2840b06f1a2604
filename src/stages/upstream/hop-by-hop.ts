import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { UpstreamHeaderEdits } from '../../core/context.ts';

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
  // Client-address headers of CDNs and load balancers that applications often trust as-is:
  // a client must not be able to set them through the gateway.
  'true-client-ip',
  'x-client-ip',
  'cf-connecting-ip',
  'fastly-client-ip',
  'x-cluster-client-ip',
  'x-original-forwarded-for',
  'forwarded',
  'x-request-id',
  'traceparent',
  'tracestate',
  'content-length',
]);

/**
 * Header names listed in `Connection`, or null when it names none beyond the hop-by-hop set
 * (`keep-alive` and `close` are nearly every value seen: no set is built for them).
 */
function connectionTokens(value: string | string[] | number | undefined): Set<string> | null {
  if (value === undefined) return null;
  if (typeof value === 'string') {
    const lower = value.length <= 10 ? value.toLowerCase() : '';
    if (lower === 'keep-alive' || lower === 'close') return null;
  }
  const text = Array.isArray(value) ? value.join(',') : String(value);
  const tokens = new Set<string>();
  for (const t of text.split(',')) {
    const name = t.trim().toLowerCase();
    if (name !== '') tokens.add(name);
  }
  return tokens;
}

/**
 * Headers that ask a framework to run another method than the request line's (Express
 * `method-override`, Rails, Laravel, ASP.NET). The gateway routed and authorized the method
 * it received: a `GET` allowed as `getUser` must not become a `DELETE` upstream.
 */
const METHOD_OVERRIDES = new Set(['x-http-method-override', 'x-method-override', 'x-http-method']);

/**
 * `X_Forwarded_For`, `Transfer_Encoding`...: CGI, WSGI and PHP upstreams map `_` and `-` to the
 * same variable (HTTP_X_FORWARDED_FOR), so an underscore spelling would smuggle a header the
 * gateway owns past it (the reason nginx drops underscored names by default).
 */
function isUnderscoreAlias(name: string): boolean {
  if (!name.includes('_')) return false;
  const dashed = name.replaceAll('_', '-');
  return HOP_BY_HOP.has(dashed) || GATEWAY_OWNED.has(dashed) || METHOD_OVERRIDES.has(dashed);
}

/**
 * Copy request headers for the upstream, dropping hop-by-hop, gateway-owned and method-override ones, and the
 * identity headers `edits` strips (in `-` or `_` spelling) and the credential headers the
 * gateway `consumed`, then adding the ones `edits` sets.
 */
export function forwardRequestHeaders(
  headers: IncomingHttpHeaders,
  edits: UpstreamHeaderEdits | null = null,
  consumed: readonly string[] | null = null,
): Record<string, string | string[]> {
  const named = connectionTokens(headers.connection);
  const strip = edits?.strip;
  const out: Record<string, string | string[]> = {};
  for (const name in headers) {
    if (
      HOP_BY_HOP.has(name) ||
      GATEWAY_OWNED.has(name) ||
      METHOD_OVERRIDES.has(name) ||
      named?.has(name) ||
      isUnderscoreAlias(name)
    )
      continue;
    if (
      strip !== undefined &&
      (strip.has(name) || (name.includes('_') && strip.has(name.replaceAll('_', '-'))))
    )
      continue;
    if (consumed?.includes(name)) continue;
    const value = headers[name];
    if (value !== undefined) out[name] = value;
  }
  if (edits !== null) for (const name in edits.set) out[name] = edits.set[name]!;
  return out;
}

/**
 * Build the response headers to send on from undici's raw header list, leaving out hop-by-hop
 * headers and those the upstream's `Connection` names as they are copied (never `delete`d
 * afterwards, which would also push the object into V8's slow dictionary mode). Values are
 * latin1, as node writes them back: the bytes pass through unchanged.
 */
export function responseHeadersFromRaw(raw: readonly Buffer[]): OutgoingHttpHeaders {
  const out: Record<string, string | string[]> = {};
  let named: Set<string> | null = null;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    const name = raw[i]!.toString('latin1').toLowerCase();
    const value = raw[i + 1]!.toString('latin1');
    if (HOP_BY_HOP.has(name)) {
      if (name === 'connection') named = connectionTokens(value);
      continue;
    }
    const existing = out[name];
    if (existing === undefined) out[name] = value;
    else if (Array.isArray(existing)) existing.push(value);
    else out[name] = [existing, value];
  }
  if (named !== null) {
    for (const name of named) if (name in out) delete out[name];
  }
  return out;
}
