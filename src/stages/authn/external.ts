import { createHash } from 'node:crypto';
import { Agent, request } from 'undici';
import type { Principal, RequestContext } from '../../core/context.ts';
import { ABSENT, fail, type Verdict, type Verifier, type VerifyContext } from './verifier.ts';

export interface ExternalOptions {
  readonly scheme: string;
  readonly url: string;
  /** `header:NAME`, `query:NAME`, `clientCert`. */
  readonly identitySources: readonly string[];
  readonly timeoutMs: number;
  readonly cacheTtlMs: number;
  readonly ca?: Buffer;
  readonly maxCacheEntries?: number;
  readonly now?: () => number;
}

/** What the authorizer answered, once checked. */
interface Decision {
  readonly allow: boolean;
  readonly principal: Principal | null;
  /** The operations the decision covers (operationIds or `METHOD /route` globs), or null: only the one asked about. */
  readonly operations: readonly RegExp[] | null;
  readonly expires: number;
}

const MAX_ANSWER_BYTES = 64 * 1024;

/**
 * An external authorizer (the role of an API Gateway Lambda authorizer or Envoy ext_authz).
 * The gateway POSTs the identity sources and the operation; the authorizer answers
 * `{"allow": true, "principal": {"id", "scopes", "attributes"}, "operations": [...]}`.
 *
 * Answers are cached by identity sources for `cacheTtl`. What is cached is a principal and the
 * list of operations it covers, re-checked on every request: a decision obtained for one
 * operation never grants another. An answer without `operations` covers only the operation it
 * was asked about (its cache entry is keyed by operation too). Timeouts, errors and unreadable
 * answers deny (503 `authorizer_unavailable`); nothing is cached from them.
 */
export function createExternalVerifier(options: ExternalOptions): Verifier {
  const { scheme, url, identitySources, timeoutMs, cacheTtlMs } = options;
  const now = options.now ?? Date.now;
  const maxEntries = options.maxCacheEntries ?? 10_000;
  const cache = new Map<string, Decision>();
  const inflight = new Map<string, Promise<Decision | string>>();
  const dispatcher = new Agent({
    connect: options.ca ? { ca: options.ca, timeout: timeoutMs } : { timeout: timeoutMs },
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });

  const lookup = (key: string): Decision | undefined => {
    const hit = cache.get(key);
    if (hit === undefined) return undefined;
    if (hit.expires <= now()) {
      cache.delete(key);
      return undefined;
    }
    return hit;
  };

  const remember = (key: string, decision: Decision): void => {
    if (cacheTtlMs <= 0) return;
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, decision);
  };

  const ask = async (
    identity: Record<string, string>,
    ctx: RequestContext,
    op: VerifyContext,
  ): Promise<Decision | string> => {
    try {
      const res = await request(url, {
        method: 'POST',
        dispatcher,
        headers: { 'content-type': 'application/json', 'x-request-id': ctx.id },
        body: JSON.stringify({
          identity,
          operation: { api: op.api, operationId: op.operationId, method: op.method, route: op.route },
          request: { method: ctx.method, path: ctx.path, query: ctx.query, clientIp: ctx.client?.ip },
        }),
        signal: AbortSignal.timeout(timeoutMs),
      });
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body) {
        size += (chunk as Buffer).length;
        if (size > MAX_ANSWER_BYTES) {
          res.body.destroy();
          return `answer larger than ${MAX_ANSWER_BYTES} bytes`;
        }
        chunks.push(chunk as Buffer);
      }
      if (res.statusCode !== 200) return `answered HTTP ${res.statusCode}`;
      return parseDecision(Buffer.concat(chunks).toString('utf8'), scheme, now() + cacheTtlMs);
    } catch (err) {
      return `call failed: ${(err as Error).name === 'TimeoutError' ? `timeout after ${timeoutMs}ms` : (err as Error).message}`;
    }
  };

  return {
    scheme,
    kind: 'external',
    summary: `${scheme}: external authorizer ${url} (identity ${identitySources.join(', ')}; cache ${cacheTtlMs}ms)`,
    async verify(ctx: RequestContext, op: VerifyContext): Promise<Verdict> {
      const identity = identityOf(ctx, identitySources);
      if (identity === null) return ABSENT;
      const idKey = createHash('sha256').update(JSON.stringify(identity)).digest('base64url');
      const opKey = `${idKey}|${op.api}|${op.operationId}`;
      let decision = lookup(idKey) ?? lookup(opKey);
      if (decision === undefined) {
        let pending = inflight.get(opKey);
        if (pending === undefined) {
          pending = ask(identity, ctx, op);
          inflight.set(opKey, pending);
          pending.finally(() => inflight.delete(opKey)).catch(() => {});
        }
        const answer = await pending;
        if (typeof answer === 'string') return fail('authorizer_unavailable', `${scheme}: ${answer}`);
        decision = answer;
        remember(decision.operations !== null && decision.allow ? idKey : opKey, decision);
      }
      if (!decision.allow) return fail('authorizer_denied', `${scheme}: the authorizer denied`);
      if (decision.operations !== null && !covers(decision.operations, op)) {
        return fail(
          'authorizer_denied',
          `${scheme}: the authorizer's policy does not cover ${op.operationId}`,
        );
      }
      return { ok: true, principal: decision.principal! };
    },
    close() {
      cache.clear();
      void dispatcher.close();
    },
  };
}

