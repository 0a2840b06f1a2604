import type { OutgoingHttpHeaders } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable, Writable } from 'node:stream';
import type { Dispatcher } from 'undici';
import { BodyTooLargeError, type RequestContext } from '../../core/context.ts';
import { DONE, type Outcome, reply } from '../../core/outcome.ts';
import type { Stage } from '../../core/stage.ts';
import type { ResponseShape } from '../response/filter/responses.ts';
import { filterBody, type ResponseFilter, shapeFor } from '../response/filter/runtime.ts';
import type { Dispatch } from './dispatch.ts';
import {
  ClientAbortedError,
  classifyUpstreamError,
  UpstreamRefusedError,
  upstreamErrorReply,
} from './errors.ts';
import { forwardRequestHeaders, responseHeadersFromRaw } from './hop-by-hop.ts';
import { InFlightLimit, saturated, withInFlightLimit } from './in-flight.ts';
import type { Upstream } from './pool.ts';
import { isReplayable } from './retry.ts';

/** A JSON response held until complete, to be filtered before any of it is sent. */
interface HeldResponse {
  readonly status: number;
  readonly headers: OutgoingHttpHeaders;
  readonly shape: ResponseShape;
  readonly chunks: Buffer[];
  size: number;
}

/** Decisions about a response body are the `response` stage's, whichever object makes them. */
const RESPONSE_STAGE: Stage = { name: 'response', mode: 'enforce', summary: '' };

export interface ProxyOptions {
  readonly upstream: Upstream;
  /** Base path removed before forwarding (`''`: forward the path as routed). */
  readonly stripPrefix: string;
  /** `operations.<id>.maxInFlight`: most calls of this operation at once. */
  readonly maxInFlight?: number;
  /** Names the operation in a saturation refusal's detail (`api.operationId`). */
  readonly operation?: string;
  /** `response.filter`: JSON bodies rebuilt from the response schema (null: streamed as sent). */
  readonly responseFilter?: ResponseFilter | null;
}

/**
 * Forward the request to the operation's upstream and stream the response back. Bodies are
 * streamed both ways (a request body is held in memory only when it may have to be replayed
 * by a retry); the path sent is the normalized one the route stage matched. Calls go through
 * the upstream's call chain (call-chain.ts), wrapped by the operation's in-flight limit.
 */
export function createProxyStage(options: ProxyOptions): Stage {
  const { upstream, stripPrefix, maxInFlight } = options;
  const filter = options.responseFilter ?? null;
  const calls = upstream.calls;
  // The operation's own limit wraps the upstream's chain, built once here like the chain.
  const dispatch =
    maxInFlight === undefined
      ? calls.dispatch
      : withInFlightLimit(
          calls.dispatch,
          new InFlightLimit(maxInFlight),
          saturated('operation', options.operation ?? upstream.name, maxInFlight),
        );
  const resilience = [
    maxInFlight === undefined ? '' : `, ≤ ${maxInFlight} in flight`,
    calls.inFlight ? `, upstream ≤ ${calls.inFlight.max} in flight` : '',
    calls.retries ? ', retries idempotent calls' : '',
    calls.breaker ? ', circuit breaker' : '',
    filter ? `, filter JSON responses (≤ ${filter.maxBodySize} B, else ${filter.oversize})` : '',
  ].join('');
  return {
    name: 'upstream',
    mode: 'enforce',
    summary: `proxy to ${upstream.name} (${upstream.origin}${upstream.pathPrefix})${stripPrefix ? `, strip ${stripPrefix}` : ''}${resilience}`,
    request(ctx: RequestContext): Promise<Outcome> {
      if (calls.retries && isReplayable(ctx.method, null) && hasBody(ctx)) {
        return forwardReplayable(ctx, upstream, stripPrefix, dispatch, filter);
      }
      // A body an earlier stage buffered (validation, SigV4) goes out as the Buffer it already is.
      const buffered = ctx.takeBufferedBody();
      return forward(
        ctx,
        upstream,
        stripPrefix,
        dispatch,
        buffered === undefined ? ctx.takeBody() : buffered,
        filter,
      );
    },
  };
}

function hasBody(ctx: RequestContext): boolean {
  const h = ctx.headers;
  return (
    h['transfer-encoding'] !== undefined || (h['content-length'] !== undefined && h['content-length'] !== '0')
  );
}

/**
 * A retried request must be sent again byte for byte, so the body of an idempotent request to
 * an upstream with retries is read into memory first (at most the operation's body limit)
 * instead of streamed. Without retries nothing changes: bodies stream.
 */
async function forwardReplayable(
  ctx: RequestContext,
  upstream: Upstream,
  stripPrefix: string,
  dispatch: Dispatch,
  filter: ResponseFilter | null,
): Promise<Outcome> {
  let body: Buffer;
  try {
    body = await ctx.readBody();
  } catch (err) {
    if (err instanceof BodyTooLargeError) return upstreamErrorReply(err);
    // The client went away mid-body: nothing to send, nobody to answer.
    return reply(499, 'client_aborted', { detail: (err as Error).message });
  }
  return forward(ctx, upstream, stripPrefix, dispatch, body.length === 0 ? null : body, filter);
}

