import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import type { RateCheck } from '../../src/store/limits.ts';
import { RedisStore, type RedisStoreState } from '../../src/store/redis.ts';
import { CONSUME } from '../../src/store/redis-scripts.ts';
import { StoreUnavailableError } from '../../src/store/store.ts';
import { freePort, type RedisServer, redisMissing, startRedis } from '../helpers/redis-server.ts';
import { waitFor } from './support/wait-for.ts';

/**
 * What a gateway sees when its Redis goes away: every call fails fast with a typed error (so
 * each limit can apply failOpen/failClosed within its timeout, never hanging a request), and
 * the same store object serves again once Redis is back — without a restart of the gateway.
 * Timings are bounds against hanging, not speed measurements (those live in bench/).
 */

const HANG_BOUND_MS = 2000;
const HOUR = 3_600_000;

async function rejectsFast(what: string, call: () => Promise<unknown>): Promise<void> {
  const started = performance.now();
  await assert.rejects(call(), (err: unknown) => {
    assert.ok(err instanceof StoreUnavailableError, `${what}: ${err}`);
    assert.equal(err.code, 'RAMPART_STORE_UNAVAILABLE');
    return true;
  });
  const took = performance.now() - started;
  assert.ok(took < HANG_BOUND_MS, `${what} rejected after ${Math.round(took)} ms`);
}

describe('Redis store outage', { skip: redisMissing(), timeout: 60_000 }, () => {
  let server: RedisServer;
  let store: RedisStore;
  const states: RedisStoreState[] = [];
  const printed: unknown[][] = [];
  const consoleError = console.error;
  const check: RateCheck = {
    kind: 'rate',
    key: `outage:${randomUUID()}`,
    intervalMs: HOUR,
    burst: 10,
    cost: 1,
    enforce: true,
  };

  before(async () => {
    // ioredis prints "[ioredis] Unhandled error event" when nobody listens: nothing may be printed.
    console.error = (...args: unknown[]) => printed.push(args);
    server = await startRedis();
    store = new RedisStore({ mode: 'single', port: server.port, onStateChange: (s) => states.push(s) });
    await store.waitReady();
  });
  after(async () => {
    console.error = consoleError;
    await store?.close();
    await server?.close();
  });

  it('serves before the outage', async () => {
    assert.equal((await store.consume([check])).states[0]!.remaining, 9);
  });

  it('rejects every call with StoreUnavailableError while Redis is stopped, without hanging', async () => {
    await server.stop();
    await waitFor('the store to notice', () => !store.ready);
    await rejectsFast('consume', () => store.consume([check]));
    await rejectsFast('increment', () => store.increment('outage:n', 1000));
    await rejectsFast('setIfAbsent', () => store.setIfAbsent('outage:sig', 1000));
    await rejectsFast('count', () => store.count('outage:n'));
    assert.ok(states.includes('unavailable'), `states: ${states.join(', ')}`);
  });

  it('serves again after redis-server restarts on the same port, with its script reloaded', async () => {
    // A restarted Redis has an empty script cache: the store loads it again on reconnect, or
    // on NOSCRIPT at its first call (that path: redis.test.ts, SCRIPT FLUSH).
    await server.start();
    const outcome = await waitFor(
      'the store to serve again',
      () => store.consume([check]).catch(() => undefined),
      {
        timeoutMs: 10_000,
      },
    );
    // Nothing persisted (--save ''): the limit starts again from full.
    assert.equal(outcome.states[0]!.remaining, 9);
    assert.equal(store.ready, true);
    assert.equal(await server.cli('script', 'exists', CONSUME.sha), '1');
  });

  it('rejects within the command timeout while Redis is frozen, then recovers', async () => {
    server.pause();
    try {
      await rejectsFast('consume against a frozen Redis', () => store.consume([check]));
      await rejectsFast('setIfAbsent against a frozen Redis', () => store.setIfAbsent('outage:sig2', 1000));
    } finally {
      server.resume();
    }
    const outcome = await waitFor('the store to serve after the freeze', () =>
      store.consume([check]).catch(() => undefined),
    );
    assert.ok(outcome.states[0]!.remaining <= 8);
  });

  it('starts before Redis does, and serves once it is up', async () => {
    const port = await freePort();
    const early = new RedisStore({ mode: 'single', port });
    let late: RedisServer | undefined;
    try {
      assert.equal(early.ready, false);
      await rejectsFast('consume before Redis exists', () => early.consume([check]));
      late = await startRedis({ port });
      const outcome = await waitFor('the early store to connect', () =>
        early.consume([check]).catch(() => undefined),
      );
      assert.equal(outcome.allowed, true);
    } finally {
      await early.close();
      await late?.close();
    }
  });

  it('printed nothing to the console', () => {
    assert.deepEqual(printed, []);
  });
});
