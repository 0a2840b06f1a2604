import { Cluster, type ClusterOptions, Redis, type RedisOptions } from 'ioredis';

/** Where the Redis store connects, and how. Durations are milliseconds. */
export interface RedisConnectionOptions {
  /** `single`: one server (host/port or url); `sentinel`: the master `name` found through `sentinels`; `cluster`: Redis Cluster from `nodes`. */
  readonly mode: 'single' | 'sentinel' | 'cluster';
  readonly host?: string;
  readonly port?: number;
  /** `redis://` or `rediss://` (TLS) URL, single mode; its credentials and db count unless given here. */
  readonly url?: string;
  readonly sentinels?: readonly { readonly host: string; readonly port: number }[];
  /** The master group name the sentinels monitor. */
  readonly name?: string;
  /** Cluster startup nodes (any reachable master or replica; the rest are discovered). */
  readonly nodes?: readonly { readonly host: string; readonly port: number }[];
  readonly username?: string;
  /** Already resolved from its secret reference. */
  readonly password?: string;
  /** Database number (single, sentinel; a cluster has only db 0). */
  readonly db?: number;
  /** TLS to Redis (and to the sentinels): `true` with the system CAs, or the CA certificates' PEM content. */
  readonly tls?: boolean | { readonly ca?: string | Buffer; readonly servername?: string };
  /** Connect (and reconnect) attempt timeout. */
  readonly connectTimeoutMs?: number;
  /** Longest a store call may take before it rejects with StoreUnavailableError. */
  readonly commandTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 2000;
export const DEFAULT_COMMAND_TIMEOUT_MS = 100;

/**
 * Reconnect backoff: 50 ms doubling, capped at 1 s, forever. A gateway must come back by itself
 * when Redis returns (after a restart or a failover), and within about a second of it.
 */
export function backoff(attempt: number): number {
  return Math.min(50 * 2 ** Math.min(attempt, 5), 1000);
}

/**
 * Build the ioredis client. The options that make it fail fast instead of hanging a request:
 * - `enableOfflineQueue: false`: while disconnected a command rejects at once, rather than
 *   waiting in a queue for a Redis that may be gone for minutes;
 * - `commandTimeout`: a connected but slow (or stopped) Redis rejects within the timeout;
 * - `socketTimeout`: a socket that returns nothing for 10 timeouts (at least 1 s) is destroyed
 *   and reconnected, so replies owed by a stalled server do not pile up in the command queue;
 * - `maxRetriesPerRequest: 0`, `autoResendUnfulfilledCommands: false`: a command lost with a
 *   connection is not silently replayed later — the caller has already applied its failure mode,
 *   and a consume replayed after the fact would charge a request twice.
 */
export function connect(options: RedisConnectionOptions): Redis | Cluster {
  const commandTimeout = options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS;
  const tls = tlsOptions(options.tls);
  const common: RedisOptions = {
    username: options.username,
    password: options.password,
    connectTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
    commandTimeout,
    socketTimeout: Math.max(1000, commandTimeout * 10),
    maxRetriesPerRequest: 0,
    autoResendUnfulfilledCommands: false,
    enableReadyCheck: true,
    connectionName: 'rampart',
    // After a Sentinel failover the old master turns replica and refuses writes: reconnect, so
    // the connector asks the sentinels for the new master.
    reconnectOnError: (err) => err.message.startsWith('READONLY'),
    ...(tls ? { tls } : {}),
  };
  if (options.mode === 'cluster') {
    const nodes = options.nodes ?? [];
    if (nodes.length === 0)
      throw new TypeError('store.redis.nodes: cluster mode needs at least one startup node');
    const clusterOptions: ClusterOptions = {
      enableOfflineQueue: false,
      enableReadyCheck: true,
      clusterRetryStrategy: backoff,
      clusterNodeRetryStrategy: backoff,
      retryDelayOnFailover: 50,
      retryDelayOnClusterDown: 50,
      retryDelayOnTryAgain: 50,
      slotsRefreshTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      redisOptions: common,
    };
    return new Cluster(
      nodes.map((n) => ({ host: n.host, port: n.port })),
      clusterOptions,
    );
  }
  const base: RedisOptions = {
    ...common,
    enableOfflineQueue: false,
    retryStrategy: backoff,
    db: options.db ?? 0,
  };
  if (options.mode === 'sentinel') {
    const sentinels = options.sentinels ?? [];
    if (sentinels.length === 0 || !options.name) {
      throw new TypeError('store.redis: sentinel mode needs `sentinels` and the master `name`');
    }
    return new Redis({
      ...base,
      sentinels: sentinels.map((s) => ({ host: s.host, port: s.port })),
      name: options.name,
      sentinelRetryStrategy: backoff,
      sentinelCommandTimeout: options.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS,
      ...(tls ? { enableTLSForSentinelMode: true, sentinelTLS: tls } : {}),
    });
  }
  if (options.url !== undefined) {
    // The URL gives host, port and maybe credentials and db; explicit options win.
    const fromUrl: RedisOptions = { ...base };
    if (options.db === undefined) delete fromUrl.db;
    if (options.password === undefined) delete fromUrl.password;
    if (options.username === undefined) delete fromUrl.username;
    return new Redis(options.url, fromUrl);
  }
  return new Redis({ ...base, host: options.host ?? '127.0.0.1', port: options.port ?? 6379 });
}

function tlsOptions(
  tls: RedisConnectionOptions['tls'],
): { ca?: string | Buffer; servername?: string } | undefined {
  if (tls === undefined || tls === false) return undefined;
  if (tls === true) return {};
  return { ...(tls.ca ? { ca: tls.ca } : {}), ...(tls.servername ? { servername: tls.servername } : {}) };
}
