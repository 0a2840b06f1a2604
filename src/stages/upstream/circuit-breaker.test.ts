import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { CircuitBreaker, type CircuitBreakerConfig, type CircuitState, REJECTED } from './circuit-breaker.ts';

function setup(overrides: Partial<CircuitBreakerConfig> = {}) {
  let t = 10_000;
  const events: string[] = [];
  const config: CircuitBreakerConfig = {
    consecutiveFailures: 3,
    errorRate: null,
    openForMs: 1000,
    halfOpenProbes: 1,
    ...overrides,
  };
  const breaker = new CircuitBreaker(
    'orders',
    config,
    (upstream, from: CircuitState, to: CircuitState, reason) =>
      events.push(`${upstream} ${from}→${to} ${reason}`),
    () => t,
  );
  return { breaker, events, advance: (ms: number) => (t += ms) };
}

/** Admit one call and end it with `verdict`; returns whether it was admitted. */
function call(breaker: CircuitBreaker, verdict: 'success' | 'failure' | 'neutral'): boolean {
  const ticket = breaker.admit();
  if (ticket === REJECTED) return false;
  breaker.record(ticket, verdict);
  return true;
}

describe('CircuitBreaker', () => {
  it('opens after consecutiveFailures failures in a row, and a success in between resets the run', () => {
    const { breaker, events } = setup();
    call(breaker, 'failure');
    call(breaker, 'failure');
    call(breaker, 'success');
    call(breaker, 'failure');
    call(breaker, 'failure');
    assert.equal(breaker.state, 'closed', 'two failures since the last success');
    call(breaker, 'failure');
    assert.equal(breaker.state, 'open');
    assert.deepEqual(events, ['orders closed→open consecutive_failures']);
    assert.equal(call(breaker, 'success'), false, 'an open circuit refuses calls');
  });

  it('ignores neutral verdicts (client aborts) while closed', () => {
    const { breaker } = setup({ consecutiveFailures: 2 });
    call(breaker, 'failure');
    for (let i = 0; i < 10; i++) call(breaker, 'neutral');
    assert.equal(breaker.state, 'closed');
    call(breaker, 'failure');
    assert.equal(breaker.state, 'open', 'neutral verdicts neither count nor reset the run');
  });

  it('goes half-open after openFor, admits only halfOpenProbes probes, and closes when they succeed', () => {
    const { breaker, events, advance } = setup({ halfOpenProbes: 2 });
    for (let i = 0; i < 3; i++) call(breaker, 'failure');
    advance(999);
    assert.equal(breaker.state, 'open');
    assert.equal(breaker.retryAfterSeconds(), 1);
    advance(1);
    const a = breaker.admit();
    const b = breaker.admit();
    assert.notEqual(a, REJECTED);
    assert.notEqual(b, REJECTED);
    assert.equal(breaker.admit(), REJECTED, 'a third probe while two are out');
    assert.equal(breaker.state, 'half-open');
    breaker.record(a, 'success');
    assert.equal(breaker.state, 'half-open', 'one of two probes succeeded');
    breaker.record(b, 'success');
    assert.equal(breaker.state, 'closed');
    assert.deepEqual(events, [
      'orders closed→open consecutive_failures',
      'orders open→half-open open_for_elapsed',
      'orders half-open→closed probes_succeeded',
    ]);
  });

  it('re-opens on a failed probe, for another openFor', () => {
    const { breaker, events, advance } = setup();
    for (let i = 0; i < 3; i++) call(breaker, 'failure');
    advance(1000);
    assert.equal(call(breaker, 'failure'), true);
    assert.equal(breaker.state, 'open');
    assert.equal(events.at(-1), 'orders half-open→open probe_failed');
    advance(500);
    assert.equal(breaker.admit(), REJECTED);
    advance(500);
    assert.equal(breaker.state, 'half-open');
  });

  it('frees a probe slot when the probe ends neutral (client abort) without deciding', () => {
    const { breaker, advance } = setup();
    for (let i = 0; i < 3; i++) call(breaker, 'failure');
    advance(1000);
    const probe = breaker.admit();
    assert.equal(breaker.admit(), REJECTED);
    breaker.record(probe, 'neutral');
    assert.equal(breaker.state, 'half-open');
    assert.equal(call(breaker, 'success'), true, 'the slot is free again');
    assert.equal(breaker.state, 'closed');
  });

  it('ignores late verdicts of calls admitted before the state changed', () => {
    const { breaker, advance } = setup();
    const late = [breaker.admit(), breaker.admit(), breaker.admit()];
    for (let i = 0; i < 3; i++) call(breaker, 'failure');
    assert.equal(breaker.state, 'open');
    advance(1000);
    const probe = breaker.admit();
    for (const ticket of late) breaker.record(ticket, 'failure');
    assert.equal(breaker.state, 'half-open', 'failures of calls admitted while closed do not re-open it');
    breaker.record(probe, 'success');
    assert.equal(breaker.state, 'closed');
  });

  it('opens on the error rate over the window once minRequests calls were made', () => {
    const { breaker, events, advance } = setup({
      consecutiveFailures: 0,
      errorRate: { threshold: 0.5, minRequests: 10, windowMs: 10_000 },
    });
    // Alternating: never two failures in a row, and 50% once there are 10 calls.
    for (let i = 0; i < 8; i++) call(breaker, i % 2 === 0 ? 'success' : 'failure');
    assert.equal(breaker.state, 'closed', '4 of 8: below minRequests');
    call(breaker, 'success');
    call(breaker, 'failure');
    assert.equal(breaker.state, 'open');
    assert.deepEqual(events, ['orders closed→open error_rate']);
    advance(1000);
    call(breaker, 'success');
    assert.equal(breaker.state, 'closed');
    // The window restarted when the circuit closed: old failures no longer count.
    for (let i = 0; i < 9; i++) call(breaker, i < 4 ? 'failure' : 'success');
    call(breaker, 'success');
    assert.equal(breaker.state, 'closed', '4 of 10 is under the threshold');
  });

  it('lets failures age out of the error-rate window', () => {
    const { breaker, advance } = setup({
      consecutiveFailures: 0,
      errorRate: { threshold: 0.5, minRequests: 4, windowMs: 1000 },
    });
    call(breaker, 'success');
    call(breaker, 'failure');
    call(breaker, 'failure');
    advance(1500);
    call(breaker, 'success');
    call(breaker, 'failure');
    assert.equal(breaker.state, 'closed', 'counting the aged-out calls it would be 3 failures of 5');
    call(breaker, 'success');
    call(breaker, 'success');
    call(breaker, 'failure');
    assert.equal(breaker.state, 'closed', '2 failures in the 5 calls of the window');
  });

  it('says how long until probes start in Retry-After', () => {
    const { breaker, advance } = setup({ openForMs: 30_000 });
    for (let i = 0; i < 3; i++) call(breaker, 'failure');
    assert.equal(breaker.retryAfterSeconds(), 30);
    advance(20_500);
    assert.equal(breaker.retryAfterSeconds(), 10);
  });
});
