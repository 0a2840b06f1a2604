import { createHash } from 'node:crypto';
import { resolve } from 'node:path';
import { configError } from '../core/errors.ts';
import { createStore, storeConfigProblems } from '../store/create.ts';
import type { RedisStoreState } from '../store/redis.ts';
import type { StateStore } from '../store/store.ts';
import { readReferenced } from './files.ts';
import type { Config } from './schema.ts';
import { resolveSecret } from './secrets.ts';
import type { YamlSource } from './yaml-source.ts';

/**
 * The state store a config asks for, resolved at load (secret references read, the CA file
 * read, every problem located) but not yet connected: `check` and `explain` never connect, and
 * a reload whose store section did not change keeps the running store (`fingerprint` equal),
 * so counters, replay guards and lockouts survive it.
 */
export interface StoreSpec {
  readonly type: 'memory' | 'redis';
  /** Equal for two configs that would build the same store (secrets enter only as a hash). */
  readonly fingerprint: string;
  create(onStateChange?: (state: RedisStoreState, error?: Error) => void): StateStore;
}

export function storeSpec(config: Config, source: YamlSource, dir: string): StoreSpec {
  const store = config.store;
  const problems = storeConfigProblems(store);
  if (problems.length > 0) {
    const first = problems[0]!;
    throw configError('RAMPART_ERR_CONFIG_SCHEMA', {
      // A missing field is located at the deepest part of its path that exists.
      location: source.locate(first.field.split('.')),
      field: first.field,
      message: first.message,
    });
  }
  if (store.type === 'memory' || store.redis === undefined) {
    return {
      type: 'memory',
      fingerprint: `memory:${store.memory.maxKeys}`,
      create: () => createStore(store),
    };
  }
  const at = ['store', 'redis'];
  const redis = store.redis;
  const password =
    redis.password === undefined
      ? undefined
      : resolveSecret(redis.password, dir, 'store.redis.password', source.locate([...at, 'password']));
  const ca = redis.tls?.ca
    ? readReferenced(resolve(dir, redis.tls.ca), source, [...at, 'tls', 'ca'])
    : undefined;
  const digest = createHash('sha256')
    .update(JSON.stringify(redis))
    .update('\0')
    .update(password?.reveal() ?? '')
    .update('\0')
    .update(ca ?? '')
    .digest('hex');
  return {
    type: 'redis',
    fingerprint: `redis:${digest}`,
    create: (onStateChange) =>
      createStore(store, password?.reveal(), {
        ...(ca ? { ca } : {}),
        ...(onStateChange ? { onStateChange } : {}),
      }),
  };
}
