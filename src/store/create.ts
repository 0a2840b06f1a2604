import { parseDuration } from '../config/units.ts';
import { MemoryStore } from './memory.ts';
import { createRedisStore, type RedisStoreState } from './redis.ts';
import type { StoreConfig } from './schema.ts';
import type { StateStore } from './store.ts';

/** What the caller resolves before the store is built (secrets and files, relative to the config). */
export interface StoreResolved {
  /** The CA certificates' PEM content when `store.redis.tls.ca` is set. */
  readonly ca?: string | Buffer;
  /** Redis connection state changes (log them; a readiness probe can read `ready`). */
  readonly onStateChange?: (state: RedisStoreState, error?: Error) => void;
}

/** A problem of a `store:` section the schema cannot express (which fields a mode needs). */
export interface StoreConfigProblem {
  readonly field: string;
  readonly message: string;
}

export function storeConfigProblems(config: StoreConfig): StoreConfigProblem[] {
  if (config.type !== 'redis') return [];
  const r = config.redis;
  if (r === undefined) return [{ field: 'store.redis', message: 'type redis needs a `redis:` section' }];
  const problems: StoreConfigProblem[] = [];
  const field = (name: string, message: string) => problems.push({ field: `store.redis.${name}`, message });
  if (r.mode === 'sentinel') {
    if (!r.sentinels?.length) field('sentinels', 'sentinel mode needs at least one sentinel');
    if (!r.name) field('name', 'sentinel mode needs the master group name');
  }
  if (r.mode === 'cluster') {
    if (!r.nodes?.length) field('nodes', 'cluster mode needs at least one startup node');
    if (r.db !== 0) field('db', 'a Redis Cluster has only database 0');
  }
  if (r.url !== undefined && r.mode !== 'single') field('url', 'url is for single mode');
  return problems;
}

/**
 * Build the configured store. `password` is `store.redis.password` already resolved from its
 * secret reference. A config with problems (storeConfigProblems) throws rather than connect to
 * something other than what was meant.
 */
export function createStore(
  config: StoreConfig,
  password?: string,
  resolved: StoreResolved = {},
): StateStore {
  if (config.type === 'memory') return new MemoryStore({ maxKeys: config.memory.maxKeys });
  const problems = storeConfigProblems(config);
  if (problems.length > 0) throw new TypeError(problems.map((p) => `${p.field}: ${p.message}`).join('; '));
  const r = config.redis!;
  if (r.tls?.ca !== undefined && resolved.ca === undefined) {
    throw new TypeError('store.redis.tls.ca is set: pass the CA file content to createStore');
  }
  return createRedisStore({
    mode: r.mode,
    host: r.host,
    port: r.port,
    url: r.url,
    sentinels: r.sentinels,
    name: r.name,
    nodes: r.nodes,
    username: r.username,
    password,
    db: r.url !== undefined && r.db === 0 ? undefined : r.db,
    keyPrefix: r.keyPrefix,
    tls: r.tls
      ? { ca: resolved.ca, servername: r.tls.servername }
      : r.url?.startsWith('rediss://') || undefined,
    connectTimeoutMs: parseDuration(r.connectTimeout),
    commandTimeoutMs: parseDuration(r.commandTimeout),
    onStateChange: resolved.onStateChange,
  });
}
