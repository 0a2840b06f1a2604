import { type Static, Type } from '@sinclair/typebox';
import { AuditConfig } from '../observe/audit/schema.ts';
import { EventsConfig } from '../observe/events/schema.ts';
import { ApiAuthnConfig, AuthnConfig } from '../stages/authn/schema.ts';
import { ApiAuthzConfig, OperationAuthzConfig } from '../stages/authz/schema.ts';
import { CorsConfig } from '../stages/cors/schema.ts';
import { OperationTrafficConfig, ScopeTrafficConfig, TrafficConfig } from '../stages/quota/schema.ts';
import { ApiResponseFilterConfig } from '../stages/response/filter/schema.ts';
import { HeaderRules, HstsConfig, HstsOverride, OperationResponseConfig } from '../stages/response/schema.ts';
import { TransformConfig } from '../stages/transform/schema.ts';
import { ApiValidateConfig, OperationValidateConfig } from '../stages/validate/schema.ts';
import { StoreConfig } from '../store/schema.ts';
import {
  Cidr,
  Duration,
  FilePath,
  NAME_PATTERN,
  Name,
  SecretRef,
  Size,
  Strict,
  StringEnum,
} from './typedefs.ts';

/**
 * The one schema of a Rampart config file. It is the source of the TypeScript types (`Config`),
 * the validation (Ajv, with defaults), the published JSON Schema (schema/rampart.schema.json)
 * and the generated reference (docs/reference/config.md); tests fail when either file drifts.
 */

const ListenerTls = Strict(
  {
    cert: FilePath('PEM certificate chain file for this listener.'),
    key: SecretRef('The private key, as a secret reference (`file:PATH` or `env:NAME`).'),
    minVersion: StringEnum(['TLSv1.2', 'TLSv1.3'] as const, 'Lowest TLS version accepted.', 'TLSv1.2'),
    clientAuth: Type.Optional(
      Strict(
        {
          ca: FilePath('PEM file of the CA certificates client certificates must chain to.'),
          mode: StringEnum(
            ['require', 'optional'] as const,
            '`require`: the handshake fails without a valid client certificate. `optional`: a connection without one is accepted, and only operations requiring `mutualTLS` refuse it.',
            'optional',
          ),
        },
        { description: 'Mutual TLS: ask clients for a certificate and verify it against `ca`.' },
      ),
    ),
  },
  { description: 'Serve HTTPS on this listener. Without it, the listener speaks plain HTTP.' },
);

const Listener = Strict({
  host: Type.String({
    minLength: 1,
    default: '127.0.0.1',
    description: 'Address to bind. Loopback by default: nothing listens beyond it unless configured.',
  }),
  port: Type.Integer({ minimum: 0, maximum: 65535, description: 'TCP port (0 picks a free port).' }),
  tls: Type.Optional(ListenerTls),
});

const Limits = Strict(
  {
    maxUrlSize: Size('Longest request target (path and query) accepted; longer is 414.', '8kb'),
    maxHeaderSize: Size('Largest request head (request line and headers) accepted; larger is 431.', '16kb'),
    maxHeaderCount: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 100,
      description: 'Most request headers accepted; more is 431.',
    }),
    maxBodySize: Size(
      'Largest request body, by Content-Length or counted while streaming; larger is 413.',
      '1mb',
    ),
    headersTimeout: Duration(
      'Time allowed to receive the request headers (slow-header defence); then 408.',
      '10s',
    ),
    requestTimeout: Duration('Time allowed to receive the whole request; then 408.', '60s'),
    keepAliveTimeout: Duration('How long an idle keep-alive connection stays open.', '5s'),
  },
  {
    default: {},
    description: 'Request size limits and timeouts of every listener, enforced before routing.',
  },
);

