import { setTimeout as sleep } from 'node:timers/promises';
import type { Principal, RequestContext, ResponseHead } from '../../core/context.ts';
import { BodyTooLargeError } from '../../core/context.ts';
import { CONTINUE, type Outcome, type Reply, reply } from '../../core/outcome.ts';
import { REASONS } from '../../core/reasons.ts';
import type { Stage, StageMode } from '../../core/stage.ts';
import { reportInternalError } from '../../observe/logger.ts';
import { StoreUnavailableError } from '../../store/store.ts';
import type { BruteForceGuard } from './brute-force.ts';
import type { Failure, Verdict, Verifier, VerifyContext } from './verifier.ts';

type Requirement = Readonly<Record<string, unknown>>;

/**
 * Whether an operation's security requirements (OpenAPI: an OR of AND-sets) demand a
 * credential: only an explicit empty requirement `{}` admits anonymous callers. `undefined`
 * and `[]` declare nothing (a posture finding; see `createUndeclaredStage`).
 */
export function requiresCredentials(security: readonly Requirement[] | undefined): boolean {
  if (security === undefined || security.length === 0) return false;
  return !security.some((requirement) => Object.keys(requirement).length === 0);
}

/** Scheme names of every requirement, for messages: `[{a: [], b: []}, {c: []}]` → `a+b, c`. */
export function schemeNames(security: readonly Requirement[]): string[] {
  return security.map((requirement) => Object.keys(requirement).join('+') || '{}');
}

/** One scheme of an AND-set, with the scopes the operation requires of it. */
export interface SchemeRequirement {
  readonly verifier: Verifier;
  readonly scopes: readonly string[];
}

export interface AuthnStageOptions {
  /** The operation's requirements: any one AND-set must be met entirely. */
  readonly requirements: readonly (readonly SchemeRequirement[])[];
  /** An empty requirement `{}` is among them: a request without any credential is served. */
  readonly anonymous: boolean;
  readonly mode: StageMode;
  readonly guard: BruteForceGuard | null;
  /** A login operation: the username is read from this body field, and a 401/403 answer counts. */
  readonly loginField: string | null;
  readonly operation: VerifyContext;
}

/**
 * The `authn` stage: turns the request into a verified principal, or refuses it.
 *
 * - The first AND-set whose every scheme verifies (with its required scopes) wins; its first
 *   scheme's principal is the request's, the others are recorded as `factors`.
 * - A credential that is presented and refused is never silently ignored, even where `{}`
 *   would admit an anonymous caller: a bad token is a signal, not an absence.
 * - Failures are counted per client IP and per credential id; past a threshold the 401 is
 *   delayed, then the IP or credential is locked out (429 with `Retry-After`).
 */
