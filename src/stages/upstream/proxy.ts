import type { OutgoingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestContext } from '../../core/context.ts';
import { DONE, type Outcome, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { classifyUpstreamError } from './errors.ts';
import { forwardRequestHeaders, stripResponseHopByHop } from './hop-by-hop.ts';
import type { Upstream } from './pool.ts';

export interface ProxyOptions {
  readonly upstream: Upstream;
  /** Base path removed before forwarding (`''`: forward the path as routed). */
  readonly stripPrefix: string;
}

/**
 * Forward the request to the operation's upstream and stream the response back. Bodies are
 * streamed both ways; the path sent is the normalized one the route stage matched.
 */
export function createProxyStage(options: ProxyOptions): Stage {
  const { upstream, stripPrefix } = options;
  return {
    name: 'upstream',
    mode: 'enforce',
    summary: `proxy to ${upstream.name} (${upstream.origin}${upstream.pathPrefix})${stripPrefix ? `, strip ${stripPrefix}` : ''}`,
    request(ctx: RequestContext): Promise<Outcome> {
      return forward(ctx, upstream, stripPrefix);
    },
  };
}

async function forward(ctx: RequestContext, upstream: Upstream, stripPrefix: string): Promise<Outcome> {
  const client = ctx.client!;
  const headers = forwardRequestHeaders(ctx.headers);
  headers.host = upstream.host;
  headers['x-forwarded-for'] = client.forwardedFor;
  headers['x-forwarded-proto'] = client.forwardedProto;
  if (client.forwardedHost !== '') headers['x-forwarded-host'] = client.forwardedHost;
  headers['x-request-id'] = ctx.id;
  if (ctx.traceparent !== undefined) {
    headers.traceparent = ctx.traceparent;
    if (ctx.tracestate !== undefined) headers.tracestate = ctx.tracestate;
  }
  let path = stripPrefix === '' ? ctx.path : ctx.path.slice(stripPrefix.length) || '/';
  path = upstream.pathPrefix + path;
  if (ctx.query !== '') path += `?${ctx.query}`;
  const body = ctx.takeBody();
  if (body !== null && ctx.headers['content-length'] !== undefined)
    headers['content-length'] = ctx.headers['content-length'];
  ctx.upstreamStart = performance.now();
  try {
    await upstream.pool.stream<RequestContext>(
      { path, method: ctx.method as Dispatcher.HttpMethod, headers, body, opaque: ctx },
      onResponseHead,
    );
  } catch (err) {
    if (ctx.upstreamMs < 0) ctx.upstreamMs = performance.now() - ctx.upstreamStart;
    if (ctx.aborted) {
      ctx.reason ??= 'client_aborted';
      return DONE;
    }
    ctx.error = err;
    const { status, reason } = classifyUpstreamError(err);
    if (ctx.responseStarted) {
      ctx.reason ??= reason;
      ctx.abort();
      return DONE;
    }
    return reply(status, reason, { detail: (err as Error).message });
  }
  return DONE;
}

function onResponseHead({
  statusCode,
  headers,
  opaque: ctx,
}: Dispatcher.StreamFactoryData<RequestContext>): Writable {
  ctx.upstreamMs = performance.now() - ctx.upstreamStart;
  const out = ctx.sendHead(statusCode, stripResponseHopByHop(headers as OutgoingHttpHeaders), 'upstream');
  return out ?? discard();
}

/** Where an upstream body goes when a response stage replaced the response. */
function discard(): Writable {
  return new Writable({
    write(_chunk, _encoding, callback) {
      callback();
    },
  });
}
