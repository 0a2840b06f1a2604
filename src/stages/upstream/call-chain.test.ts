import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Dispatcher, Pool } from 'undici';
import type { UpstreamConfig } from '../../config/schema.ts';
import { createCallChain } from './call-chain.ts';
import type { CallHandler } from './dispatch.ts';

const BASE = {
  url: 'http://127.0.0.1:1',
  connections: 8,
  timeouts: { connect: '1s', headers: '1s', body: '1s' },
  keepAliveTimeout: '4s',
  tls: { rejectUnauthorized: true },
} as UpstreamConfig;

const RETRY = {
  attempts: 3,
  on: ['connect-failure', 'reset'],
  statuses: [],
  budget: { ratio: 1, minPerSecond: 100, window: '10s' },
  backoff: { base: '20ms', max: '20ms' },
} as NonNullable<UpstreamConfig['retry']>;

/** A pool whose every call fails to connect, counting the calls. */
function refusingPool(): { pool: Pool; calls: () => number } {
  let calls = 0;
  const pool = {
    dispatch(_o: Dispatcher.DispatchOptions, h: CallHandler) {
      calls++;
      setImmediate(() => h.onError(Object.assign(new Error('refused'), { code: 'ECONNREFUSED' })));
      return true;
    },
  } as unknown as Pool;
  return { pool, calls: () => calls };
}

function ending(): { h: CallHandler; code: Promise<string> } {
  let done!: (code: string) => void;
  const code = new Promise<string>((r) => {
    done = r;
  });
  const h: CallHandler = {
    onConnect: () => {},
    onHeaders: () => true,
    onData: () => true,
    onComplete: () => done('complete'),
    onError: (err) => done(String((err as { code?: string }).code)),
  };
  return { h, code };
}

const GET = { method: 'GET', path: '/' } as Dispatcher.DispatchOptions;

describe('createCallChain', () => {
  it('builds no wrapper when nothing is configured', () => {
    const chain = createCallChain('u', BASE, refusingPool().pool);
    assert.equal(chain.inFlight, null);
    assert.equal(chain.breaker, null);
    assert.equal(chain.retries, false);
    assert.equal(
      createCallChain('u', { ...BASE, retry: { ...RETRY, attempts: 1 } }, refusingPool().pool).retries,
      false,
    );
  });

  it('holds one in-flight slot per request across all its attempts', async () => {
    const { pool, calls } = refusingPool();
    const chain = createCallChain('u', { ...BASE, maxInFlight: 1, retry: RETRY }, pool);
    const first = ending();
    chain.dispatch(GET, first.h);
    assert.equal(chain.inFlight!.count, 1);
    const second = ending();
    chain.dispatch(GET, second.h);
    assert.equal(await second.code, 'RAMPART_UPSTREAM_SATURATED', 'refused while the first one retries');
    assert.equal(await first.code, 'ECONNREFUSED');
    assert.equal(calls(), 3, 'the first request made its three attempts');
    assert.equal(chain.inFlight!.count, 0);
  });

  it('lets the breaker judge every attempt, and an open circuit ends the retries', async () => {
    const { pool, calls } = refusingPool();
    const events: string[] = [];
    const chain = createCallChain(
      'u',
      {
        ...BASE,
        retry: { ...RETRY, attempts: 5 },
        circuitBreaker: {
          consecutiveFailures: 2,
          openFor: '30s',
          halfOpenProbes: 1,
          failureStatuses: [502, 503, 504],
        },
      },
      pool,
      { onCircuitStateChange: (u, from, to, reason) => events.push(`${u} ${from}→${to} ${reason}`) },
    );
    const call = ending();
    chain.dispatch(GET, call.h);
    assert.equal(await call.code, 'RAMPART_CIRCUIT_OPEN');
    assert.equal(calls(), 2, 'two attempts failed and opened the circuit; the third was refused');
    assert.equal(chain.breaker!.state, 'open');
    assert.deepEqual(events, ['u closed→open consecutive_failures']);
  });
});
