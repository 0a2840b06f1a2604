import { Type } from '@sinclair/typebox';
import { Duration, FilePath, SecretRef, Size, Strict, StringEnum } from '../../config/typedefs.ts';

/**
 * Config of the `authn` stage. The OpenAPI document names the security schemes each operation
 * requires; this config supplies what the document cannot say (issuers, keys, secrets). A
 * scheme entry is keyed by the scheme's name in `components.securitySchemes` and holds exactly
 * one verifier: `jwt`, `apiKey`, `sigv4`, `mutualTls` or `external`.
 */

const Jwks = Strict(
  {
    refreshInterval: Duration('How often the key set is re-fetched in the background.', '5m'),
    cooldown: Duration(
      'Shortest time between two fetches caused by a token whose `kid` is not in the cached set.',
      '30s',
    ),
    maxStale: Duration(
      'How long the last fetched keys keep serving while the identity provider cannot be reached; after that every token is refused.',
      '1h',
    ),
    timeout: Duration('Time allowed for one fetch of the key set or discovery document.', '5s'),
    ca: Type.Optional(
      FilePath('PEM CA certificates to trust for the JWKS/discovery fetch, instead of the system store.'),
    ),
  },
  { default: {}, description: 'Fetching and caching of the JSON Web Key Set.' },
);

export const JwtScheme = Strict(
  {
    issuers: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'Accepted `iss` values (exact match).',
    }),
    audiences: Type.Array(Type.String({ minLength: 1 }), {
      minItems: 1,
      description: 'Accepted `aud` values: the token must name at least one.',
    }),
    jwksUri: Type.Optional(
      Type.String({ pattern: '^https?://', description: 'Where the signing keys are published (JWKS).' }),
    ),
    discovery: Type.Optional(
      Type.String({
        pattern: '^https?://',
        description:
          "OpenID Connect discovery document; its `jwks_uri` is used and its `issuer` must be one of `issuers`. Defaults to the scheme's `openIdConnectUrl`.",
      }),
    ),
    secret: Type.Optional(
      SecretRef(
        'HMAC key (HS256/384/512 only): at least 32, 48 or 64 bytes (the hash size). Never mixed with public-key algorithms.',
      ),
    ),
    algorithms: Type.Array(
      StringEnum(
        [
          'RS256',
          'RS384',
          'RS512',
          'PS256',
          'PS384',
          'PS512',
          'ES256',
          'ES384',
          'ES512',
          'EdDSA',
          'HS256',
          'HS384',
          'HS512',
        ] as const,
        'A JWS algorithm.',
      ),
      { minItems: 1, default: ['RS256', 'ES256'], description: 'Accepted `alg` values (`none` never is).' },
    ),
    clockSkew: Duration('Tolerance for `exp`, `nbf` and `iat` (at most 5m).', '30s'),
    requiredClaims: Type.Array(Type.String({ minLength: 1 }), {
      default: ['sub', 'exp'],
      description: 'Claims every token must carry.',
    }),
    types: Type.Array(Type.String({ minLength: 1 }), {
      default: ['JWT', 'at+jwt'],
      description:
        'Accepted `typ` header values (case-insensitive, `application/` prefix ignored). A token without `typ` is accepted unless `requireType` is on.',
    }),
    requireType: Type.Boolean({ default: false, description: 'Refuse tokens without a `typ` header.' }),
    maxTokenSize: Size('Longest token accepted; longer is refused before any parsing.', '8kb'),
    principalClaim: Type.String({
      minLength: 1,
      default: 'sub',
      description: 'Claim that becomes the principal id.',
    }),
    jwks: Jwks,
  },
  { description: 'Bearer JSON Web Tokens (OAuth 2.0 access tokens, OpenID Connect).' },
);

export const ApiKeyScheme = Strict(
  {},
  {
    description:
      'API keys (`rk_<id>_<secret>`) checked against the key store (`authn.keyStore`). Where the key is read (header, query, cookie) comes from the OpenAPI scheme.',
  },
);

const SigV4Credential = Strict({
  secret: SecretRef('The secret access key, as a secret reference.'),
  principal: Type.String({ minLength: 1, description: 'Principal id of requests signed with this key.' }),
  scopes: Type.Array(Type.String({ minLength: 1 }), { default: [], description: 'Scopes granted.' }),
  sessionToken: Type.Optional(
    SecretRef('If set, every request must carry this `X-Amz-Security-Token` (signed); otherwise none may.'),
  ),
});

export const SigV4Scheme = Strict(
  {
    region: Type.String({ minLength: 1, description: 'Region in the credential scope, e.g. `us-east-1`.' }),
    service: Type.String({
      minLength: 1,
      description: 'Service in the credential scope, e.g. `execute-api`.',
    }),
    clockSkew: Duration('How far `X-Amz-Date` may be from the gateway clock.', '5m'),
    maxPresignedExpiry: Duration('Longest `X-Amz-Expires` accepted on presigned URLs.', '15m'),
    replayGuard: Type.Boolean({
      default: true,
      description: 'Accept each signature once (kept in the state store for the skew window).',
    }),
    allowUnsignedPayload: Type.Boolean({
      default: false,
      description:
        '`x-amz-content-sha256: UNSIGNED-PAYLOAD` is refused unless this is on (the body would not be covered).',
    }),
    credentials: Type.Record(Type.String({ pattern: '^[A-Z0-9]{16,128}$' }), SigV4Credential, {
      additionalProperties: false,
      default: {},
      description:
        'Access key id → secret and principal. Keys created with `rampart keys create --sigv4` are found in the key store too.',
    }),
  },
  { description: 'AWS Signature Version 4 signed requests (header or presigned query).' },
);