const Server = Strict(
  {
    listen: Type.Array(Listener, {
      minItems: 1,
      default: [{ host: '127.0.0.1', port: 8080 }],
      description: 'Data-plane listeners.',
    }),
    limits: Limits,
    trustedProxies: Type.Array(Cidr('A proxy whose X-Forwarded-* headers are believed.'), {
      default: [],
      description:
        'Peers (CIDR blocks) whose X-Forwarded-For/-Proto/-Host and x-request-id are honoured. Empty: none are.',
    }),
    drainTimeout: Duration(
      'On SIGTERM, how long in-flight requests may take to finish before connections are closed.',
      '10s',
    ),
    watch: Type.Boolean({
      default: false,
      description: 'Reload when the config file or a referenced OpenAPI document changes (as on SIGHUP).',
    }),
    hsts: HstsConfig,
  },
  {
    default: {},
    description: 'The data-plane listeners, their limits, the trusted proxies and shutdown behaviour.',
  },
);

const AccessLog = Strict(
  {
    enabled: Type.Boolean({ default: true, description: 'Write one JSON line per request.' }),
    destination: Type.String({
      minLength: 1,
      default: 'stdout',
      description: '`stdout`, `stderr`, or a file path (appended to).',
    }),
    requestHeaders: Type.Array(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), {
      default: [],
      description:
        'Request headers to include in each line. Credentials (Authorization, Cookie, API-key headers) are always redacted.',
    }),
    redactQueryParams: Type.Array(Type.String({ minLength: 1 }), {
      default: [],
      description:
        'More query parameter names whose values are redacted, beyond the built-in secret-looking names.',
    }),
  },
  {
    default: {},
    description: 'The access log: one JSON line per request, metadata only, credentials redacted.',
  },
);

const Log = Strict(
  {
    level: StringEnum(
      ['fatal', 'error', 'warn', 'info', 'debug'] as const,
      'Level of the gateway log (not the access log).',
      'info',
    ),
    access: AccessLog,
  },
  { default: {}, description: 'The gateway log (stderr) and the access log.' },
);

const UpstreamTls = Strict(
  {
    ca: Type.Optional(FilePath('PEM file of CA certificates to trust instead of the system store.')),
    rejectUnauthorized: Type.Boolean({
      default: true,
      description: "Verify the upstream's certificate. Turning this off is a posture finding.",
    }),
    servername: Type.Optional(
      Type.String({ minLength: 1, description: 'SNI and certificate name to expect.' }),
    ),
    cert: Type.Optional(FilePath('Client certificate (PEM) for mTLS to the upstream.')),
    key: Type.Optional(SecretRef('Client private key for mTLS to the upstream, as a secret reference.')),
  },
  { default: {}, description: 'TLS settings for an https:// upstream (not used for http://).' },
);

const UpstreamCircuitBreaker = Strict(
  {
    consecutiveFailures: Type.Integer({
      minimum: 0,
      maximum: 10000,
      default: 5,
      description: 'Open after this many failures in a row (0: only `errorRate` opens it).',
    }),
    errorRate: Type.Optional(
      Strict(
        {
          threshold: Type.Number({
            exclusiveMinimum: 0,
            maximum: 1,
            default: 0.5,
            description: 'Open when this share of the calls in the window failed (0.5: half).',
          }),
          minRequests: Type.Integer({
            minimum: 1,
            maximum: 1_000_000,
            default: 20,
            description: 'Calls the window must hold before its error rate counts.',
          }),
          window: Duration('The rolling window the error rate is measured over.', '10s'),
        },
        { description: 'Open on the error rate over a rolling window (off unless set).' },
      ),
    ),
    openFor: Duration(
      'How long the circuit stays open (503 `circuit_open`) before probes are let through.',
      '30s',
    ),
    halfOpenProbes: Type.Integer({
      minimum: 1,
      maximum: 1000,
      default: 1,
      description:
        'Calls let through at once while half-open; this many successes close the circuit, one failure opens it again.',
    }),
    failureStatuses: Type.Array(Type.Integer({ minimum: 500, maximum: 599 }), {
      uniqueItems: true,
      default: [502, 503, 504],
      description: 'Upstream statuses that count as failures, besides connect errors, timeouts and resets.',
    }),
  },
  {
    description:
      'A circuit breaker for this upstream: after repeated failures, calls are refused at once (503 `circuit_open`) until probes show it has recovered. Off unless set.',
  },
);

