/**
 * The fixed order of the request pipeline (ARCHITECTURE §3). This list is the one place the
 * order is written down: configuration turns stages on and tunes them per scope, it never
 * reorders them. `rampart explain` and docs/reference/pipeline.md are generated from it.
 */
export const STAGES = [
  {
    name: 'listener',
    does: 'size limits, timeouts, strict HTTP parsing',
    replies: [400, 408, 413, 414, 431],
  },
  { name: 'client', does: 'client IP from trusted proxies, request id, trace context', replies: [] },
  { name: 'ip-policy', does: 'static CIDR allow/deny, dynamic block list', replies: [403] },
  {
    name: 'route',
    does: 'path normalization, host + base path + OpenAPI operation match',
    replies: [400, 404, 405, 413],
  },
  { name: 'cors', does: "preflight answered from the API's CORS policy", replies: [204, 403, 405] },
  { name: 'edge-limit', does: 'cheap per-IP / global rate limits', replies: [429, 503] },
  { name: 'waf', does: 'request inspection (headers, query, cookies, body)', replies: [403] },
  {
    name: 'authn',
    does: "the operation's security requirements → principal",
    replies: [401, 403, 413, 429, 503],
  },
  { name: 'authz', does: 'scopes, resource policies, Cedar policies', replies: [403] },
  {
    name: 'quota',
    does: 'per-principal / per-key / usage-plan limits and quotas',
    replies: [403, 429, 503],
  },
  {
    name: 'validate',
    does: 'request parameters and body against the OpenAPI schemas',
    replies: [400, 413, 415],
  },
  { name: 'transform', does: 'identity headers, header rules', replies: [] },
  { name: 'upstream', does: 'proxy to the upstream, or the mock integration', replies: [502, 503, 504] },
  { name: 'response', does: 'response hardening and error masking', replies: [502] },
  { name: 'log', does: 'access log, security events', replies: [] },
] as const;

export type StageName = (typeof STAGES)[number]['name'];

export const STAGE_NAMES: readonly StageName[] = STAGES.map((s) => s.name);

/** Position of a stage in the fixed order; used to keep compiled chains sorted. */
export function stageIndex(name: StageName): number {
  return STAGE_NAMES.indexOf(name);
}
