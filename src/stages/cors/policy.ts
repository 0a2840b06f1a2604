import type { Static } from '@sinclair/typebox';
import type { Finding } from '../../config/gateway.ts';
import { parseDuration } from '../../config/units.ts';
import { fieldPath } from '../../config/validate.ts';
import type { YamlSource } from '../../config/yaml-source.ts';
import { configError } from '../../core/errors.ts';
import type { StageMode } from '../../core/stage.ts';
import type { OpenApiDocument, OpenApiOperation, SecuritySchemeObject } from '../../openapi/document.ts';
import { type OriginRule, parseOriginRule } from './engine/origin.ts';
import type { CorsConfig } from './schema.ts';

export type CorsConfigT = Static<typeof CorsConfig>;

/** What every path of an API shares: the origins, credentials, max-age and mode. */
export interface CorsOrigins {
  readonly rules: readonly OriginRule[];
  /** Canonical exact origins, for the common case: one Set lookup. */
  readonly exact: ReadonlySet<string>;
  /** `*` is configured (and credentials are not): the answer is the literal `*`. */
  readonly any: boolean;
  readonly credentials: boolean;
  /** `Access-Control-Max-Age`, in seconds. */
  readonly maxAge: string;
  readonly mode: StageMode;
  readonly summary: string;
}

/** The CORS policy of one path template of an API. */
export interface CorsPolicy extends CorsOrigins {
  readonly methods: ReadonlySet<string>;
  readonly allowMethods: string;
  /** Lowercase request header names a preflight may ask for. */
  readonly headers: ReadonlySet<string>;
  readonly allowHeaders: string;
  /** `Access-Control-Expose-Headers`, or '' for none. */
  readonly exposeHeaders: string;
  /** The methods the path declares, for the `Allow` of a 405 in shadow mode. */
  readonly declared: string;
}

/**
 * CORS-safelisted request headers (Fetch §2.2.2): browsers may still list them in
 * `Access-Control-Request-Headers` (a value outside the safelist), and allowing them exposes
 * nothing. `content-type` is not here: a JSON body needs it allowed, and it is derived.
 */
const SAFELISTED = ['accept', 'accept-language', 'content-language'];

/** Request headers SigV4 signs besides `Authorization` (a browser client must be allowed to send them). */
const SIGV4_HEADERS = ['authorization', 'x-amz-date', 'x-amz-content-sha256', 'x-amz-security-token'];

const MAX_AGE_LIMIT_MS = 24 * 3_600_000;

/** Compile and check the API-wide part: a bad origin or `*` with credentials stops the load. */
export function compileCorsOrigins(
  apiName: string,
  cors: CorsConfigT,
  source: YamlSource,
  findings: Finding[],
): CorsOrigins {
  const at = ['apis', apiName, 'cors'];
  const rules: OriginRule[] = [];
  const exact = new Set<string>();
  cors.allowOrigins.forEach((text, i) => {
    const parsed = parseOriginRule(text);
    if (!parsed.ok) {
      const where = [...at, 'allowOrigins', i];
      throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
        location: source.locate(where),
        field: fieldPath(where),
        message: `${JSON.stringify(text)} ${parsed.reason}`,
      });
    }
    rules.push(parsed.rule);
    if (parsed.rule.kind === 'exact') exact.add(parsed.rule.origin);
    if (cors.allowCredentials && insecure(parsed.rule)) {
      findings.push({
        id: 'cors-credentials-insecure-origin',
        severity: 'high',
        message: `apis.${apiName}.cors allows credentials for ${text}, a plain-HTTP origin: anyone on its network path can run script as that origin and read your users' responses (use https://, or keep http:// to localhost)`,
        location: source.locate([...at, 'allowOrigins', i]),
      });
    }
  });
  const any = rules.some((r) => r.kind === 'any');
  if (any && cors.allowCredentials) {
    const where = [...at, 'allowCredentials'];
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(where),
      field: fieldPath(where),
      message:
        'cannot be true with "*" in allowOrigins: every site on the web could make credentialed requests and read the answers; list the origins instead',
    });
  }
  const maxAgeMs = parseDuration(cors.maxAge);
  if (maxAgeMs > MAX_AGE_LIMIT_MS) {
    const where = [...at, 'maxAge'];
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate(where),
      field: fieldPath(where),
      message: 'must be at most 24h (browsers cap it: Firefox at 24h, Chromium at 2h)',
    });
  }
  return {
    rules,
    exact,
    any,
    credentials: cors.allowCredentials,
    maxAge: String(Math.floor(maxAgeMs / 1000)),
    mode: cors.mode,
    summary: `origins ${cors.allowOrigins.join(' ')}${cors.allowCredentials ? ', credentials' : ''}, max-age ${cors.maxAge}`,
  };
}

