import { type Static, Type } from '@sinclair/typebox';
import { Duration, FilePath, SecretRef, Strict, StringEnum } from '../config/typedefs.ts';

/**
 * The `store:` section: where counters, quotas, replay guards and block lists live. `memory`
 * keeps them in this process (one gateway instance); `redis` shares them between every instance
 * pointed at the same Redis, which is what makes a limit of N mean N for the whole deployment.
 */

const HostPort = Strict({
  host: Type.String({ minLength: 1, description: 'Host name or address.' }),
  port: Type.Integer({ minimum: 1, maximum: 65535, description: 'TCP port.' }),
});

const RedisTls = Strict(
  {
    ca: Type.Optional(FilePath('PEM file of CA certificates to trust instead of the system store.')),
    servername: Type.Optional(
      Type.String({
        minLength: 1,
        description: "SNI and certificate name to expect (default: the node's host).",
      }),
    ),
  },
  { description: 'Connect to Redis (and to the sentinels) over TLS. `tls: {}` uses the system CAs.' },
);

export const RedisStoreConfig = Strict(
  {
    mode: StringEnum(
      ['single', 'sentinel', 'cluster'] as const,
      '`single`: one server at `host`/`port` (or `url`). `sentinel`: the master `name` found through `sentinels`, followed across failovers. `cluster`: Redis Cluster, discovered from `nodes`.',
      'single',
    ),
    host: Type.String({ minLength: 1, default: '127.0.0.1', description: 'Redis host (single mode).' }),
    port: Type.Integer({
      minimum: 1,
      maximum: 65535,
      default: 6379,
      description: 'Redis port (single mode).',
    }),
    url: Type.Optional(
      Type.String({
        pattern: '^rediss?://([^:@/]+@)?(\\[[0-9A-Fa-f:.]+\\]|[^:@/\\[\\]]+)(:[0-9]+)?(/[0-9]+)?$',
        description:
          'Instead of host/port (single mode): `redis://[user@]host[:port][/db]`, `rediss://` for TLS. Never a password: use `password`.',
        'x-rampart-hint': 'a redis:// or rediss:// URL without a password',
      }),
    ),
    sentinels: Type.Optional(
      Type.Array(HostPort, { minItems: 1, description: 'Sentinels to ask for the master (sentinel mode).' }),
    ),
    name: Type.Optional(
      Type.String({
        minLength: 1,
        description: 'Name of the master group the sentinels monitor (sentinel mode).',
      }),
    ),
    nodes: Type.Optional(
      Type.Array(HostPort, {
        minItems: 1,
        description: 'Cluster startup nodes (cluster mode): any reachable nodes; the others are discovered.',
      }),
    ),
    username: Type.Optional(Type.String({ minLength: 1, description: 'ACL user name (Redis 6+).' })),
    password: Type.Optional(SecretRef('Redis password (AUTH), as a secret reference.')),
    db: Type.Integer({
      minimum: 0,
      default: 0,
      description: 'Database number (single and sentinel modes; a cluster has only 0).',
    }),
    keyPrefix: Type.String({
      pattern: '^[^{}]*$',
      default: 'rampart:',
      description: 'Prepended to every key, so several gateways or applications can share one Redis.',
      'x-rampart-hint': 'a prefix without { or } (they are the cluster hash-tag delimiters)',
    }),
    tls: Type.Optional(RedisTls),
    connectTimeout: Duration('Timeout of one connect attempt; reconnects back off up to 1s.', '2s'),
    commandTimeout: Duration(
      'Longest a store call may take. Past it (or at once while disconnected) the call fails and each limit applies its failure mode.',
      '100ms',
    ),
  },
  { description: 'The Redis store: every gateway instance pointed at it shares one set of counters.' },
);

export const StoreConfig = Strict(
  {
    type: StringEnum(
      ['memory', 'redis'] as const,
      '`memory`: state in this process only (each instance counts alone). `redis`: state shared by every instance.',
      'memory',
    ),
    memory: Strict(
      {
        maxKeys: Type.Integer({
          minimum: 1,
          default: 1_000_000,
          description:
            'Most keys the memory store holds; past it the oldest go first, so a flood of distinct clients cannot grow memory without bound.',
        }),
      },
      { default: {}, description: 'The embedded memory store.' },
    ),
    redis: Type.Optional(RedisStoreConfig),
  },
  {
    default: {},
    description: 'Where rate limits, quotas, replay guards and block lists are kept.',
  },
);

export type StoreConfig = Static<typeof StoreConfig>;
export type RedisStoreConfig = Static<typeof RedisStoreConfig>;
