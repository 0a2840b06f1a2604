import { Type } from '@sinclair/typebox';
import { Duration, Mode, NAME_PATTERN, Name, Strict, StringEnum } from '../../config/typedefs.ts';

/**
 * Config of rate limits and quotas. One limit runs in one of two stages, by what it is keyed
 * by (ARCHITECTURE §3): `ip` and `global` limits in `edge-limit`, before the WAF and any
 * expensive work; limits keyed by who the caller is (`principal`, `apiKey`, `plan`, a header)
 * and every quota in `quota`, after authorization. A request's limits of one stage are checked
 * together, in one store round trip, and it is counted against them only if all admit it.
 */

const KEY_PATTERN = "^(ip|global|principal|apiKey|plan|header:[A-Za-z0-9!#$%&'*+.^_`|~-]+)$";

function LimitKey(description: string, defaultValue?: string) {
  return Type.String({
    pattern: KEY_PATTERN,
    description,
    default: defaultValue,
    'x-rampart-hint': 'ip, global, principal, apiKey, plan or header:<name>',
  });
}

const KEY_DOC =
  'What the limit counts per: `ip` (the client IP the client stage resolved; IPv6 by its `traffic.ipv6Prefix`), `global` (one bucket for everyone), `principal` (the verified caller; anonymous callers by client IP), `apiKey` (the API key or SigV4 access key id; requests without one are not limited by it), `plan` (one bucket shared by every caller on the same usage plan), `header:<name>` (a request header, e.g. a tenant id; requests without it by client IP). `ip` and `global` limits run in the `edge-limit` stage, the others in `quota`.';

const failure = {
  onStoreFailure: StringEnum(
    ['failClosed', 'failOpen'] as const,
    'When the state store cannot answer within `store` timeouts: `failClosed` refuses the request (503 `rate_limit_unavailable`); `failOpen` lets it through uncounted and records `rate_limit_unavailable` in the access log.',
    'failClosed',
  ),
  mode: Mode('`shadow` evaluates and records the limit, and never refuses because of it.'),
};

function rateLimit(defaultKey?: string) {
  return Strict(
    {
      name: Name('Name of the limit, unique in its scope: the RateLimit-Policy name and the log field.'),
      key: LimitKey(KEY_DOC, defaultKey),
      rate: Type.Integer({
        minimum: 1,
        maximum: 1_000_000_000,
        description: 'Requests admitted per `per`, sustained.',
      }),
      per: Duration(
        'The period of `rate`: `100` per `1m` admits one request every 600 ms once the burst is spent.',
      ),
      burst: Type.Optional(
        Type.Integer({
          minimum: 1,
          maximum: 1_000_000_000,
          description:
            'Requests admitted at once, after a quiet period (the bucket capacity). Default: `rate`, so at most `rate` in any `per`-long window that starts full.',
        }),
      ),
      ...failure,
    },
    { description: 'A rate limit (GCRA: the token bucket of managed gateways, without a refill timer).' },
  );
}

export const RateLimitConfig = rateLimit();

export const QuotaConfig = Strict(
  {
    name: Name('Name of the quota, unique in its scope.'),
    key: LimitKey(KEY_DOC, 'principal'),
    limit: Type.Integer({
      minimum: 1,
      maximum: 1_000_000_000_000,
      description: 'Requests admitted per calendar `per`.',
    }),
    per: StringEnum(
      ['day', 'week', 'month'] as const,
      'The calendar window, in UTC: a day from 00:00, an ISO week from Monday 00:00, a month from the 1st 00:00.',
    ),
    ...failure,
  },
  { description: 'A quota: a count per UTC calendar window that resets at its boundary.' },
);

const scopeFields = (what: string) => ({
  rateLimits: Type.Array(RateLimitConfig, { default: [], description: `Rate limits of ${what}.` }),
  quotas: Type.Array(QuotaConfig, { default: [], description: `Quotas of ${what}.` }),
});

/** `apis.<name>.traffic` and `apis.<name>.operations.<id>.traffic`. */
export const ScopeTrafficConfig = Strict(scopeFields('this scope'), {
  default: {},
  description: 'Rate limits and quotas that apply to every request of this scope.',
});

export const OperationTrafficConfig = Strict(scopeFields('this operation'), {
  description: 'Rate limits and quotas of this operation, on top of those of its API and the global ones.',
});

const PlanConfig = Strict(
  {
    description: Type.Optional(Type.String({ description: 'What the plan is, for operators.' })),
    rateLimits: Type.Array(rateLimit('principal'), {
      default: [],
      description: 'Rate limits of every caller on this plan (keyed by `principal` unless set).',
    }),
    quotas: Type.Array(QuotaConfig, { default: [], description: 'Quotas of every caller on this plan.' }),
    apis: Type.Optional(
      Type.Array(Name('An API (a key of `apis`).'), {
        minItems: 1,
        description:
          'The APIs the plan applies to. Default: all. A caller on the plan is not limited by it elsewhere.',
      }),
    ),
  },
  { description: 'A usage plan: limits and quotas for the callers bound to it.' },
);

export const TrafficConfig = Strict(
  {
    ...scopeFields('every API (the global scope)'),
    plans: Type.Record(Type.String({ pattern: NAME_PATTERN }), PlanConfig, {
      additionalProperties: false,
      default: {},
      description:
        'Usage plans by name. API keys and SigV4 credentials name theirs (`rampart keys create --plan`); JWT callers through `planFrom`.',
    }),
    planFrom: Type.Array(
      Type.String({
        pattern: '^(claims|attributes)\\.[A-Za-z0-9_.:-]+$',
        'x-rampart-hint': 'claims.NAME or attributes.NAME',
      }),
      {
        minItems: 1,
        default: ['attributes.plan', 'claims.plan'],
        description:
          "Where a principal's plan name is read, first found wins: `attributes.plan` (API keys, SigV4), `claims.NAME` (a JWT claim).",
      },
    ),
    defaultPlan: Type.Optional(
      Name('Plan of authenticated callers whose credential names none. Without it, they are on no plan.'),
    ),
    headers: Type.Boolean({
      default: true,
      description:
        'Send `RateLimit` and `RateLimit-Policy` (draft-ietf-httpapi-ratelimit-headers) on responses to limited requests.',
    }),
    ipv6Prefix: Type.Integer({
      minimum: 32,
      maximum: 128,
      default: 64,
      description:
        'IPv6 clients are counted per prefix of this length: one host usually holds a whole /64, so counting single addresses would not limit it.',
    }),
  },
  {
    default: {},
    description: 'Rate limits, quotas and usage plans (the `edge-limit` and `quota` stages).',
  },
);
