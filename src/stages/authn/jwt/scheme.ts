import { resolve } from 'node:path';
import type { Static } from '@sinclair/typebox';
import { readReferenced } from '../../../config/files.ts';
import type { Finding } from '../../../config/gateway.ts';
import { resolveSecret } from '../../../config/secrets.ts';
import { parseDuration, parseSize } from '../../../config/units.ts';
import { fieldPath } from '../../../config/validate.ts';
import type { YamlSource } from '../../../config/yaml-source.ts';
import type { Principal, RequestContext } from '../../../core/context.ts';
import { configError } from '../../../core/errors.ts';
import { reportDependencyError } from '../../../observe/logger.ts';
import { singleHeader } from '../credentials.ts';
import type { JwtScheme } from '../schema.ts';
import { ABSENT, fail, type Verdict, type Verifier } from '../verifier.ts';
import { JwksCache } from './jwks.ts';
import { checkJwtOptions, createJwtVerifier } from './verifier.ts';

export interface SchemeContext {
  readonly source: YamlSource;
  readonly at: (string | number)[];
  readonly dir: string;
  readonly findings: Finding[];
}

const LOOPBACK = /^https?:\/\/(127\.[0-9.]+|localhost|\[::1\])(:[0-9]+)?\//i;

/**
 * A bearer-JWT scheme (`http bearer`, `oauth2`, `openIdConnect`): the token comes from
 * `Authorization: Bearer`, is verified by the JWT engine against the issuer's keys (JWKS or
 * OIDC discovery) or an HMAC secret, and becomes a principal with its scopes and claims.
 */
export function createJwtScheme(
  name: string,
  config: Static<typeof JwtScheme>,
  openIdConnectUrl: string | undefined,
  sc: SchemeContext,
): Verifier {
  const { source, at } = sc;
  const problem = (field: string, message: string) =>
    configError('RAMPART_ERR_CONFIG_SCHEMA', {
      location: source.locate([...at, field]),
      field: fieldPath([...at, field]),
      message,
    });
  const hmac = config.algorithms.some((a) => a.startsWith('HS'));
  const discovery = config.discovery ?? (hmac || config.jwksUri ? undefined : openIdConnectUrl);
  // (Mixed HS* and public-key algorithms are refused below as algorithm confusion.)
  if (config.algorithms.every((a) => a.startsWith('HS')) && (config.jwksUri || config.discovery)) {
    throw problem(
      config.jwksUri ? 'jwksUri' : 'discovery',
      'HS* algorithms verify with `secret`: a key set URL would be ignored; remove it, or use public-key algorithms',
    );
  }
  if (config.jwksUri && config.discovery) {
    throw problem('jwksUri', 'set `jwksUri` or `discovery`, not both');
  }
  if (!hmac && !config.jwksUri && !discovery) {
    throw problem(
      'issuers',
      'no signing keys: set `jwksUri` or `discovery` (or `openIdConnectUrl` in the OpenAPI scheme), or `secret` with HS* algorithms',
    );
  }
  const secret = config.secret
    ? resolveSecret(config.secret, sc.dir, fieldPath([...at, 'secret']), source.locate([...at, 'secret']))
    : undefined;
  const jwksUrl = config.jwksUri ?? discovery;
  if (jwksUrl && !hmac && jwksUrl.startsWith('http://') && !LOOPBACK.test(jwksUrl)) {
    sc.findings.push({
      id: 'jwks-over-http',
      severity: 'high',
      message: `${name}: signing keys are fetched over plain HTTP (${jwksUrl}); anyone on the path can substitute them`,
      location: source.locate([...at, config.jwksUri ? 'jwksUri' : 'discovery']),
    });
  }
  const j = config.jwks;
  const keys = hmac
    ? undefined
    : new JwksCache({
        jwksUri: config.jwksUri,
        discoveryUrl: config.jwksUri ? undefined : discovery,
        issuers: config.issuers,
        refreshIntervalMs: parseDuration(j.refreshInterval),
        cooldownMs: parseDuration(j.cooldown),
        maxStaleMs: parseDuration(j.maxStale),
        timeoutMs: parseDuration(j.timeout),
        ca: j.ca ? readReferenced(resolve(sc.dir, j.ca), source, [...at, 'jwks', 'ca']) : undefined,
        onError: (err) => reportDependencyError(err, `${name}: signing keys from ${jwksUrl}`),
      });
  const options = {
    issuers: config.issuers,
    audiences: config.audiences,
    algorithms: config.algorithms,
    clockSkewMs: parseDuration(config.clockSkew),
    requiredClaims: config.requiredClaims,
    types: config.types,
    requireType: config.requireType,
    maxTokenBytes: parseSize(config.maxTokenSize),
    principalClaim: config.principalClaim,
    hmacSecret: secret?.reveal(),
    keys,
  };
  const invalid = checkJwtOptions(options);
  if (invalid !== null) throw problem(secret ? 'secret' : 'algorithms', invalid);
  const engine = createJwtVerifier(options);

  return {
    scheme: name,
    kind: 'jwt',
    summary: `${name}: JWT from ${config.issuers.join(', ')} (${config.algorithms.join(', ')}; ${hmac ? 'HMAC secret' : `keys ${jwksUrl}`})`,
    challenge: 'Bearer',
    async verify(ctx: RequestContext): Promise<Verdict> {
      const token = bearerToken(ctx.rawHeaders);
      if (token === null) return ABSENT;
      if (token === false)
        return fail('token_malformed', 'more than one Authorization header, or a malformed Bearer value');
      const verdict = await engine.verify(token);
      if (!verdict.ok) {
        if (verdict.subject !== undefined) ctx.credentialId = `sub:${verdict.subject}`;
        return fail(
          verdict.reason,
          `${name}: ${verdict.detail}`,
          verdict.subject && `sub:${verdict.subject}`,
        );
      }
      ctx.credentialId = `sub:${verdict.subject}`;
      const principal: Principal = Object.freeze({
        id: verdict.subject,
        kind: 'jwt',
        scheme: name,
        scopes: Object.freeze(verdict.scopes),
        attributes: Object.freeze({ issuer: verdict.claims.iss, claims: verdict.claims }),
      });
      return { ok: true, principal };
    },
    start() {
      keys?.start();
    },
    close() {
      keys?.close();
    },
  };
}

/**
 * The token of the one `Authorization: Bearer` header: null when there is no bearer
 * credential (absent for this scheme), false when it is ambiguous (two Authorization lines: a
 * proxy and an upstream could each read a different one) or empty.
 */
export function bearerToken(rawHeaders: readonly string[]): string | null | false {
  const value = singleHeader(rawHeaders, 'authorization');
  if (value === false) return false;
  if (value === undefined) return null;
  if (value.toLowerCase() === 'bearer') return false; // the HTTP parser trims `Bearer   ` to `Bearer`
  if (!/^bearer[ \t]/i.test(value)) return null; // a tab too: an upstream splitting on whitespace reads a token there
  const token = value.slice(7).trim();
  return token === '' ? false : token;
}