export function createAuthnStage(options: AuthnStageOptions): Stage {
  const { requirements, anonymous, guard, loginField, operation } = options;
  const verifiers = [...new Set(requirements.flatMap((set) => set.map((r) => r.verifier)))];
  const needsBody = loginField !== null || verifiers.some((v) => v.needsBody === true);
  const challenge = [...new Set(verifiers.map((v) => v.challenge).filter((c) => c !== undefined))].join(', ');
  const described = requirements
    .map((set) =>
      set
        .map((r) => (r.scopes.length ? `${r.verifier.scheme}[${r.scopes.join(' ')}]` : r.verifier.scheme))
        .join('+'),
    )
    .join(' or ');

  const stage: Stage = {
    name: 'authn',
    mode: options.mode,
    summary: `requires ${described}${anonymous ? ' or anonymous' : ''} (${verifiers.map((v) => v.summary).join('; ')})${guard ? '; brute-force guard' : ''}${loginField ? `; login (username field ${loginField})` : ''}`,
    async request(ctx: RequestContext): Promise<Outcome> {
      try {
        return await authenticate(ctx);
      } catch (err) {
        // Lockouts and replay guards live in the state store: unable to read them, the gateway
        // cannot tell a locked-out or replayed credential from a good one, so it refuses.
        if (!(err instanceof StoreUnavailableError)) throw err;
        return reply(503, 'store_unavailable', { detail: err.message, headers: { 'retry-after': '1' } });
      }
    },
  };
  const authenticate = async (ctx: RequestContext): Promise<Outcome> => {
    const ip = ctx.client!.ip;
    // A locked-out client is refused before anything is read or verified for it.
    if (guard !== null) {
      const locked = await guard.ipLockedFor(ip);
      if (locked > 0) return lockedOut(locked, `client ${ip} locked out`);
    }
    if (needsBody) {
      let body: Buffer;
      try {
        body = await ctx.readBody();
      } catch (err) {
        if (err instanceof BodyTooLargeError) {
          return reply(413, 'body_too_large', { detail: err.message, headers: { connection: 'close' } });
        }
        // The client went away mid-body: nothing to verify, nobody to answer.
        return reply(499, 'client_aborted', { detail: (err as Error).message });
      }
      if (loginField !== null) {
        ctx.credentialId = usernameOf(body, ctx.headers['content-type'], loginField);
        // The username is known before the upstream is asked: a locked-out user is refused here.
        if (guard !== null && ctx.credentialId !== null) {
          const locked = await guard.credentialLockedFor(ctx.credentialId);
          if (locked > 0) return lockedOut(locked, `${ctx.credentialId} locked out`);
        }
      }
    }
    const result = await evaluate(ctx, requirements, operation);
    if (guard !== null && loginField === null) {
      // A locked-out credential is refused alike whether this guess was right or wrong:
      // answering a right guess differently would tell the guesser it was right.
      const credentialId = result.ok ? ctx.credentialId : (result.failure?.credentialId ?? ctx.credentialId);
      if (credentialId !== null) {
        const locked = await guard.credentialLockedFor(credentialId);
        if (locked > 0) return lockedOut(locked, `credential ${credentialId} locked out`);
      }
    }
    if (result.ok) {
      const credentialId = ctx.credentialId;
      if (guard !== null && (await guard.failures(ip, credentialId)) > 0)
        await guard.succeed(ip, credentialId);
      ctx.principal = result.principal;
      return CONTINUE;
    }
    if (result.failure === null) {
      if (anonymous) return CONTINUE;
      return reply(401, 'unauthenticated', {
        detail: `no credential for ${described}`,
        headers: challenge ? { 'www-authenticate': challenge } : undefined,
      });
    }
    const failure = result.failure;
    if (failure.reason === 'insufficient_scope') {
      return reply(403, 'insufficient_scope', {
        detail: failure.detail,
        // RFC 6750 §3.1: the client learns it needs more scope, not which.
        headers: challenge.includes('Bearer')
          ? { 'www-authenticate': 'Bearer error="insufficient_scope"' }
          : undefined,
      });
    }
    const refusal = reply(REASONS[failure.reason].status || 401, failure.reason, {
      detail: failure.detail,
      headers:
        challenge && failure.reason !== 'authorizer_unavailable'
          ? { 'www-authenticate': challenge }
          : undefined,
    });
    if (guard === null || GATEWAY_TROUBLE.has(failure.reason)) {
      // The gateway's own trouble is not the client's failure: it must not lock anyone out.
      return refusal;
    }
    return countFailure(guard, ctx, ip, failure.credentialId ?? ctx.credentialId, refusal, options.mode);
  };
  if (loginField !== null && guard !== null) {
    stage.response = (ctx: RequestContext, head: ResponseHead): Reply | undefined => {
      if (head.origin !== 'upstream') return undefined;
      const ip = ctx.client!.ip;
      if (head.status === 401 || head.status === 403) {
        guard
          .fail(ip, ctx.credentialId)
          .catch((err) => reportInternalError(err, ctx.id, 'authn brute-force count'));
      } else if (head.status < 300 && ctx.credentialId !== null) {
        guard
          .succeed(ip, ctx.credentialId)
          .catch((err) => reportInternalError(err, ctx.id, 'authn brute-force reset'));
      }
      return undefined;
    };
  }
  return stage;
}

/** Refusals caused by the gateway's own dependencies, not by the client's credential. */
const GATEWAY_TROUBLE = new Set([
  'authorizer_unavailable',
  'jwks_unavailable',
  'key_store_unavailable',
  'internal_error',
]);

function lockedOut(ms: number, detail: string): Reply {
  return reply(429, 'auth_locked_out', { detail, headers: { 'retry-after': String(Math.ceil(ms / 1000)) } });
}

