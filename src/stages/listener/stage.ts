import type { RequestContext } from '../../core/context.ts';
import { CONTINUE, type Outcome, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { strictHttpProblem } from './strict-http.ts';

export interface ListenerLimits {
  readonly maxUrlSize: number;
  readonly maxHeaderCount: number;
  readonly maxBodySize: number;
}

/**
 * Per-request listener checks that node:http's strict parser does not make itself: strict
 * HTTP/1.1 framing and Host (strict-http.ts; 400 and the connection closed), URL length
 * (414), header count (431; node silently drops headers past `maxHeadersCount`, so the server
 * admits one more than the limit and this stage refuses it), and a declared body size (413).
 * Chunked bodies are counted while streaming (RequestContext.takeBody).
 */
export function createListenerStage(limits: ListenerLimits): Stage {
  return {
    name: 'listener',
    mode: 'enforce',
    summary: `HTTP/1.0 or 1.1, one valid Host, only chunked coding; url ≤ ${limits.maxUrlSize} B, ≤ ${limits.maxHeaderCount} headers, body ≤ ${limits.maxBodySize} B`,
    request(ctx: RequestContext): Outcome {
      ctx.bodyLimit = limits.maxBodySize;
      const problem = strictHttpProblem(ctx);
      if (problem !== null) {
        // As for a parse error: after a framing refusal nothing more on this connection can be
        // trusted (request smuggling), so it closes.
        return reply(400, 'bad_request', { detail: problem, headers: { connection: 'close' } });
      }
      if (ctx.target.length > limits.maxUrlSize) return reply(414, 'uri_too_long');
      if (ctx.headerCount > limits.maxHeaderCount) return reply(431, 'headers_too_large');
      const declared = ctx.headers['content-length'];
      if (declared !== undefined && Number(declared) > limits.maxBodySize) {
        // Close rather than drain a body refused unread (RFC 9110 §15.5.14 allows it): draining
        // is bounded only by the request timeout, and costs what the limit was meant to save.
        return reply(413, 'body_too_large', {
          detail: `content-length ${declared}`,
          headers: { connection: 'close' },
        });
      }
      return CONTINUE;
    },
  };
}
