import { type CallHandler, type Dispatch, ForwardingHandler } from './dispatch.ts';
import { UpstreamRefusedError } from './errors.ts';

/**
 * A count of calls under way, bounded by `max`. Past it, a call is refused at once with 503
 * instead of queueing behind the pool's connections: a slow upstream then costs its callers a
 * fast refusal, not a growing queue of requests that each hold memory, a socket and a client
 * (Little's law: at a fixed rate, latency growth is queue growth).
 */
export class InFlightLimit {
  readonly max: number;
  #count = 0;

  constructor(max: number) {
    this.max = max;
  }

  /** Calls holding a slot now (readable for metrics). */
  get count(): number {
    return this.#count;
  }

  tryAcquire(): boolean {
    if (this.#count >= this.max) return false;
    this.#count++;
    return true;
  }

  release(): void {
    if (this.#count <= 0) throw new Error('in-flight slot released twice');
    this.#count--;
  }
}

/**
 * Wrap `next` so at most `limit.max` calls run at once. The slot is taken when the call is
 * dispatched and given back exactly once, when undici reports the end of the call: complete,
 * or an error of any kind (the upstream failed or timed out, the client went away and the call
 * was aborted, the pool was closed). undici calls exactly one of `onComplete` and `onError` per
 * dispatch, and each is guarded so a second report cannot release twice.
 */
export function withInFlightLimit(
  next: Dispatch,
  limit: InFlightLimit,
  refusal: UpstreamRefusedError,
): Dispatch {
  return (options, handler) => {
    // One refusal object per limit: a saturated gateway refuses many calls a second, and the
    // error carries nothing specific to the request.
    if (!limit.tryAcquire()) return handler.onError(refusal);
    next(options, new ReleaseOnce(handler, limit));
  };
}

class ReleaseOnce extends ForwardingHandler {
  readonly #limit: InFlightLimit;
  #held = true;

  constructor(inner: CallHandler, limit: InFlightLimit) {
    super(inner);
    this.#limit = limit;
  }

  override onComplete(trailers: string[] | null): void {
    this.#release();
    this.inner.onComplete(trailers);
  }

  override onError(err: Error): void {
    this.#release();
    this.inner.onError(err);
  }

  #release(): void {
    if (!this.#held) return;
    this.#held = false;
    this.#limit.release();
  }
}

/** The refusal for a full limit: `upstream_saturated` or `operation_saturated`, `Retry-After: 1`. */
export function saturated(scope: 'upstream' | 'operation', name: string, max: number): UpstreamRefusedError {
  return new UpstreamRefusedError(
    scope === 'upstream' ? 'RAMPART_UPSTREAM_SATURATED' : 'RAMPART_OPERATION_SATURATED',
    `${scope} ${name} has ${max} request(s) in flight (maxInFlight)`,
    1,
  );
}
