import { errors, type JWTVerifyGetKey, jwtVerify } from 'jose';
import type { ReasonCode } from '../../../core/reasons.ts';
import { type JwksCache, JwksKeyUnknownError, JwksUnavailableError } from './jwks.ts';
import { splitToken } from './token.ts';

export interface JwtVerifierOptions {
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  /** The `alg` allowlist. Either all HS* (with `hmacSecret`) or all public-key (with `keys`). */
  readonly algorithms: readonly string[];
  readonly clockSkewMs: number;
  readonly requiredClaims: readonly string[];
  readonly types: readonly string[];
  readonly requireType: boolean;
  readonly maxTokenBytes: number;
  readonly principalClaim: string;
  /** HMAC key (HS* only); then `keys` is undefined. */
  readonly hmacSecret?: string | undefined;
  /** The issuer's public keys (asymmetric algorithms). */
  readonly keys?: JwksCache | undefined;
  /** Clock in milliseconds since the epoch, like `Date.now` (the default). */
  readonly now?: () => number;
}

export type JwtVerdict =
  | {
      readonly ok: true;
      readonly subject: string;
      readonly claims: Record<string, unknown>;
      readonly header: Record<string, unknown>;
      readonly scopes: string[];
    }
  | {
      readonly ok: false;
      readonly reason: ReasonCode;
      /** For operators: names the cause, never contains the token. */
      readonly detail: string;
      /** The principal claim, only when the signature verified (e.g. an expired token). */
      readonly subject?: string;
    };

export interface JwtVerifier {
  /** Never throws: every failure is a verdict. */
  verify(token: string): Promise<JwtVerdict>;
  start(): void;
  close(): void;
  readonly summary: string;
}

const HMAC_ALGORITHMS = new Set(['HS256', 'HS384', 'HS512']);
const PUBLIC_KEY_ALGORITHMS = new Set([
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
]);
const MAX_SKEW_MS = 5 * 60_000;

/** A problem with the options (for a config error), or null. `createJwtVerifier` refuses them too. */
export function checkJwtOptions(options: JwtVerifierOptions): string | null {
  const { algorithms, hmacSecret, keys } = options;
  const unknown = algorithms.find((a) => !HMAC_ALGORITHMS.has(a) && !PUBLIC_KEY_ALGORITHMS.has(a));
  if (algorithms.length === 0) return 'no algorithm is allowed';
  if (unknown !== undefined) return `algorithm ${JSON.stringify(unknown)} is not supported`;
  const hmac = algorithms.filter((a) => HMAC_ALGORITHMS.has(a));
  // Algorithm confusion (CVE-2015-9235 and kin): with both kinds allowed, a token claiming HS256
  // could be checked against the RSA public key used as an HMAC secret, and anyone has that key.
  if (hmac.length > 0 && hmac.length < algorithms.length) {
    return 'HS* algorithms cannot be mixed with public-key algorithms (algorithm confusion)';
  }
  if (hmac.length > 0) {
    if (keys !== undefined) return 'HS* algorithms verify with a secret, not a key set';
    if (hmacSecret === undefined) return 'HS* algorithms need a secret';
    // RFC 7518 §3.2: a key at least as long as the hash output (32 bytes for HS256, 64 for HS512).
    const need = Math.max(...hmac.map((a) => Number(a.slice(2)) / 8));
    if (Buffer.byteLength(hmacSecret) < need) return `the HMAC secret must be at least ${need} bytes`;
  } else {
    if (hmacSecret !== undefined) return 'a secret is only used with HS* algorithms';
    if (keys === undefined) return 'public-key algorithms need a key set (jwksUri or discovery)';
  }
  if (!(options.clockSkewMs >= 0 && options.clockSkewMs <= MAX_SKEW_MS))
    return 'clock skew must be at most 5m';
  if (options.issuers.length === 0 || options.audiences.length === 0)
    return 'issuers and audiences are required';
  if (!(options.maxTokenBytes > 0)) return 'the token size limit must be positive';
  return null;
}

/**
 * The JWT engine: structure first (token.ts), then the `alg` allowlist and `typ`, then jose for
 * the signature and the registered claims (RFC 7519 §4.1), then what jose leaves to the caller
 * (`iat` in the future, the principal claim, scopes).
 */
