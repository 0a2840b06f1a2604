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
    doc: "The request body is larger than `server.limits.maxBodySize`, or than the API's or operation's `maxBodySize`, by `Content-Length` or while streaming a chunked body.",
  },
  uri_too_long: { status: 414, doc: 'The request target is longer than `server.limits.maxUrlSize`.' },
  headers_too_large: {
    status: 431,
    doc: 'The request headers are larger than `server.limits.maxHeaderSize` or more numerous than `server.limits.maxHeaderCount`.',
  },
  unauthenticated: {
    status: 401,
    doc: "The request carries no credential for any of the operation's security requirements.",
  },
  security_undeclared: {
    status: 401,
    doc: 'The operation declares no security requirement and its API does not set `authn.allowAnonymous`: refused rather than served as an open door.',
  },
  token_malformed: {
    status: 401,
    doc: 'The bearer token is not a compact JWS: wrong shape, non-canonical base64url (padding, whitespace, stray bits), invalid or duplicate-member JSON, or a `jku`/`x5u`/`jwk` header.',
  },
  token_too_large: { status: 401, doc: "The bearer token is longer than the scheme's `maxTokenSize`." },
  token_signature_invalid: {
    status: 401,
    doc: "The token's signature does not verify, or its `alg` is not in the scheme's allowlist.",
  },
  token_key_unknown: {
    status: 401,
    doc: "The token's `kid` names no key in the issuer's key set, even after a re-fetch.",
  },
  token_expired: { status: 401, doc: 'The token is past its `exp` (beyond the clock skew).' },
  token_not_yet_valid: {
    status: 401,
    doc: "The token's `nbf` or `iat` is in the future (beyond the clock skew).",
  },
  token_claims_invalid: {
    status: 401,
    doc: "The token's issuer, audience or `typ` is not accepted, or a required claim is missing.",
  },
  jwks_unavailable: {
    status: 401,
    doc: "The issuer's key set could not be fetched and the cached keys are older than `jwks.maxStale`: tokens are refused (fail closed).",
  },
  api_key_invalid: {
    status: 401,
    doc: 'The API key is malformed, unknown, or its secret does not match.',
  },
  api_key_revoked: { status: 401, doc: 'The API key was revoked.' },
  api_key_expired: { status: 401, doc: 'The API key is past its expiry (or past its rotation overlap).' },
  key_store_unavailable: {
    status: 401,
    doc: 'The key store could not be read or parsed: API keys are refused until it can (fail closed).',
  },
  signature_malformed: {
    status: 401,
    doc: 'The SigV4 `Authorization` header or presigned query is malformed, repeated, or does not sign `host` (and `x-amz-date`).',
  },
  signature_credential_unknown: {
    status: 401,
    doc: 'The SigV4 access key id is unknown, or its credential scope (region, service, date) does not match.',
  },
  signature_invalid: {
    status: 401,
    doc: 'The SigV4 signature (or payload hash) does not match the request.',
  },
  signature_expired: {
    status: 401,
    doc: '`X-Amz-Date` is outside the clock skew, or a presigned URL is past `X-Amz-Expires`.',
  },
  signature_replayed: { status: 401, doc: 'This SigV4 signature was already accepted once (replay guard).' },
  client_cert_required: {
    status: 401,
    doc: "The operation requires a client certificate (`mutualTLS`) and none verified against the listener's client CA was presented.",
  },
  authorizer_denied: {
    status: 401,
    doc: 'The external authorizer denied the request, or its cached policy does not cover this operation.',
  },
  authorizer_unavailable: {
    status: 503,
    doc: 'The external authorizer timed out, failed or answered something unreadable: the request is denied (fail closed).',
  },
  insufficient_scope: {
    status: 403,
    doc: 'The credential is valid but lacks a scope the operation requires.',
  },
  source_denied: {
    status: 403,
    doc: "The client IP is in a `network.deny` block of the API, one of the operation's tags, or the operation (`authz`): an explicit deny wins over every allow.",
  },
  source_not_allowed: {
    status: 403,
    doc: 'The client IP is outside a `network.allow` list that the API, a tag or the operation sets (`authz`).',
  },
  principal_kind_not_allowed: {
    status: 403,
    doc: 'The principal was verified by a kind of credential (or is anonymous) that `authz.principalKinds` does not allow here.',
  },
  scope_required: {
    status: 403,
    doc: "The credential lacks a scope that the gateway config (`authz.scopes`) requires, beyond the OpenAPI document's.",
  },
  group_required: {
    status: 403,
    doc: 'The principal is in none of the groups (roles) that `authz.groups` requires at the API, a tag or the operation.',
  },
  policy_denied: {
    status: 403,
    doc: "The API's Cedar policies deny the request: a `forbid` matched, or no `permit` did (default deny). The decision names the determining policies.",
  },
  policy_error: {
    status: 403,
    doc: 'A Cedar policy could not be evaluated for this request (a missing attribute or claim, a value of the wrong type, an overflow): denied, even where the other policies would allow.',
  },
  policy_allowed: {
    status: 0,
    doc: "The API's Cedar policies allow the request (recorded with the permitting policies; not a refusal).",
  },
  auth_locked_out: {
    status: 429,
    doc: 'Too many failed authentications from this client IP or for this credential: locked out for `authn.bruteForce.lockout` (`Retry-After` says how long).',
  },
  rate_limited: {
    status: 429,
    doc: "A rate limit (`traffic.rateLimits`, an API's, an operation's or a usage plan's) has no capacity left for this caller; `Retry-After` says when one request will pass. The decision names the limit.",
  },
  quota_exceeded: {
    status: 429,
    doc: 'A quota (requests per UTC day, week or month) is used up for this caller; `Retry-After` says when its window ends. The decision names the quota.',
  },
  rate_limit_unavailable: {
    status: 503,
    doc: 'The state store (Redis) did not answer within its timeout and a limit that applies is `onStoreFailure: failClosed`: the gateway cannot tell whether the caller is within its limits, so it refuses.',
  },
  rate_limit_store_bypassed: {
    status: 0,
    doc: 'The state store did not answer and every limit that applies is `onStoreFailure: failOpen`: the request went through uncounted (recorded; not a refusal).',
  },
  store_unavailable: {
    status: 503,
    doc: 'The state store (Redis) did not answer while authenticating: brute-force lockouts or the SigV4 replay guard cannot be checked, so the request is refused (fail closed).',
  },
  plan_unknown: {
    status: 403,
    doc: 'The credential names a usage plan that `traffic.plans` does not define: refused rather than served without limits.',
  },
  route_not_found: {
    status: 404,
    doc: "No API's host and base path, or no operation of its OpenAPI document, matches the path (deny by default).",
  },
  method_not_allowed: {
    status: 405,
    doc: 'The path matches an operation template but the method is not declared for it; the reply carries `Allow`.',
  },
  cors_refused: {
    status: 403,
    doc: "A CORS preflight was refused: its `Origin`, `Access-Control-Request-Method` or one of its `Access-Control-Request-Headers` is not allowed by the API's `cors` policy. Other requests from an origin that is not allowed are served without CORS headers, and the browser withholds them from the page.",
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
  upstream_saturated: {
    status: 503,
    doc: 'The upstream already has `upstreams.<name>.maxInFlight` requests under way; refused at once with `Retry-After: 1`, nothing was sent upstream.',
  },
  operation_saturated: {
    status: 503,
    doc: 'The operation already has `operations.<id>.maxInFlight` requests under way; refused at once with `Retry-After: 1`, nothing was sent upstream.',
  },
  circuit_open: {
    status: 503,
    doc: "The upstream's circuit breaker is open after repeated failures (or half-open with every probe slot taken); refused at once with `Retry-After`, nothing was sent upstream.",
  },
  upstream_masked_error: {
    status: 0,
    doc: 'The upstream answered 5xx; its body was replaced by a generic problem+json (`response.maskServerErrors`). The status is kept.',
  },
  request_invalid: {
    status: 400,
    doc: "A parameter or the request body does not match the operation's OpenAPI schema (type, required, format, limits, or an undeclared property under `validate.strict`). The 400 body lists each failing field and rule, never the value sent.",
  },
  parameter_repeated: {
    status: 400,
    doc: 'A query, header, cookie or form parameter whose schema is not an array was sent more than once (HTTP parameter pollution): refused rather than letting the gateway and the upstream pick different copies.',
  },
  body_malformed: {
    status: 400,
    doc: 'The request body cannot be read as its content type says: not JSON, not UTF-8, duplicate member names, nesting deeper than `validate.maxDepth`, or a malformed form encoding.',
  },
  unsupported_media_type: {
    status: 415,
    doc: "The request body's Content-Type is not one the operation's `requestBody` declares (or is missing), or a body was sent to an operation that declares none under `validate.strict`.",
  },
  response_filtered: {
    status: 0,
    doc: 'The JSON response body carried properties its OpenAPI response schema does not declare, or sensitive ones: they were dropped or masked before it was sent (`response.filter`; recorded, not a refusal).',
  },
  response_unfiltered: {
    status: 0,
    doc: 'A response to be filtered was larger than `response.filter.maxBodySize` and `oversize` is `passthrough`: it was sent as the upstream made it (recorded).',
  },
  response_too_large: {
    status: 502,
    doc: 'A response to be filtered was larger than `response.filter.maxBodySize` and `oversize` is `reject`: nothing unfiltered is sent.',
  },
  response_unfilterable: {
    status: 502,
    doc: 'A response to be filtered could not be read: its body is not the JSON its content type says, or the upstream encoded it (gzip) although asked not to.',
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