const UpstreamRetry = Strict(
  {
    attempts: Type.Integer({
      minimum: 1,
      maximum: 5,
      default: 2,
      description: 'Most calls per request, the first included (1: no retries).',
    }),
    on: Type.Array(StringEnum(['connect-failure', 'reset'] as const, 'A failure to retry.'), {
      uniqueItems: true,
      default: ['connect-failure', 'reset'],
      description:
        '`connect-failure`: the connection could not be made (refused, unreachable, connect timeout). `reset`: it broke before any byte of the response.',
    }),
    statuses: Type.Array(Type.Integer({ minimum: 500, maximum: 599 }), {
      uniqueItems: true,
      default: [],
      description: 'Upstream statuses retried as well (e.g. 503); the response is discarded unread.',
    }),
    budget: Strict(
      {
        ratio: Type.Number({
          minimum: 0,
          maximum: 1,
          default: 0.2,
          description: 'Retries allowed per request over the window (0.2: at most 20% more calls).',
        }),
        minPerSecond: Type.Integer({
          minimum: 0,
          maximum: 10000,
          default: 3,
          description: 'Retries always allowed per second, however little traffic there is.',
        }),
        window: Duration('The rolling window requests and retries are counted over.', '10s'),
      },
      { default: {}, description: 'The retry budget: retries past it are not made (no retry storms).' },
    ),
    backoff: Strict(
      {
        base: Duration(
          'Longest wait before the first retry (doubled for each later one; the wait is random below it).',
          '25ms',
        ),
        max: Duration('Longest wait before any retry.', '250ms'),
      },
      { default: {}, description: 'Exponential backoff with full jitter between attempts.' },
    ),
  },
  {
    description:
      'Retries of idempotent requests (GET, HEAD, OPTIONS, PUT, DELETE; never POST or PATCH), before any of the response was sent. Off unless set.',
  },
);

const Upstream = Strict({
  url: Type.String({
    pattern: '^https?://[^/?#]+(/[^?#]*)?$',
    description:
      'Origin (and optional path prefix) of the upstream, e.g. http://127.0.0.1:3000 or https://orders.internal/api.',
    'x-rampart-hint': 'an http:// or https:// URL without query or fragment',
  }),
  connections: Type.Integer({
    minimum: 1,
    maximum: 10000,
    default: 128,
    description: 'Most keep-alive connections to this upstream.',
  }),
  timeouts: Strict(
    {
      connect: Duration('TCP (and TLS) connect timeout; then 504.', '5s'),
      headers: Duration('Time to receive the response headers; then 504.', '30s'),
      body: Duration('Longest pause between response body chunks; then the response is cut.', '30s'),
    },
    { default: {}, description: 'Timeouts of calls to this upstream.' },
  ),
  keepAliveTimeout: Duration('How long an idle upstream connection is kept.', '4s'),
  tls: UpstreamTls,
  maxInFlight: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description:
        'Most requests to this upstream under way at once, over all operations; past it, 503 `upstream_saturated` with `Retry-After: 1`. Unset: no limit (requests queue for one of `connections`).',
    }),
  ),
  circuitBreaker: Type.Optional(UpstreamCircuitBreaker),
  retry: Type.Optional(UpstreamRetry),
});

const OperationOverride = Strict({
  upstream: Type.Optional(Name('Upstream for this operation (a key of `upstreams`).')),
  mock: Type.Optional(Type.Boolean({ description: 'Answer this operation from its OpenAPI examples.' })),
  authz: Type.Optional(OperationAuthzConfig),
  maxInFlight: Type.Optional(
    Type.Integer({
      minimum: 1,
      maximum: 1_000_000,
      description:
        'Most requests to this operation under way at once; past it, 503 `operation_saturated` with `Retry-After: 1`. Only for an operation proxied to an upstream.',
    }),
  ),
  maxBodySize: Type.Optional(
    Size(
      "Largest request body of this operation; larger is 413. At most the API's `maxBodySize` and `server.limits.maxBodySize`.",
    ),
  ),
  traffic: Type.Optional(OperationTrafficConfig),
  validate: Type.Optional(OperationValidateConfig),
  transform: Type.Optional(TransformConfig),
  response: Type.Optional(OperationResponseConfig),
});

