/**
 * Reason codes for request decisions: stable, snake_case, and the only place a decision's
 * cause is named. They go to the access log, metrics and security events — never into a
 * client-facing body (ARCHITECTURE §3). docs/reference/reasons.md is checked against this table by a test.
 */
export const REASONS = {
  bad_request: {
    status: 400,
    doc: 'The request could not be parsed as strict HTTP/1.1 (bad header bytes, conflicting or duplicate Content-Length/Transfer-Encoding, obfuscated Transfer-Encoding).',
  },
  bad_request_target: {
    status: 400,
    doc: 'The request target is not an origin-form path (absolute-form, authority-form or `*`).',
  },
  path_rejected: {
    status: 400,
    doc: 'The path carries an encoding that could name a different resource: encoded `/` or `\\`, NUL or control bytes, double encoding, invalid or overlong UTF-8, malformed percent-escapes, or `..` above the root.',
  },
  request_timeout: {
    status: 408,
    doc: 'The client did not send the request headers (or the whole request) within the configured timeout.',
  },
  body_too_large: {
    status: 413,
    doc: 'The request body is larger than `server.limits.maxBodySize`, by `Content-Length` or while streaming a chunked body.',
  },
  uri_too_long: { status: 414, doc: 'The request target is longer than `server.limits.maxUrlSize`.' },
  headers_too_large: {
    status: 431,
    doc: 'The request headers are larger than `server.limits.maxHeaderSize` or more numerous than `server.limits.maxHeaderCount`.',
  },
  unauthenticated: {
    status: 401,
    doc: "The operation's security requirements are not met: no credential was verified for any of them. Until identity verification lands, every operation that requires credentials answers this.",
  },
  route_not_found: {
    status: 404,
    doc: "No API's host and base path, or no operation of its OpenAPI document, matches the path (deny by default).",
  },
  method_not_allowed: {
    status: 405,
    doc: 'The path matches an operation template but the method is not declared for it; the reply carries `Allow`.',
  },
  upstream_timeout: {
    status: 504,
    doc: 'Connecting to the upstream, or receiving its headers or body, took longer than the configured timeout.',
  },
  upstream_unavailable: {
    status: 502,
    doc: 'The upstream refused or reset the connection, or could not be reached.',
  },
  upstream_tls_error: {
    status: 502,
    doc: "The upstream's TLS certificate could not be verified or the handshake failed.",
  },
  upstream_masked_error: {
    status: 0,
    doc: 'The upstream answered 5xx; its body was replaced by a generic problem+json (`response.maskServerErrors`). The status is kept.',
  },
  client_aborted: {
    status: 499,
    doc: 'The client closed the connection before the response was complete (logged only; nothing is sent).',
  },
  internal_error: {
    status: 500,
    doc: 'A bug in the gateway: a stage threw. The request is denied and the error logged with its stack.',
  },
} as const satisfies Record<string, { status: number; doc: string }>;

export type ReasonCode = keyof typeof REASONS;