export const MutualTlsScheme = Strict(
  {
    principalFrom: StringEnum(
      ['subject.CN', 'san.dns', 'san.uri', 'san.email', 'fingerprint256'] as const,
      'Which part of the verified client certificate becomes the principal id.',
      'subject.CN',
    ),
  },
  { description: 'A client certificate verified by the listener (`server.listen[].tls.clientAuth`).' },
);

export const ExternalScheme = Strict(
  {
    url: Type.String({
      pattern: '^https?://',
      description: 'The authorizer endpoint (POSTed a JSON request).',
    }),
    identitySources: Type.Array(
      Type.String({ pattern: '^(header:[A-Za-z0-9-]+|query:[^&=]+|clientCert)$' }),
      {
        minItems: 1,
        description:
          '`header:NAME`, `query:NAME` or `clientCert`. All must be present, else the request is unauthenticated; together they key the decision cache.',
      },
    ),
    timeout: Duration('Time allowed for the authorizer to answer; then the request is denied.', '1s'),
    cacheTtl: Duration('How long an answer is reused for the same identity sources (0s: never).', '60s'),
    ca: Type.Optional(FilePath('PEM CA certificates to trust for an https authorizer.')),
  },
  { description: 'An external authorizer (the role of a Lambda authorizer or Envoy ext_authz).' },
);

export const SchemeConfig = Type.Object(
  {
    jwt: Type.Optional(JwtScheme),
    apiKey: Type.Optional(ApiKeyScheme),
    sigv4: Type.Optional(SigV4Scheme),
    mutualTls: Type.Optional(MutualTlsScheme),
    external: Type.Optional(ExternalScheme),
  },
  {
    additionalProperties: false,
    minProperties: 1,
    maxProperties: 1,
    description: 'Exactly one verifier for this security scheme.',
  },
);

const KeyStore = Strict(
  {
    file: FilePath('The key store (JSON), relative to this config file. Created by `rampart keys create`.'),
    pepper: SecretRef(
      'Server-side secret (at least 32 bytes) under which key secrets are hashed (HMAC-SHA-256).',
    ),
    rotationOverlap: Duration('How long the old key stays valid after `rampart keys rotate`.', '24h'),
  },
  {
    description: 'Where API keys (and issued SigV4 credentials) live: only ids and keyed hashes are stored.',
  },
);

const BruteForce = Strict(
  {
    enabled: Type.Boolean({
      default: true,
      description: 'Count failed authentications and slow down, then lock out.',
    }),
    window: Duration('Failures are counted over this window.', '15m'),
    delayAfter: Type.Integer({
      minimum: 1,
      default: 5,
      description: 'Failures before each further one is delayed.',
    }),
    delay: Duration('Delay of the first delayed failure; it doubles per failure.', '250ms'),
    maxDelay: Duration('Longest delay of one failure.', '4s'),
    lockoutAfter: Type.Integer({
      minimum: 1,
      default: 20,
      description: 'Failures (per client IP or per credential id) that lock it out.',
    }),
    lockout: Duration('How long a lockout lasts; requests get 429 with `Retry-After`.', '15m'),
    loginOperations: Type.Array(
      Strict({
        api: Type.String({ minLength: 1, description: 'API name.' }),
        operationId: Type.String({ minLength: 1, description: 'The login operation.' }),
        usernameField: Type.String({
          minLength: 1,
          default: 'username',
          description:
            'JSON or form field holding the username; a 401/403 from the upstream counts as a failure for it.',
        }),
      }),
      { default: [], description: 'Login operations whose failed answers count per username.' },
    ),
  },
  { default: {}, description: 'Brute-force protection, counted in the state store.' },
);

const IdentityHeaders = Strict(
  {
    strip: Type.Array(Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }), {
      default: ['x-user-id', 'x-user-scopes', 'x-principal-id', 'x-principal-kind', 'x-authenticated-user'],
      description:
        'Client-sent headers removed before the upstream sees them (any case, and `_` spelled for `-`). Every injected header is stripped too.',
    }),
    inject: Type.Record(
      Type.String({ pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" }),
      Type.String({
        pattern: '^(id|kind|scheme|scopes|claims\\.[A-Za-z0-9_.:-]+|attributes\\.[A-Za-z0-9_.:-]+)$',
      }),
      {
        additionalProperties: false,
        default: { 'x-principal-id': 'id', 'x-principal-kind': 'kind' },
        description:
          'Header → principal field (`id`, `kind`, `scheme`, `scopes`, `claims.NAME`, `attributes.NAME`) sent upstream for verified callers.',
      },
    ),
  },
  {
    default: {},
    description: 'Identity passed upstream: spoofable client headers out, the verified principal in.',
  },
);

export const AuthnConfig = Strict(
  {
    schemes: Type.Record(Type.String({ pattern: '^[A-Za-z0-9._-]+$' }), SchemeConfig, {
      additionalProperties: false,
      default: {},
      description:
        'Verifier per OpenAPI security scheme name (shared by every API whose document uses that name).',
    }),
    keyStore: Type.Optional(KeyStore),
    bruteForce: BruteForce,
    identityHeaders: IdentityHeaders,
  },
  { default: {}, description: 'Identity: how each OpenAPI security scheme is verified.' },
);

export const ApiAuthnConfig = Strict(
  {
    allowAnonymous: Type.Boolean({
      default: false,
      description:
        'Serve operations that declare no security requirement to anonymous callers. Off: they are refused (401) and reported by `check`.',
    }),
    mode: StringEnum(
      ['enforce', 'shadow'] as const,
      'Shadow: verify and record, but let failures through.',
      'enforce',
    ),
  },
  { default: {}, description: "This API's identity settings." },
);