function forward(
  ctx: RequestContext,
  upstream: Upstream,
  stripPrefix: string,
  dispatch: Dispatch,
  body: Readable | Buffer | null,
  filter: ResponseFilter | null,
): Promise<Outcome> {
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
  if (body !== null && ctx.headers['content-length'] !== undefined) {
    headers['content-length'] = ctx.headers['content-length'];
  }
  // A filtered body must be readable: ask for it unencoded (one that comes encoded anyway is refused).
  if (filter !== null) headers['accept-encoding'] = 'identity';
  return new Promise<Outcome>((resolve) => {
    const call = new UpstreamCall(ctx, resolve, filter);
    dispatch({ path, method: ctx.method as Dispatcher.HttpMethod, headers, body }, call);
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
  readonly #filter: ResponseFilter | null;
  /** Set while a JSON response is held to be filtered (response.filter). */
  #held: HeldResponse | null = null;

  constructor(
    ctx: RequestContext,
    resolve: (outcome: Outcome) => void,
    filter: ResponseFilter | null = null,
  ) {
    this.#ctx = ctx;
    this.#resolve = resolve;
    this.#filter = filter;
    // A client that hangs up must not leave its call holding an upstream connection until the
    // headers timeout. Name the cause now: the access log is written as the exchange closes,
    // before this call's error is seen, and a cut response must not be logged as a clean 200.
    ctx.onUnfinished((error) => {
      ctx.reason ??= error ? classifyUpstreamError(error).reason : 'client_aborted';
      this.#abort?.(new ClientAbortedError());
    });
  }

  onConnect(abort: (err?: Error) => void): void {
    this.#abort = abort;
    if (this.#ctx.aborted) abort(new ClientAbortedError());
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void): boolean {
    if (statusCode < 200) return true; // 1xx: informational, the final response follows
    const ctx = this.#ctx;
    ctx.upstreamMs = performance.now() - this.#start;
    this.#resume = resume;
    const headers = responseHeadersFromRaw(rawHeaders);
    const shape = this.#filter === null ? null : shapeFor(this.#filter, statusCode, headers);
    if (shape !== null) {
      this.#held = { status: statusCode, headers, shape, chunks: [], size: 0 };
      const declared = Number(headers['content-length']);
      if (declared > this.#filter!.maxBodySize) return this.#oversize();
      return true;
    }
    this.#out = ctx.sendHead(statusCode, headers, 'upstream');
    return true;
  }

  /**
   * A held body outgrew `maxBodySize`. `reject`: the call is cut and the client gets a 502
   * (nothing unfiltered leaves). `passthrough`: what was held is sent as is, and the rest streams.
   */
  #oversize(): boolean {
    const held = this.#held!;
    this.#held = null;
    const ctx = this.#ctx;
    const limit = this.#filter!.maxBodySize;
    if (this.#filter!.oversize === 'reject') {
      // Finish first: aborting makes undici report an error, which must not name the cause.
      this.#finish(
        reply(502, 'response_too_large', {
          detail: `${held.shape.declared}: over ${limit} bytes, not filtered`,
        }),
      );
      this.#abort?.(new Error('response too large to filter'));
      return false;
    }
    ctx.recordAllow(RESPONSE_STAGE, 'response_unfiltered', `${held.shape.declared}: over ${limit} bytes`, []);
    this.#out = ctx.sendHead(held.status, held.headers, 'upstream');
    for (const chunk of held.chunks) this.#out?.write(chunk);
    return true;
  }

  onData(chunk: Buffer): boolean {
    const held = this.#held;
    if (held !== null) {
      held.chunks.push(chunk);
      held.size += chunk.length;
      if (held.size > this.#filter!.maxBodySize) return this.#oversize();
      return true;
    }
    const out = this.#out;
    if (out === null || out.destroyed) return true; // replaced by a gateway reply, or gone
    if (out.write(chunk)) return true;
    out.once('drain', this.#resume!);
    return false;
  }

  onComplete(): void {
    const held = this.#held;
    if (held !== null) {
      this.#held = null;
      this.#sendFiltered(held);
      return;
    }
    this.#out?.end();
    this.#finish(DONE);
  }

  #sendFiltered(held: HeldResponse): void {
    const ctx = this.#ctx;
    const verdict = filterBody(
      held.shape,
      Buffer.concat(held.chunks, held.size),
      held.headers['content-encoding'],
    );
    if (verdict.kind === 'refused') {
      this.#finish(reply(502, 'response_unfilterable', { detail: verdict.detail }));
      return;
    }
    const headers = held.headers;
    if (verdict.dropped > 0 || verdict.masked > 0) {
      ctx.recordAllow(
        RESPONSE_STAGE,
        'response_filtered',
        `${verdict.declared}: ${verdict.dropped} undeclared propert${verdict.dropped === 1 ? 'y' : 'ies'} dropped, ${verdict.masked} sensitive masked`,
        [],
      );
      // The representation changed: its validators no longer describe it (RFC 9110 §8.8).
      delete headers.etag;
      delete headers['content-md5'];
    }
    headers['content-length'] = verdict.body.length;
    ctx.sendBody(held.status, headers, verdict.body, 'upstream');
    this.#finish(DONE);
  }

  onError(err: Error): void {
    const ctx = this.#ctx;
    // A call the gateway refused (in-flight limit, open circuit) never reached the upstream:
    // the access log then has no upstreamMs.
    if (ctx.upstreamMs < 0 && !(err instanceof UpstreamRefusedError)) {
      ctx.upstreamMs = performance.now() - this.#start;
    }
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