async function countFailure(
  guard: BruteForceGuard,
  ctx: RequestContext,
  ip: string,
  credentialId: string | null,
  refusal: Reply,
  mode: StageMode,
): Promise<Reply> {
  const counted = await guard.fail(ip, credentialId);
  if (counted.lockedOut) {
    return reply(refusal.status, refusal.reason, {
      detail: `${refusal.detail}; lockout after ${counted.failures} failures${credentialId ? ` (credential ${credentialId})` : ''}`,
      headers: refusal.headers,
    });
  }
  // Shadow mode rehearses: it records the failure but must not slow live traffic down.
  if (counted.delayMs > 0 && mode === 'enforce' && !ctx.aborted) await sleep(counted.delayMs);
  return refusal;
}

type Evaluation = { ok: true; principal: Principal } | { ok: false; failure: Failure | null };

/**
 * OR of AND-sets. Each scheme is verified at most once per request even when several sets name
 * it. Returns the first set met entirely, or the most telling failure: a refused credential
 * (in requirement order) over a missing scope over an absent credential.
 */
async function evaluate(
  ctx: RequestContext,
  requirements: readonly (readonly SchemeRequirement[])[],
  operation: VerifyContext,
): Promise<Evaluation> {
  const verdicts = new Map<Verifier, Verdict>();
  let refused: Failure | null = null;
  let scopeFailure: Failure | null = null;
  for (const set of requirements) {
    const principals: Principal[] = [];
    for (const { verifier, scopes } of set) {
      let verdict = verdicts.get(verifier);
      if (verdict === undefined) {
        try {
          verdict = await verifier.verify(ctx, operation);
        } catch (err) {
          if (err instanceof StoreUnavailableError) throw err;
          // A verifier that throws is a bug; the request is denied, never let through.
          reportInternalError(err, ctx.id, `authn scheme ${verifier.scheme}`);
          verdict = {
            ok: false,
            absent: false,
            reason: 'internal_error',
            detail: `verifier ${verifier.scheme} failed`,
          };
        }
        verdicts.set(verifier, verdict);
      }
      if (!verdict.ok) {
        if (!verdict.absent && refused === null) refused = verdict;
        principals.length = 0;
        break;
      }
      const missing = scopes.filter((s) => !verdict.principal.scopes.includes(s));
      if (missing.length > 0) {
        scopeFailure ??= {
          ok: false,
          absent: false,
          reason: 'insufficient_scope',
          detail: `${verifier.scheme}: principal ${verdict.principal.id} lacks scope(s) ${missing.join(' ')}`,
        };
        principals.length = 0;
        break;
      }
      principals.push(verdict.principal);
    }
    if (principals.length === set.length && principals.length > 0) {
      return { ok: true, principal: combine(principals) };
    }
  }
  return { ok: false, failure: refused ?? scopeFailure };
}

function combine(principals: Principal[]): Principal {
  if (principals.length === 1) return principals[0]!;
  const [first, ...rest] = principals;
  return Object.freeze({
    ...first!,
    attributes: Object.freeze({
      ...first!.attributes,
      factors: rest.map((p) => ({ id: p.id, kind: p.kind, scheme: p.scheme })),
    }),
  });
}

/** The username of a login request (JSON or form body), for per-username failure counting. */
function usernameOf(body: Buffer, contentType: string | undefined, field: string): string | null {
  if (body.length === 0 || body.length > 64 * 1024) return null;
  const type = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  try {
    if (type === 'application/x-www-form-urlencoded') {
      const value = new URLSearchParams(body.toString('utf8')).get(field);
      return value ? `user:${value.toLowerCase().slice(0, 256)}` : null;
    }
    if (type === 'application/json' || type.endsWith('+json')) {
      const value = (JSON.parse(body.toString('utf8')) as Record<string, unknown>)?.[field];
      return typeof value === 'string' && value !== '' ? `user:${value.toLowerCase().slice(0, 256)}` : null;
    }
  } catch {
    // An unreadable body names no user; the IP is still counted.
  }
  return null;
}

/**
 * The `authn` slot of an operation that declares no security requirement, in an API that does
 * not allow anonymous access: refused, so a forgotten `security` is a closed door, not an open one.
 */
export function createUndeclaredStage(mode: StageMode): Stage {
  return {
    name: 'authn',
    mode,
    summary:
      'declares no security requirement: every request is refused (401); set `authn.allowAnonymous` on the API to serve it',
    request(): Outcome {
      return reply(401, 'security_undeclared');
    },
  };
}
