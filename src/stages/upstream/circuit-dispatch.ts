import { type CircuitBreaker, REJECTED } from './circuit-breaker.ts';
import { type CallHandler, type Dispatch, ForwardingHandler } from './dispatch.ts';
import { isClientAbort, UpstreamRefusedError } from './errors.ts';
import { isRetryDiscard } from './retry.ts';

/**
 * Wrap `next` with the upstream's circuit breaker. An open circuit refuses the call at once
 * (503 `circuit_open`, `Retry-After` until the probes start) without touching the upstream.
 * An admitted call reports its verdict when it ends: a failure is a connect error, a timeout,
 * a reset, or a response whose status is in `failureStatuses`; a client that hung up says
 * nothing about the upstream, unless its response status was already known.
 */
export function withCircuitBreaker(
  next: Dispatch,
  breaker: CircuitBreaker,
  failureStatuses: ReadonlySet<number>,
): Dispatch {
  // An open circuit refuses every call: one refusal per distinct Retry-After value, not an
  // error (and its stack) per refused request.
  let refusal: UpstreamRefusedError | null = null;
  return (options, handler) => {
    const ticket = breaker.admit();
    if (ticket === REJECTED) {
      const wait = breaker.retryAfterSeconds();
      if (refusal?.retryAfter !== wait) {
        refusal = new UpstreamRefusedError(
          'RAMPART_CIRCUIT_OPEN',
          `circuit of upstream ${breaker.upstream} is open`,
          wait,
        );
      }
      return handler.onError(refusal);
    }
    next(options, new BreakerCall(handler, breaker, ticket, failureStatuses));
  };
}

class BreakerCall extends ForwardingHandler {
  readonly #breaker: CircuitBreaker;
  readonly #ticket: number;
  readonly #failureStatuses: ReadonlySet<number>;
  #status = 0;
  #reported = false;

  constructor(
    inner: CallHandler,
    breaker: CircuitBreaker,
    ticket: number,
    failureStatuses: ReadonlySet<number>,
  ) {
    super(inner);
    this.#breaker = breaker;
    this.#ticket = ticket;
    this.#failureStatuses = failureStatuses;
  }

  override onHeaders(
    statusCode: number,
    rawHeaders: Buffer[],
    resume: () => void,
    statusText: string,
  ): boolean {
    if (statusCode >= 200) this.#status = statusCode;
    return this.inner.onHeaders(statusCode, rawHeaders, resume, statusText);
  }

  override onComplete(trailers: string[] | null): void {
    this.#report(this.#byStatus());
    this.inner.onComplete(trailers);
  }

  override onError(err: Error): void {
    // Aborted by the client, or by the retry wrapper discarding a retryable status: judge by
    // the status if one came. Anything else (connect error, timeout, reset, even mid-body) is
    // the upstream failing.
    const ours = isClientAbort(err) || isRetryDiscard(err);
    this.#report(ours ? (this.#status === 0 ? 'neutral' : this.#byStatus()) : 'failure');
    this.inner.onError(err);
  }

  #byStatus(): 'success' | 'failure' {
    return this.#failureStatuses.has(this.#status) ? 'failure' : 'success';
  }

  #report(verdict: 'success' | 'failure' | 'neutral'): void {
    if (this.#reported) return;
    this.#reported = true;
    this.#breaker.record(this.#ticket, verdict);
  }
}
