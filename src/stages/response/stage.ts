import type { RequestContext, ResponseHead } from '../../core/context.ts';
import { type Reply, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';

export interface ResponseOptions {
  readonly maskServerErrors: boolean;
  /** Set `Connection: close` (the server is draining). */
  readonly draining: () => boolean;
}

/**
 * Response hardening every response gets, whoever made it: no `Server`/`X-Powered-By`
 * fingerprint, `X-Content-Type-Options: nosniff`, the request id echoed for support, and (by
 * default) upstream 5xx bodies replaced by a generic problem+json — stack traces and internal
 * messages never reach clients. Response validation and filtering join here later.
 */
export function createResponseStage(options: ResponseOptions): Stage {
  return {
    name: 'response',
    mode: 'enforce',
    summary: `strip Server/X-Powered-By, nosniff, x-request-id${options.maskServerErrors ? ', mask upstream 5xx bodies' : ''}`,
    response(ctx: RequestContext, head: ResponseHead): Reply | undefined {
      const h = head.headers;
      if (options.maskServerErrors && head.origin === 'upstream' && head.status >= 500) {
        return reply(head.status, 'upstream_masked_error');
      }
      delete h.server;
      delete h['x-powered-by'];
      h['x-content-type-options'] = 'nosniff';
      h['x-request-id'] = ctx.id;
      if (options.draining()) h.connection = 'close';
      return undefined;
    },
  };
}
