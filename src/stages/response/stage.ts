import type { RequestContext, ResponseHead } from '../../core/context.ts';
import { type Reply, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { applyResponseRules, describeSteps, type HeaderStep } from '../transform/header-rules.ts';

export interface ResponseOptions {
  readonly maskServerErrors: boolean;
  /** Set `Connection: close` (the server is draining). */
  readonly draining: () => boolean;
  /** `Strict-Transport-Security` for HTTPS responses (hsts.ts), or null when off. */
  readonly hsts?: string | null;
  /** Response header rules (API, then operation), applied before the hardening below. */
  readonly headerRules?: readonly HeaderStep[];
}

/**
 * Response hardening every response gets, whoever made it: no `Server`/`X-Powered-By`
 * fingerprint, `X-Content-Type-Options: nosniff`, the request id echoed for support, and (by
 * default) upstream 5xx bodies replaced by a generic problem+json — stack traces and internal
 * messages never reach clients; HSTS on HTTPS, `Cache-Control: no-store` on authenticated and
 * gateway-made responses, and the configured header rules. Response validation and filtering
 * join here later.
 */
export function createResponseStage(options: ResponseOptions): Stage {
  const hsts = options.hsts ?? null;
  const rules = options.headerRules ?? [];
  return {
    name: 'response',
    mode: 'enforce',
    summary: `strip Server/X-Powered-By, nosniff, x-request-id${options.maskServerErrors ? ', mask upstream 5xx bodies' : ''}${hsts ? `, HSTS ${hsts} on https` : ''}, no-store when authenticated${rules.length > 0 ? `; header rules: ${describeSteps(rules)}` : ''}`,
    response(ctx: RequestContext, head: ResponseHead): Reply | undefined {
      const h = head.headers;
      if (options.maskServerErrors && head.origin === 'upstream' && head.status >= 500) {
        return reply(head.status, 'upstream_masked_error');
      }
      delete h.server;
      delete h['x-powered-by'];
      if (rules.length > 0) applyResponseRules(rules, h, ctx);
      h['x-content-type-options'] = 'nosniff';
      h['x-request-id'] = ctx.id;
      // RFC 6797 §7.2: never over plain HTTP, where it would be ignored (or, relayed from an
      // upstream, pin a host the operator did not mean to). A trusted TLS-terminating proxy's
      // `X-Forwarded-Proto: https` counts as HTTPS: the browser's connection is.
      if ((ctx.client?.forwardedProto ?? ctx.scheme) === 'https') {
        if (hsts !== null) h['strict-transport-security'] = hsts;
      } else delete h['strict-transport-security'];
      // An authenticated answer must not be kept by a shared cache and served to someone else
      // (RFC 9111 §3.5), nor by the browser after logout; an upstream that set caching said
      // what it wants. Gateway-made replies are never cacheable (a cached 401 or 429 would
      // outlive its cause).
      if (head.origin === 'gateway') h['cache-control'] = 'no-store';
      else if (ctx.principal !== null && h['cache-control'] === undefined) h['cache-control'] = 'no-store';
      if (options.draining()) h.connection = 'close';
      return undefined;
    },
  };
}
