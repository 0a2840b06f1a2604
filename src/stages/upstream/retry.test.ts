import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { describe, it } from 'node:test';
import { setImmediate as tick } from 'node:timers/promises';
import type { Dispatcher } from 'undici';
import type { CallHandler, Dispatch } from './dispatch.ts';
import { isReplayable, type RetryPolicy, withRetry } from './retry.ts';
import { RetryBudget } from './retry-budget.ts';

/** What one attempt does to its handler, as undici would. */
type Attempt = (h: CallHandler) => void;

const failWith =
  (code: string): Attempt =>
  (h) =>
    h.onError(Object.assign(new Error(code), { code }));

/** Connects, answers `status` with a body; honours an abort as undici does (onError, nothing more). */
const answer =
  (status: number, body = 'ok'): Attempt =>
  (h) => {
    let aborted = false;
    h.onConnect((err) => {
      if (aborted) return;
      aborted = true;
      h.onError(err ?? new Error('aborted'));
    });
    if (aborted) return;
    if (h.onHeaders(status, [], () => {}, '') === false && aborted) return;
    if (aborted) return;
    h.onData(Buffer.from(body));
    h.onComplete(null);
  };

/** Connects and answers headers, then the connection resets mid-body. */
const resetAfterHeaders: Attempt = (h) => {
  h.onConnect(() => {});
  h.onHeaders(200, [], () => {}, '');
  h.onData(Buffer.from('par'));
  h.onError(Object.assign(new Error('other side closed'), { code: 'UND_ERR_SOCKET' }));
};

function scripted(attempts: Attempt[]): { next: Dispatch; calls: Dispatcher.DispatchOptions[] } {
  const calls: Dispatcher.DispatchOptions[] = [];
  const next: Dispatch = (options, handler) => {
    const attempt = attempts[calls.length] ?? attempts.at(-1)!;
    calls.push(options);
    setImmediate(() => attempt(handler));
  };
  return { next, calls };
}

function recorder(): CallHandler & { events: string[]; ended: Promise<void>; abort?: (e?: Error) => void } {
  let end!: () => void;
  const ended = new Promise<void>((r) => {
    end = r;
  });
  const rec = {
    events: [] as string[],
    ended,
    abort: undefined as ((e?: Error) => void) | undefined,
    onConnect(abort: (e?: Error) => void) {
      rec.abort = abort;
      rec.events.push('connect');
    },
    onHeaders(status: number) {
      rec.events.push(`headers ${status}`);
      return true;
    },
    onData(chunk: Buffer) {
      rec.events.push(`data ${chunk}`);
      return true;
    },
    onComplete() {
      rec.events.push('complete');
      end();
    },
    onError(err: Error) {
      rec.events.push(`error ${(err as { code?: string }).code ?? err.message}`);
      end();
    },
  };
  return rec;
}

function policy(overrides: Partial<RetryPolicy> = {}): RetryPolicy {
  return {
    attempts: 3,
    onConnectFailure: true,
    onReset: true,
    statuses: new Set([503]),
    budget: new RetryBudget({ ratio: 1, minPerSecond: 100, windowMs: 10_000 }, () => 0),
    backoffBaseMs: 10,
    backoffMaxMs: 100,
    random: () => 0,
    ...overrides,
  };
}

const GET = { method: 'GET', path: '/x' } as Dispatcher.DispatchOptions;

