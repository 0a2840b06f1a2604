import { performance } from 'node:perf_hooks';
import type { Pool } from 'undici';
import type { UpstreamConfig } from '../../config/schema.ts';
import { parseDuration } from '../../config/units.ts';
import { CircuitBreaker, type CircuitStateHook } from './circuit-breaker.ts';
import { withCircuitBreaker } from './circuit-dispatch.ts';
import type { Dispatch } from './dispatch.ts';
import { InFlightLimit, saturated, withInFlightLimit } from './in-flight.ts';
import { withRetry } from './retry.ts';
import { RetryBudget } from './retry-budget.ts';

export interface CallChainOptions {
  /** Where the breaker's state changes go (the compile step wires the gateway log). */
  readonly onCircuitStateChange?: CircuitStateHook;
  /** Monotonic clock in ms (tests drive it). */
  readonly now?: () => number;
  /** Jitter source in [0, 1). */
  readonly random?: () => number;
}

export interface CallChain {
  readonly dispatch: Dispatch;
  readonly inFlight: InFlightLimit | null;
  readonly breaker: CircuitBreaker | null;
  /** Idempotent requests are retried: the proxy holds their bodies in memory to replay them. */
  readonly retries: boolean;
}

const monotonic = () => performance.now();
const ignore: CircuitStateHook = () => {};

/**
 * The upstream's call chain, outermost first: in-flight limit → retries → circuit breaker →
 * pool. The limit is outermost so a request holds one slot across all its attempts; the
 * breaker is inside the retries so it judges (and can refuse) every attempt, and an open
 * circuit ends a request's retries at once. Each concern is left out when it is not
 * configured: with none, the chain is the pool's `dispatch` itself.
 */
export function createCallChain(
  name: string,
  config: UpstreamConfig,
  pool: Pool,
  options: CallChainOptions = {},
): CallChain {
  const now = options.now ?? monotonic;
  let dispatch: Dispatch = pool.dispatch.bind(pool) as Dispatch;
  let breaker: CircuitBreaker | null = null;
  const cb = config.circuitBreaker;
  if (cb) {
    breaker = new CircuitBreaker(
      name,
      {
        consecutiveFailures: cb.consecutiveFailures,
        errorRate: cb.errorRate
          ? {
              threshold: cb.errorRate.threshold,
              minRequests: cb.errorRate.minRequests,
              windowMs: parseDuration(cb.errorRate.window),
            }
          : null,
        openForMs: parseDuration(cb.openFor),
        halfOpenProbes: cb.halfOpenProbes,
      },
      options.onCircuitStateChange ?? ignore,
      now,
    );
    dispatch = withCircuitBreaker(dispatch, breaker, new Set(cb.failureStatuses));
  }
  const retry = config.retry;
  const retries = retry !== undefined && retry.attempts > 1;
  if (retries) {
    dispatch = withRetry(dispatch, {
      attempts: retry.attempts,
      onConnectFailure: retry.on.includes('connect-failure'),
      onReset: retry.on.includes('reset'),
      statuses: new Set(retry.statuses),
      budget: new RetryBudget(
        {
          ratio: retry.budget.ratio,
          minPerSecond: retry.budget.minPerSecond,
          windowMs: parseDuration(retry.budget.window),
        },
        now,
      ),
      backoffBaseMs: parseDuration(retry.backoff.base),
      backoffMaxMs: parseDuration(retry.backoff.max),
      random: options.random ?? Math.random,
    });
  }
  let inFlight: InFlightLimit | null = null;
  if (config.maxInFlight !== undefined) {
    inFlight = new InFlightLimit(config.maxInFlight);
    dispatch = withInFlightLimit(dispatch, inFlight, saturated('upstream', name, config.maxInFlight));
  }
  return { dispatch, inFlight, breaker, retries };
}
