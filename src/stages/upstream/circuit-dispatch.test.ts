import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher } from 'undici';
import { CircuitBreaker } from './circuit-breaker.ts';
import { withCircuitBreaker } from './circuit-dispatch.ts';
import type { CallHandler, Dispatch } from './dispatch.ts';
import { ClientAbortedError } from './errors.ts';

/** How one call ends, as undici reports it to the handler. */
type Ending = (h: CallHandler) => void;

const status =
  (code: number): Ending =>
  (h) => {
    h.onConnect(() => {});
    h.onHeaders(code, [], () => {}, '');
    h.onComplete(null);
  };
const error =
  (err: Error, afterStatus?: number): Ending =>
  (h) => {
    h.onConnect(() => {});
    if (afterStatus !== undefined) h.onHeaders(afterStatus, [], () => {}, '');
    h.onError(err);
  };
const coded = (code: string) => Object.assign(new Error(code), { code });

const sink: CallHandler = {
  onConnect: () => {},
  onHeaders: () => true,
  onData: () => true,
  onComplete: () => {},
  onError: () => {},
};

/** A breaker that opens on the first failure; runs `ending` once and says whether it opened. */
function opensOn(ending: Ending, failureStatuses = [502, 503, 504]): boolean {
  const breaker = new CircuitBreaker(
    'u',
    { consecutiveFailures: 1, errorRate: null, openForMs: 60_000, halfOpenProbes: 1 },
    () => {},
    () => 0,
  );
  const next: Dispatch = (_options, handler) => ending(handler);
  withCircuitBreaker(next, breaker, new Set(failureStatuses))({} as Dispatcher.DispatchOptions, sink);
  return breaker.state === 'open';
}

describe('withCircuitBreaker verdicts', () => {
  it('counts failure statuses, connect errors, timeouts and resets (even mid-body) as failures', () => {
    assert.equal(opensOn(status(503)), true);
    assert.equal(opensOn(error(coded('ECONNREFUSED'))), true);
    assert.equal(opensOn(error(coded('UND_ERR_HEADERS_TIMEOUT'))), true);
    assert.equal(opensOn(error(coded('UND_ERR_SOCKET'), 200)), true, 'a reset after a 200 head');
  });

  it('counts other statuses, 4xx and 500 by default, as successes', () => {
    assert.equal(opensOn(status(200)), false);
    assert.equal(opensOn(status(404)), false);
    assert.equal(opensOn(status(500)), false);
    assert.equal(opensOn(status(500), [500]), true, 'unless failureStatuses names them');
  });

  it('never counts a client abort before the status, and judges one after it by the status', () => {
    assert.equal(opensOn(error(new ClientAbortedError())), false);
    assert.equal(opensOn(error(new ClientAbortedError(), 200)), false);
    assert.equal(opensOn(error(new ClientAbortedError(), 502)), true);
  });

  it('refuses calls while open without calling next, with Retry-After until the probes', () => {
    const breaker = new CircuitBreaker(
      'u',
      { consecutiveFailures: 1, errorRate: null, openForMs: 5000, halfOpenProbes: 1 },
      () => {},
      () => 0,
    );
    let calls = 0;
    const dispatch = withCircuitBreaker(
      (_o, h) => {
        calls++;
        status(502)(h);
      },
      breaker,
      new Set([502]),
    );
    dispatch({} as Dispatcher.DispatchOptions, sink);
    let refused: Error | null = null;
    dispatch({} as Dispatcher.DispatchOptions, { ...sink, onError: (e) => (refused = e) });
    assert.equal(calls, 1);
    assert.equal((refused as unknown as { code: string }).code, 'RAMPART_CIRCUIT_OPEN');
    assert.equal((refused as unknown as { retryAfter: number }).retryAfter, 5);
  });
});