const Api = Strict({
  openapi: FilePath('The OpenAPI 3.0/3.1 document (YAML or JSON), relative to this config file.'),
  basePath: Type.String({
    pattern: "^(/[A-Za-z0-9._~!$&'()*+,;=:@-]+)*$",
    default: '',
    description: 'Path prefix the operations are served under, e.g. /v1. Empty: the root.',
    'x-rampart-hint': 'a path such as /v1 (starting with /, no trailing /)',
  }),
  hosts: Type.Array(Type.String({ pattern: '^(\\*\\.)?[A-Za-z0-9.-]+$' }), {
    default: [],
    description: 'Host names this API answers (`*.example.com` matches one label). Empty: any host.',
  }),
  upstream: Type.Optional(Name('Upstream for every operation (a key of `upstreams`).')),
  mock: Type.Boolean({
    default: false,
    description: 'Answer every operation from its OpenAPI examples instead of an upstream.',
  }),
  stripBasePath: Type.Boolean({ default: false, description: 'Remove the base path before forwarding.' }),
  maxBodySize: Type.Optional(
    Size(
      "Largest request body of this API's operations; larger is 413. At most `server.limits.maxBodySize`.",
    ),
  ),
  response: Strict(
    {
      maskServerErrors: Type.Boolean({
        default: true,
        description:
          'Replace the body of an upstream 5xx with a generic problem+json (keeps the status): stack traces and internals never reach clients.',
      }),
      hsts: Type.Optional(HstsOverride),
      headers: Type.Optional(HeaderRules),
      filter: ApiResponseFilterConfig,
    },
    { default: {}, description: 'How responses of this API are treated.' },
  ),
  authn: ApiAuthnConfig,
  authz: ApiAuthzConfig,
  traffic: ScopeTrafficConfig,
  validate: ApiValidateConfig,
  cors: Type.Optional(CorsConfig),
  transform: Type.Optional(TransformConfig),
  operations: Type.Record(Type.String({ pattern: '^.+$' }), OperationOverride, {
    // TypeBox records only emit patternProperties: without this, a key that misses the pattern
    // is not checked at all (its value unvalidated) instead of being an error.
    additionalProperties: false,
    default: {},
    description: 'Per-operation overrides, keyed by operationId.',
  }),
});

export const ConfigSchema = Type.Object(
  {
    $schema: Type.Optional(Type.String({ description: 'For editors: the JSON Schema of this file.' })),
    version: Type.Literal(1, { description: 'Config format version.' }),
    server: Server,
    log: Log,
    // additionalProperties: false makes a bad name (`1bad`, `my api`) an error; without it, a
    // key that misses NAME_PATTERN was silently accepted and its value never validated.
    upstreams: Type.Record(Type.String({ pattern: NAME_PATTERN }), Upstream, {
      additionalProperties: false,
      default: {},
      description: 'Named upstream services.',
    }),
    store: StoreConfig,
    audit: AuditConfig,
    events: EventsConfig,
    authn: AuthnConfig,
    traffic: TrafficConfig,
    apis: Type.Record(Type.String({ pattern: NAME_PATTERN }), Api, {
      additionalProperties: false,
      minProperties: 1,
      description: 'The APIs served, by name; each is described by an OpenAPI document.',
    }),
  },
  {
    additionalProperties: false,
    $id: 'https://rampart.dev/schema/rampart.schema.json',
    title: 'Rampart gateway configuration',
    description: 'The config file of a Rampart gateway (rampart.yaml).',
  },
);

export type Config = Static<typeof ConfigSchema>;
export type ServerConfig = Config['server'];
export type ListenerConfig = ServerConfig['listen'][number];
export type LimitsConfig = ServerConfig['limits'];
export type LogConfig = Config['log'];
export type UpstreamConfig = Config['upstreams'][string];
export type ApiConfig = Config['apis'][string];
export type AuthnConfigT = Config['authn'];
export type SchemeConfigT = AuthnConfigT['schemes'][string];
export type ApiAuthzConfigT = ApiConfig['authz'];
export type TrafficConfigT = Config['traffic'];
export type ScopeTrafficConfigT = ApiConfig['traffic'];
export type OperationAuthzConfigT = NonNullable<ApiConfig['operations'][string]['authz']>;
