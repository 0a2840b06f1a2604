import type { Dispatcher } from 'undici';
import type { CallHandler, Dispatch } from './dispatch.ts';
import type { RetryBudget } from './retry-budget.ts';

/**
 * Idempotent methods (RFC 9110 §9.2.2): sending one twice has the effect of sending it once,
 * so a call that failed before its response can be made again. POST and PATCH never are: the
 * upstream may have acted on a request whose connection then reset.
 */
const IDEMPOTENT: ReadonlySet<string> = new Set(['GET', 'HEAD', 'OPTIONS', 'PUT', 'DELETE']);

/** The connection was never made: nothing reached the upstream. */
const CONNECT_FAILURES: ReadonlySet<string> = new Set([
  'ECONNREFUSED',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EHOSTDOWN',
  'EAI_AGAIN',
  'UND_ERR_CONNECT_TIMEOUT',
]);
/** The connection broke before any byte of a response came (a keep-alive race, a restarting upstream). */
const RESETS: ReadonlySet<string> = new Set(['ECONNRESET', 'EPIPE', 'UND_ERR_SOCKET']);

export interface RetryPolicy {
  /** Most calls per request, the first included (1: no retries). */
  readonly attempts: number;
  readonly onConnectFailure: boolean;
  readonly onReset: boolean;
  /** Upstream statuses answered by a retry instead (e.g. 503); the response is discarded unread. */
  readonly statuses: ReadonlySet<number>;
  readonly budget: RetryBudget;
  readonly backoffBaseMs: number;
  readonly backoffMaxMs: number;
  /** In [0, 1): the jitter source (tests pass a fixed one). */
  readonly random: () => number;
}

/** Whether a request can be made again: an idempotent method, and no body or one held in memory. */
export function isReplayable(method: string, body: Dispatcher.DispatchOptions['body']): boolean {
  return IDEMPOTENT.has(method) && (body === null || body === undefined || Buffer.isBuffer(body));
}

/**
 * Wrap `next` with retries. Only before the response: once a response head was handed on,
 * the client may have bytes of it, and nothing is retried. A request that is not replayable
 * goes straight through. Every request deposits into the retry budget; every retry must be
 * paid for by it.
 */
export function withRetry(next: Dispatch, policy: RetryPolicy): Dispatch {
  return (options, handler) => {
    policy.budget.deposit();
    if (!isReplayable(options.method, options.body)) return next(options, handler);
    new RetryCall(next, options, handler, policy).start();
  };
}

/** The abort reason when a response with a retryable status is discarded. */
class RetryDiscardError extends Error {
  readonly code = 'RAMPART_RETRY_DISCARD';
}

export function isRetryDiscard(err: unknown): boolean {
  return (err as { code?: unknown })?.code === 'RAMPART_RETRY_DISCARD';
}

/**
 * One request across its attempts. The inner handler sees one call: one `onConnect`, given an
 * abort that reaches whichever attempt is current (or cancels the backoff wait), then the
 * response of the attempt that was not retried, or the last error.
 */
class RetryCall implements CallHandler {
  readonly #next: Dispatch;
  readonly #options: Dispatcher.DispatchOptions;
  readonly #inner: CallHandler;
  readonly #policy: RetryPolicy;
  #attempt = 1;
  #abortAttempt: ((err?: Error) => void) | null = null;
  #aborted: Error | null = null;
  #timer: NodeJS.Timeout | null = null;
  /** A response head went to the inner handler: from here on, nothing is retried. */
  #forwarded = false;
  #discarding = false;

  constructor(next: Dispatch, options: Dispatcher.DispatchOptions, inner: CallHandler, policy: RetryPolicy) {
    this.#next = next;
    this.#options = options;
    this.#inner = inner;
    this.#policy = policy;
  }

  start(): void {
    this.#inner.onConnect(this.#abort);
    if (this.#aborted !== null) this.#inner.onError(this.#aborted);
    else this.#next(this.#options, this);
  }

  readonly #abort = (err?: Error): void => {
    if (this.#aborted !== null) return;
    this.#aborted = err ?? new Error('request aborted');
    if (this.#timer !== null) {
      clearTimeout(this.#timer);
      this.#timer = null;
      this.#inner.onError(this.#aborted);
    } else this.#abortAttempt?.(this.#aborted);
  };

  onConnect(abort: (err?: Error) => void): void {
    this.#abortAttempt = abort;
    if (this.#aborted !== null) abort(this.#aborted);
  }

  onHeaders(statusCode: number, rawHeaders: Buffer[], resume: () => void, statusText: string): boolean {
    if (statusCode >= 200 && !this.#forwarded && this.#policy.statuses.has(statusCode) && this.#mayRetry()) {
      this.#discarding = true;
      this.#abortAttempt!(new RetryDiscardError(`upstream answered ${statusCode}: retrying`));
      return false;
    }
    if (statusCode >= 200) this.#forwarded = true;
    return this.#inner.onHeaders(statusCode, rawHeaders, resume, statusText);
  }

  onData(chunk: Buffer): boolean {
    return this.#discarding ? true : this.#inner.onData(chunk);
  }

  onComplete(trailers: string[] | null): void {
    this.#inner.onComplete(trailers);
  }

  onError(err: Error): void {
    const again = this.#aborted === null && !this.#forwarded && (this.#discarding || this.#retryable(err));
    if (again && (this.#discarding || this.#mayRetry())) this.#schedule();
    else this.#inner.onError(err);
  }

  #retryable(err: Error): boolean {
    const code = String((err as { code?: unknown }).code ?? '');
    return (
      (this.#policy.onConnectFailure && CONNECT_FAILURES.has(code)) ||
      (this.#policy.onReset && RESETS.has(code))
    );
  }

  /** Attempts left, and the budget pays for one more (checked last: it counts the retry). */
  #mayRetry(): boolean {
    return this.#attempt < this.#policy.attempts && this.#policy.budget.tryWithdraw();
  }

  /**
   * Exponential backoff with full jitter (AWS Architecture Blog, "Exponential Backoff and
   * Jitter"): a random wait up to base·2ⁿ, capped, so retries from many requests that failed
   * together do not arrive together.
   */
  #schedule(): void {
    const { backoffBaseMs, backoffMaxMs, random } = this.#policy;
    const ceiling = Math.min(backoffMaxMs, backoffBaseMs * 2 ** (this.#attempt - 1));
    this.#attempt++;
    this.#abortAttempt = null;
    this.#discarding = false;
    this.#timer = setTimeout(this.#retry, Math.floor(random() * ceiling));
  }

  readonly #retry = (): void => {
    this.#timer = null;
    if (this.#aborted === null) this.#next(this.#options, this);
  };
}