describe('withRetry', () => {
  it('retries a GET after a refused connection, and the handler sees one clean call', async () => {
    const { next, calls } = scripted([failWith('ECONNREFUSED'), answer(200)]);
    const h = recorder();
    withRetry(next, policy())(GET, h);
    await h.ended;
    assert.equal(calls.length, 2);
    assert.deepEqual(h.events, ['connect', 'headers 200', 'data ok', 'complete']);
  });

  it('retries a reset before the response, up to attempts, then reports the last error', async () => {
    const { next, calls } = scripted([
      failWith('ECONNRESET'),
      failWith('UND_ERR_SOCKET'),
      failWith('ECONNRESET'),
    ]);
    const h = recorder();
    withRetry(next, policy())(GET, h);
    await h.ended;
    assert.equal(calls.length, 3);
    assert.deepEqual(h.events, ['connect', 'error ECONNRESET']);
  });

  it('discards a retryable status unread and answers with the next attempt', async () => {
    const { next, calls } = scripted([answer(503, 'busy'), answer(200, 'fine')]);
    const h = recorder();
    withRetry(next, policy())(GET, h);
    await h.ended;
    assert.equal(calls.length, 2);
    assert.deepEqual(h.events, ['connect', 'headers 200', 'data fine', 'complete']);
  });

  it('relays a retryable status when no attempt is left', async () => {
    const { next, calls } = scripted([answer(503, 'busy')]);
    const h = recorder();
    withRetry(next, policy({ attempts: 2 }))(GET, h);
    await h.ended;
    assert.equal(calls.length, 2);
    assert.deepEqual(h.events, ['connect', 'headers 503', 'data busy', 'complete']);
  });

  it('never retries once the response head was handed on', async () => {
    const { next, calls } = scripted([resetAfterHeaders, answer(200)]);
    const h = recorder();
    withRetry(next, policy())(GET, h);
    await h.ended;
    assert.equal(calls.length, 1);
    assert.deepEqual(h.events, ['connect', 'headers 200', 'data par', 'error UND_ERR_SOCKET']);
  });

  it('does not retry timeouts or TLS failures (the request may have been acted on, or will fail again)', async () => {
    for (const code of ['UND_ERR_HEADERS_TIMEOUT', 'ERR_TLS_CERT_ALTNAME_INVALID']) {
      const { next, calls } = scripted([failWith(code), answer(200)]);
      const h = recorder();
      withRetry(next, policy())(GET, h);
      await h.ended;
      assert.equal(calls.length, 1, code);
      assert.deepEqual(h.events, ['connect', `error ${code}`]);
    }
  });

  it('only retries the failures `on` names', async () => {
    const { next, calls } = scripted([failWith('ECONNRESET'), answer(200)]);
    const h = recorder();
    withRetry(next, policy({ onReset: false }))(GET, h);
    await h.ended;
    assert.equal(calls.length, 1);
  });

  for (const method of ['POST', 'PATCH']) {
    it(`never retries a ${method}`, async () => {
      const { next, calls } = scripted([failWith('ECONNREFUSED'), answer(200)]);
      const h = recorder();
      withRetry(next, policy())({ method, path: '/x' } as Dispatcher.DispatchOptions, h);
      await h.ended;
      assert.equal(calls.length, 1);
      assert.deepEqual(h.events, ['error ECONNREFUSED']);
    });
  }

  it('replays bodies held in memory, never streamed ones', () => {
    assert.equal(isReplayable('PUT', Buffer.from('x')), true);
    assert.equal(isReplayable('PUT', null), true);
    assert.equal(isReplayable('DELETE', undefined), true);
    assert.equal(isReplayable('PUT', Readable.from(['x'])), false);
    assert.equal(isReplayable('POST', null), false);
    assert.equal(isReplayable('PATCH', Buffer.from('x')), false);
    for (const m of ['GET', 'HEAD', 'OPTIONS']) assert.equal(isReplayable(m, null), true, m);
  });

  it('makes no retry the budget cannot pay for', async () => {
    // No floor, 20%: 10 requests pay for 2 retries.
    const budget = new RetryBudget({ ratio: 0.2, minPerSecond: 0, windowMs: 10_000 }, () => 0);
    const { next, calls } = scripted([failWith('ECONNREFUSED')]);
    const dispatch = withRetry(next, policy({ attempts: 5, budget }));
    const handlers = Array.from({ length: 10 }, () => recorder());
    for (const h of handlers) dispatch(GET, h);
    await Promise.all(handlers.map((h) => h.ended));
    assert.equal(calls.length, 12, '10 requests + 2 retries, not 10 × 5');
  });

  it('cancels the backoff wait when the client aborts, and dispatches nothing more', async () => {
    const { next, calls } = scripted([failWith('ECONNREFUSED'), answer(200)]);
    const h = recorder();
    withRetry(next, policy({ backoffBaseMs: 60_000, backoffMaxMs: 60_000, random: () => 0.5 }))(GET, h);
    await tick();
    await tick();
    assert.equal(calls.length, 1, 'waiting to retry');
    h.abort!(Object.assign(new Error('gone'), { code: 'RAMPART_CLIENT_ABORTED' }));
    await h.ended;
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(calls.length, 1);
    assert.deepEqual(h.events, ['connect', 'error RAMPART_CLIENT_ABORTED']);
  });

  it('waits with full jitter: random × min(max, base × 2^n)', async () => {
    const waits: number[] = [];
    const realSetTimeout = globalThis.setTimeout;
    const { next } = scripted([failWith('ECONNREFUSED')]);
    const h = recorder();
    globalThis.setTimeout = ((fn: () => void, ms: number) => {
      waits.push(ms);
      return realSetTimeout(fn, 0);
    }) as typeof setTimeout;
    try {
      withRetry(next, policy({ attempts: 5, backoffBaseMs: 40, backoffMaxMs: 100, random: () => 0.5 }))(
        GET,
        h,
      );
      await h.ended;
    } finally {
      globalThis.setTimeout = realSetTimeout;
    }
    assert.deepEqual(waits, [20, 40, 50, 50]);
  });
});

describe('RetryBudget', () => {
  it('allows ratio × requests plus minPerSecond × window retries over the window, then refills', () => {
    let t = 0;
    const budget = new RetryBudget({ ratio: 0.5, minPerSecond: 1, windowMs: 2000 }, () => t);
    for (let i = 0; i < 4; i++) budget.deposit();
    // 2 (floor: 1/s over 2 s) + 0.5 × 4 = 4 retries.
    const granted = Array.from({ length: 6 }, () => budget.tryWithdraw()).filter(Boolean).length;
    assert.equal(granted, 4);
    t += 2500;
    assert.equal(budget.tryWithdraw(), true, 'the window moved on: the floor is available again');
    assert.equal(budget.tryWithdraw(), true);
    assert.equal(budget.tryWithdraw(), false);
  });
});
