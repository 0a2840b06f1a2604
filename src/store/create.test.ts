import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Type } from '@sinclair/typebox';
import { Ajv } from 'ajv';
import { type RedisServer, redisMissing, startRedis } from '../../test/helpers/redis-server.ts';
import { createStore, storeConfigProblems } from './create.ts';
import { MemoryStore } from './memory.ts';
import { RedisStore } from './redis.ts';
import { StoreConfig } from './schema.ts';

const ajv = new Ajv({ allErrors: true, useDefaults: true, strict: true });
ajv.addVocabulary(['x-rampart-kind', 'x-rampart-hint']);
// Embedded as the lead's ConfigSchema does (`store:` at the top level), so its defaults apply.
const check = ajv.compile<{ store: StoreConfig }>(
  Type.Object({ store: StoreConfig }, { additionalProperties: false }),
);
const validate = (store: unknown) => check({ store: structuredClone(store) });

function parse(input: unknown): StoreConfig {
  const value = { store: structuredClone(input) };
  assert.ok(check(value), JSON.stringify(check.errors));
  return value.store as StoreConfig;
}

describe('store config', () => {
  it('defaults to the memory store, bounded', () => {
    assert.deepEqual(parse({}), { type: 'memory', memory: { maxKeys: 1_000_000 } });
    assert.ok(createStore(parse({})) instanceof MemoryStore);
  });

  it('fills the Redis defaults: single mode on loopback, 100ms command timeout, rampart: prefix', () => {
    assert.deepEqual(parse({ type: 'redis', redis: {} }).redis, {
      mode: 'single',
      host: '127.0.0.1',
      port: 6379,
      db: 0,
      keyPrefix: 'rampart:',
      connectTimeout: '2s',
      commandTimeout: '100ms',
    });
  });

  it('refuses a password written in the URL or inline, unknown fields, and a brace in the prefix', () => {
    for (const redis of [
      { url: 'redis://user:hunter2@cache:6379' },
      { password: 'hunter2' },
      { hostname: 'cache' },
      { keyPrefix: 'app{1}:' },
    ]) {
      assert.equal(validate({ type: 'redis', redis }), false, JSON.stringify(redis));
    }
    assert.ok(
      validate({
        type: 'redis',
        redis: { url: 'rediss://user@[::1]:6380/2', password: 'env:REDIS_PASSWORD' },
      }),
    );
  });

  it('names the fields a mode is missing', () => {
    assert.deepEqual(
      storeConfigProblems(parse({ type: 'redis', redis: { mode: 'sentinel' } })).map((p) => p.field),
      ['store.redis.sentinels', 'store.redis.name'],
    );
    assert.deepEqual(
      storeConfigProblems(parse({ type: 'redis', redis: { mode: 'cluster', db: 1 } })).map((p) => p.field),
      ['store.redis.nodes', 'store.redis.db'],
    );
    assert.deepEqual(storeConfigProblems(parse({ type: 'redis' })), [
      { field: 'store.redis', message: 'type redis needs a `redis:` section' },
    ]);
    assert.throws(
      () => createStore(parse({ type: 'redis', redis: { mode: 'cluster' } })),
      /store\.redis\.nodes/,
    );
  });
});

describe('createStore with Redis', { skip: redisMissing(), timeout: 30_000 }, () => {
  let server: RedisServer;
  before(async () => {
    server = await startRedis({ args: ['--requirepass', 'test-only-password'] });
  });
  after(async () => {
    await server?.close();
  });

  it('connects with the resolved password and serves', async () => {
    const config = parse({ type: 'redis', redis: { port: server.port, password: 'env:REDIS_PASSWORD' } });
    const store = createStore(config, 'test-only-password');
    assert.ok(store instanceof RedisStore);
    await store.waitReady();
    assert.equal(await store.setIfAbsent('create:sig', 1000), true);
    await store.close();
  });

  it('without the password it is never ready and every call fails with the typed error', async () => {
    const errors: string[] = [];
    const config = parse({ type: 'redis', redis: { url: `redis://127.0.0.1:${server.port}` } });
    const store = createStore(config, undefined, {
      onStateChange: (_s, e) => e && errors.push(e.message),
    }) as RedisStore;
    await assert.rejects(store.waitReady(500), { code: 'RAMPART_STORE_UNAVAILABLE' });
    await assert.rejects(store.count('x'), { code: 'RAMPART_STORE_UNAVAILABLE' });
    assert.ok(
      errors.some((m) => /NOAUTH|auth/i.test(m)),
      errors.join('; '),
    );
    await store.close();
  });
});