export function createJwtVerifier(options: JwtVerifierOptions): JwtVerifier {
  const problem = checkJwtOptions(options);
  if (problem !== null) throw new TypeError(`createJwtVerifier: ${problem}`);
  const { issuers, audiences, keys, principalClaim, maxTokenBytes } = options;
  const now = options.now ?? Date.now;
  const algorithms = [...options.algorithms];
  const allowed = new Set(algorithms);
  const types = new Set(options.types.map(normalizeTyp));
  const skewSeconds = options.clockSkewMs / 1000;
  const key: Uint8Array | JWTVerifyGetKey =
    options.hmacSecret !== undefined ? new TextEncoder().encode(options.hmacSecret) : keys!.getKey;
  const base = {
    issuer: [...issuers],
    audience: [...audiences],
    algorithms,
    clockTolerance: skewSeconds,
    requiredClaims: [...options.requiredClaims],
  };
  const subjectOf = (claims: Record<string, unknown>): string | undefined => {
    const value = claims[principalClaim];
    return typeof value === 'string' && value !== '' ? value : undefined;
  };

  /** jose's errors (and the key set's) to reason codes; `subject` only from a verified payload. */
  const refusal = (err: unknown, nowSeconds: number): JwtVerdict => {
    if (err instanceof JwksUnavailableError) return refuse('jwks_unavailable', err.message);
    if (err instanceof JwksKeyUnknownError) return refuse('token_key_unknown', err.message);
    if (!(err instanceof errors.JOSEError)) return refuse('token_malformed', describe(err));
    if (err instanceof errors.JWTExpired) {
      const exp = Number(err.payload.exp);
      return refuse('token_expired', `expired ${Math.round(nowSeconds - exp)}s ago`, subjectOf(err.payload));
    }
    if (err instanceof errors.JWTClaimValidationFailed) {
      const { claim, reason, payload } = err;
      const subject = subjectOf(payload);
      if (reason === 'check_failed' && (claim === 'nbf' || claim === 'iat')) {
        const inSeconds = Math.round(Number(payload[claim]) - nowSeconds);
        return refuse('token_not_yet_valid', `${claim} is ${inSeconds}s in the future`, subject);
      }
      if (reason === 'missing') {
        return refuse('token_claims_invalid', `required claim "${claim}" missing`, subject);
      }
      if (claim === 'iss' || claim === 'aud') {
        const want = (claim === 'iss' ? issuers : audiences).join(', ');
        return refuse(
          'token_claims_invalid',
          `${claim} ${show(payload[claim])} not accepted (want ${want})`,
          subject,
        );
      }
      return refuse('token_claims_invalid', `claim "${claim}": ${err.message}`, subject);
    }
    switch (err.code) {
      case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
        return refuse('token_signature_invalid', 'signature does not verify');
      case 'ERR_JOSE_ALG_NOT_ALLOWED':
        return refuse('token_signature_invalid', err.message);
      case 'ERR_JWKS_NO_MATCHING_KEY':
        return refuse('token_key_unknown', 'no key in the key set matches the token alg and kid');
      case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
        return refuse('token_key_unknown', 'several keys match the token alg and kid');
      default:
        return refuse('token_malformed', `${err.code}: ${err.message}`);
    }
  };

  const verify = async (token: string): Promise<JwtVerdict> => {
    const split = splitToken(token, maxTokenBytes);
    if (!split.ok) return refuse(split.reason, split.detail);
    const { header } = split;
    const alg = header.alg as string;
    // Checked before any key lookup: a token must not choose how it is verified (RFC 8725 §3.1).
    if (!allowed.has(alg)) {
      return refuse(
        'token_signature_invalid',
        `alg ${show(alg)} not accepted (want ${algorithms.join(', ')})`,
      );
    }
    // RFC 8725 §3.11: explicit typing keeps e.g. an ID token or a logout token from being used as an access token.
    const { typ } = header;
    if (typ === undefined ? options.requireType : typeof typ !== 'string' || !types.has(normalizeTyp(typ))) {
      const detail = typ === undefined ? 'typ missing' : `typ ${show(typ)} not accepted`;
      return refuse('token_claims_invalid', `${detail} (want ${options.types.join(', ')})`);
    }

    const nowMs = now();
    const nowSeconds = Math.floor(nowMs / 1000);
    let verified: Awaited<ReturnType<typeof jwtVerify>>;
    try {
      verified = await jwtVerify(token, key, { ...base, currentDate: new Date(nowMs) });
    } catch (err) {
      return refusal(err, nowSeconds);
    }
    const claims = verified.payload as Record<string, unknown>;
    const subject = subjectOf(claims);
    // jose checks `iat` only with maxTokenAge; a token issued in the future is a clock or forgery problem.
    if (typeof claims.iat === 'number' && claims.iat > nowSeconds + skewSeconds) {
      return refuse(
        'token_not_yet_valid',
        `iat is ${Math.round(claims.iat - nowSeconds)}s in the future`,
        subject,
      );
    }
    if (subject === undefined) {
      return refuse('token_claims_invalid', `claim "${principalClaim}" is not a non-empty string`);
    }
    return {
      ok: true,
      subject,
      claims,
      header: verified.protectedHeader as Record<string, unknown>,
      scopes: scopesOf(claims),
    };
  };

  return {
    async verify(token) {
      try {
        return await verify(token);
      } catch (err) {
        return refuse('token_malformed', describe(err)); // a bug or a jose surprise: still a denial
      }
    },
    start: () => keys?.start(),
    close: () => keys?.close(),
    summary: `JWT from ${issuers.join(', ')} for ${audiences.join(', ')} (${algorithms.join(', ')}; ${
      keys ? `keys ${keys.source}` : 'HMAC secret'
    })`,
  };
}

/** RFC 8725 §3.11 / RFC 9068 §2.1: `at+jwt` and `application/at+jwt` are the same type. */
function normalizeTyp(typ: string): string {
  const lower = typ.toLowerCase();
  return lower.startsWith('application/') ? lower.slice('application/'.length) : lower;
}

/**
 * RFC 8693 §4.2 `scope` (space-separated) and the common `scp` (a string or an array). Entries
 * of other types are dropped: a scope only ever grants, so dropping one fails closed.
 */
function scopesOf(claims: Record<string, unknown>): string[] {
  const scopes = new Set<string>();
  const split = (value: unknown) => {
    if (typeof value === 'string') for (const s of value.split(' ')) if (s !== '') scopes.add(s);
  };
  split(claims.scope);
  if (Array.isArray(claims.scp)) {
    for (const s of claims.scp) if (typeof s === 'string' && s !== '') scopes.add(s);
  } else split(claims.scp);
  return [...scopes];
}

function refuse(reason: ReasonCode, detail: string, subject?: string): JwtVerdict {
  return subject === undefined ? { ok: false, reason, detail } : { ok: false, reason, detail, subject };
}

/** A token-supplied value for a log line: JSON, and short. */
function show(value: unknown): string {
  const text = JSON.stringify(value) ?? String(value);
  return text.length > 80 ? `${text.slice(0, 80)}…` : text;
}

function describe(err: unknown): string {
  return err instanceof Error ? `${err.name}: ${err.message}` : String(err);
}
