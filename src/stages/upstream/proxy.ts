import { performance } from 'node:perf_hooks';
import type { Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import type { RequestContext } from '../../core/context.ts';
import { DONE, type Outcome } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import { classifyUpstreamError, upstreamErrorReply } from './errors.ts';
import { forwardRequestHeaders, responseHeadersFromRaw } from './hop-by-hop.ts';
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

function forward(ctx: RequestContext, upstream: Upstream, stripPrefix: string): Promise<Outcome> {
  const client = ctx.client!;
  const headers = forwardRequestHeaders(ctx.headers, ctx.upstreamHeaders, ctx.consumedHeaders);
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
  if (body !== null && ctx.headers['content-length'] !== undefined) {
    headers['content-length'] = ctx.headers['content-length'];
  }
  return new Promise<Outcome>((resolve) => {
    const call = new UpstreamCall(ctx, resolve);
    upstream.pool.dispatch({ path, method: ctx.method as Dispatcher.HttpMethod, headers, body }, call);
  });
}

/**
 * One upstream call, as an undici dispatch handler: the response head goes through the
 * response phase and is written, body chunks are written with backpressure (a `false` from
 * `onData` pauses the upstream socket until the client drains). Measured in bench/: this one
 * object per call replaces `Pool.stream`'s handler, its async resource, end-of-stream watcher
 * and the AbortController that aborting needed.
 */
class UpstreamCall implements Dispatcher.DispatchHandler {
  readonly #ctx: RequestContext;
  readonly #resolve: (outcome: Outcome) => void;
  #out: Writable | null = null;
  #abort: ((err?: Error) => void) | null = null;
  #resume: (() => void) | null = null;
  #done = false;
  readonly #start = performance.now();

  constructor(ctx: RequestContext, resolve: (outcome: Outcome) => void) {
    this.#ctx = ctx;
    this.#resolve = resolve;
    // A client that hangs up must not leave its call holding an upstream connection until the
    // headers timeout. Name the cause now: the access log is written as the exchange closes,
    // before this call's error is seen, and a cut response must not be logged as a clean 200.
    ctx.onUnfinished((error) => {
      ctx.reason ??= error ? classifyUpstreamError(error).reason : 'client_aborted';
      this.#abort?.(new Error('client closed the connection'));
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#ctx.aborted) abort(new Error('client closed the connection'));
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the final response follows
    const ctx = this.#ctx;
    ctx.upstreamMs = performance.now() - this.#start;
    this.#resume = resume;
    this.#out = ctx.sendHead(statusCode, responseHeadersFromRaw(rawHeaders), 'upstream');
    return true;
  }

  onData(chunk: Buffer): boolean {
    const out = this.#out;
    if (out === null || out.destroyed) return true; // replaced by a gateway reply, or gone
    if (out.write(chunk)) return true;
    out.once('drain', this.#resume!);
    return false;
  }

  onComplete(): void {
    this.#out?.end();
    this.#finish(DONE);
  }

  onError(err: Error): void {
    const ctx = this.#ctx;
    if (ctx.upstreamMs < 0) ctx.upstreamMs = performance.now() - this.#start;
    if (ctx.aborted) {
      ctx.reason ??= 'client_aborted';
      this.#finish(DONE);
      return;
    }
    ctx.error = err;
    if (ctx.responseStarted) {
      ctx.reason ??= classifyUpstreamError(err).reason;
      ctx.abort();
      this.#finish(DONE);
      return;
    }
    this.#finish(upstreamErrorReply(err));
  }

  #finish(outcome: Outcome): void {
    if (this.#done) return;
    this.#done = true;
    this.#resolve(outcome);
  }
}