function identityOf(ctx: RequestContext, sources: readonly string[]): Record<string, string> | null {
  const out: Record<string, string> = {};
  let query: URLSearchParams | null = null;
  for (const source of sources) {
    let value: string | null | undefined;
    if (source === 'clientCert') {
      value = ctx.clientCertificate()?.fingerprint256;
    } else if (source.startsWith('header:')) {
      const raw = ctx.headers[source.slice(7).toLowerCase()];
      value = Array.isArray(raw) ? raw.join(', ') : raw;
    } else {
      query ??= new URLSearchParams(ctx.query);
      value = query.get(source.slice(6));
    }
    if (value === undefined || value === null || value === '') return null;
    out[source] = value;
  }
  return out;
}

function parseDecision(text: string, scheme: string, expires: number): Decision | string {
  let answer: unknown;
  try {
    answer = JSON.parse(text);
  } catch {
    return 'answer is not JSON';
  }
  if (typeof answer !== 'object' || answer === null) return 'answer is not a JSON object';
  const a = answer as Record<string, unknown>;
  if (typeof a.allow !== 'boolean') return 'answer has no boolean `allow`';
  if (!a.allow) return { allow: false, principal: null, operations: null, expires };
  const p = a.principal as Record<string, unknown> | undefined;
  if (typeof p !== 'object' || p === null || typeof p.id !== 'string' || p.id === '') {
    return 'an allow answer needs `principal.id`';
  }
  const scopes = p.scopes ?? [];
  if (!Array.isArray(scopes) || scopes.some((s) => typeof s !== 'string'))
    return '`principal.scopes` must be strings';
  const attributes = p.attributes ?? {};
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    return '`principal.attributes` must be an object';
  }
  let operations: RegExp[] | null = null;
  if (a.operations !== undefined) {
    if (!Array.isArray(a.operations) || a.operations.some((o) => typeof o !== 'string' || o === '')) {
      return '`operations` must be a list of operationIds or `METHOD /route` patterns';
    }
    operations = (a.operations as string[]).map(globToRegExp);
  }
  const principal: Principal = Object.freeze({
    id: p.id,
    kind: 'external',
    scheme,
    scopes: Object.freeze([...(scopes as string[])]),
    attributes: Object.freeze({ ...(attributes as Record<string, unknown>) }),
  });
  return { allow: true, principal, operations, expires };
}

/** `getOrder`, `GET /orders/*`, `* /public/*`: `*` matches any run of characters. */
function globToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*');
  return new RegExp(`^${escaped}$`);
}

function covers(operations: readonly RegExp[], op: VerifyContext): boolean {
  const asRoute = `${op.method} ${op.route}`;
  return operations.some((re) => re.test(op.operationId) || re.test(asRoute));
}
