import type { Dispatcher } from 'undici';

/**
 * The handler of one upstream call, in undici's callback form (the one `UpstreamCall` uses:
 * measured faster than the controller form, see proxy.ts). Every method is present, so a
 * wrapper forwards without checking.
 */
export interface CallHandler {
  onConnect(abort: (err?: Error) => void): void;
  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean;
  onData(chunk: Buffer): boolean;
  onComplete(trailers: string[] | null): void;
  onError(err: Error): void;
}

/**
 * One dispatch function per upstream; each resilience concern (in-flight limit, retries,
 * circuit breaker) is a small wrapper around the next, after undici's interceptors. The chain
 * is built once per upstream at compile time; with every concern off it is the pool's own
 * `dispatch`, bound once, and a request allocates nothing more.
 */
export type Dispatch = (options: Dispatcher.DispatchOptions, handler: CallHandler) => void;

/** Forwards every callback to `inner`; wrappers override what they watch. */
export class ForwardingHandler implements CallHandler {
  protected readonly inner: CallHandler;

  constructor(inner: CallHandler) {
    this.inner = inner;
  }

  onConnect(abort: (err?: Error) => void): void {
    this.inner.onConnect(abort);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    return this.inner.onHeaders(statusCode, rawHeaders, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.inner.onData(chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.inner.onComplete(trailers);
  }

  onError(err: Error): void {
    this.inner.onError(err);
  }
}