const LOOPBACK = /^(localhost|127\.\d+\.\d+\.\d+|\[::1\])$/;

function insecure(rule: OriginRule): boolean {
  if (rule.kind === 'label') return rule.scheme === 'http';
  if (rule.kind !== 'exact' || !rule.origin.startsWith('http://')) return false;
  const host = rule.origin.slice(7).replace(/:\d+$/, '');
  return !LOOPBACK.test(host);
}

/**
 * The policy of one path: methods and headers derived from what the OpenAPI document declares
 * there, so a browser is allowed exactly what the contract lets any client send — unless the
 * config overrides them (methods may only narrow).
 */
export function corsPolicyFor(
  origins: CorsOrigins,
  cors: CorsConfigT,
  doc: OpenApiDocument,
  path: string,
): CorsPolicy {
  const ops = doc.operations.filter((o) => o.path === path);
  const declared = ops.map((o) => o.method);
  const methods = cors.allowMethods ? declared.filter((m) => cors.allowMethods!.includes(m)) : declared;
  const headers = new Set<string>(SAFELISTED);
  const derived = cors.allowHeaders === undefined;
  if (derived) {
    for (const name of derivedRequestHeaders(doc, path, ops)) headers.add(name);
  } else {
    for (const name of cors.allowHeaders!) headers.add(name.toLowerCase());
  }
  const expose = cors.exposeHeaders?.map((h) => h.toLowerCase()) ?? declaredResponseHeaders(ops);
  const sortedMethods = [...new Set(methods)].sort();
  return {
    ...origins,
    methods: new Set(sortedMethods),
    allowMethods: sortedMethods.join(', '),
    headers,
    allowHeaders: [...headers].sort().join(', '),
    exposeHeaders: [...new Set(expose)].sort().join(', '),
    declared: [...new Set(declared)].sort().join(', '),
  };
}

function derivedRequestHeaders(
  doc: OpenApiDocument,
  path: string,
  ops: readonly OpenApiOperation[],
): string[] {
  const out: string[] = [];
  const item = (doc.document.paths as Record<string, Record<string, unknown>> | undefined)?.[path];
  const addParams = (params: unknown) => {
    if (!Array.isArray(params)) return;
    for (const p of params as { in?: unknown; name?: unknown }[]) {
      if (p?.in === 'header' && typeof p.name === 'string') out.push(p.name.toLowerCase());
    }
  };
  addParams(item?.parameters);
  for (const op of ops) {
    addParams(op.operation.parameters);
    if (op.operation.requestBody !== undefined) out.push('content-type');
    for (const requirement of op.security ?? []) {
      for (const name of Object.keys(requirement)) {
        const scheme = Object.hasOwn(doc.securitySchemes, name) ? doc.securitySchemes[name] : undefined;
        if (scheme) out.push(...schemeHeaders(scheme));
      }
    }
  }
  return out;
}

/** The request headers a client sends for a security scheme (none for cookies, query keys, mTLS). */
function schemeHeaders(scheme: SecuritySchemeObject): string[] {
  switch (scheme.type) {
    case 'http':
    case 'oauth2':
    case 'openIdConnect':
      return ['authorization'];
    case 'apiKey':
      if (scheme['x-amazon-apigateway-authtype']?.toLowerCase() === 'awssigv4') return SIGV4_HEADERS;
      return scheme.in === 'header' && typeof scheme.name === 'string' ? [scheme.name.toLowerCase()] : [];
    default:
      return [];
  }
}

/** Response headers the operations declare (`responses.<code>.headers`): what browser code may want to read. */
function declaredResponseHeaders(ops: readonly OpenApiOperation[]): string[] {
  const out: string[] = [];
  for (const op of ops) {
    const responses = (op.operation.responses ?? {}) as Record<string, { headers?: Record<string, unknown> }>;
    for (const response of Object.values(responses)) {
      for (const name of Object.keys(response?.headers ?? {})) {
        // Content-Type is described by `content`, never exposed as a header (OpenAPI 3 §4.8.17).
        if (name.toLowerCase() !== 'content-type') out.push(name.toLowerCase());
      }
    }
  }
  return out;
}
