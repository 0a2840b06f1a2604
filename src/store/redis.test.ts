import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { rmSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { createTestPki, type TestPki } from '../../test/helpers/certs.ts';
import {
  freePort,
  type RedisCluster,
  type RedisSentinel,
  type RedisServer,
  redisMissing,
  startRedis,
  startRedisCluster,
  startRedisSentinel,
} from '../../test/helpers/redis-server.ts';
import { waitFor } from '../../test/integration/support/wait-for.ts';
import { LIMIT_VECTORS, playVector } from './limit-vectors.ts';
import type { LimitCheck, RateCheck } from './limits.ts';
import { RedisStore, type RedisStoreOptions } from './redis.ts';
import { redisKey, slotOf } from './redis-keys.ts';
import { CONSUME } from './redis-scripts.ts';
import { StoreUnavailableError } from './store.ts';

const skip = redisMissing();
const HOUR = 3_600_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const fresh = () => `t:${randomUUID().slice(0, 8)}:`;

/** Stores opened by a suite, closed in its `after` even when a test fails half-way. */
function opener() {
  const open: RedisStore[] = [];
  return {
    store: async (options: RedisStoreOptions) => {
      const s = new RedisStore({ commandTimeoutMs: 2000, ...options });
      open.push(s);
      await s.waitReady();
      return s;
    },
    closeAll: () => Promise.all(open.map((s) => s.close())),
  };
}

/** Play every shared vector through stores made by `make`, with a test clock. */
function vectorTests(make: (clock: () => number) => Promise<RedisStore>) {
  for (const vector of LIMIT_VECTORS) {
    it(`vector: ${vector.name}`, async () => {
      let now = 0;
      const store = await make(() => now);
      for (const r of await playVector(store, (ms) => (now = ms), vector, fresh())) {
        assert.deepEqual(r.actual, r.expected, `${vector.name}, step ${r.step}`);
      }
    });
  }
}

function commandCalls(info: string, command: string): number {
  return Number(new RegExp(`cmdstat_${command}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
}

describe('RedisStore, single server', { skip, timeout: 120_000 }, () => {
  let server: RedisServer;
  const stores = opener();
  const single = (more: Partial<RedisStoreOptions> = {}) =>
    stores.store({ mode: 'single', host: server.host, port: server.port, ...more });

  before(async () => {
    server = await startRedis();
  });
  after(async () => {
    await stores.closeAll();
    await server?.close();
  });

  vectorTests((testClock) => single({ testClock }));

  it('decides at the Redis clock (TIME) without a test clock', async () => {
    const store = await single();
    const check: RateCheck = {
      kind: 'rate',
      key: `${fresh()}r`,
      intervalMs: HOUR,
      burst: 5,
      cost: 1,
      enforce: true,
    };
    const outcomes = [];
    for (let i = 0; i < 6; i++) outcomes.push(await store.consume([check]));
    assert.deepEqual(
      outcomes.map((o) => o.allowed),
      [true, true, true, true, true, false],
    );
    const refused = outcomes[5]!.states[0]!;
    assert.ok(refused.retryAfterMs > HOUR - 5000 && refused.retryAfterMs <= HOUR, `${refused.retryAfterMs}`);
    // A day quota's reset is the time to 00:00 UTC by Redis's clock.
    const [seconds] = (await server.cli('time')).split('\n');
    const redisNow = Number(seconds) * 1000;
    const q = await store.consume([
      { kind: 'quota', key: `${fresh()}q`, period: 'day', limit: 3, cost: 1, enforce: true },
    ]);
    const dayEnd = (Math.floor(redisNow / 86_400_000) + 1) * 86_400_000;
    assert.ok(Math.abs(q.states[0]!.resetMs - (dayEnd - redisNow)) < 5000, `${q.states[0]!.resetMs}`);
  });

  it('admits exactly N of 200 concurrent requests from 3 clients at a limit of N = 50', async () => {
    const clients = await Promise.all([single(), single(), single()]);
    const check: RateCheck = {
      kind: 'rate',
      key: `${fresh()}n50`,
      intervalMs: HOUR,
      burst: 50,
      cost: 1,
      enforce: true,
    };
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => clients[i % 3]!.consume([check])),
    );
    assert.equal(outcomes.filter((o) => o.allowed).length, 50);
  });

  it('costs one round trip (one EVALSHA) per consume, whatever the number of limits', async () => {
    const store = await single();
    const p = fresh();
    const checks: LimitCheck[] = [
      { kind: 'rate', key: `${p}a`, intervalMs: 1000, burst: 100, cost: 1, enforce: true },
      { kind: 'rate', key: `${p}b`, intervalMs: 1000, burst: 100, cost: 1, enforce: false },
      { kind: 'quota', key: `${p}c`, period: 'month', limit: 1000, cost: 1, enforce: true },
    ];
    await store.consume(checks);
    const before = await server.cli('info', 'commandstats');
    for (let i = 0; i < 20; i++) await store.consume(checks);
    const afterInfo = await server.cli('info', 'commandstats');
    assert.equal(commandCalls(afterInfo, 'evalsha') - commandCalls(before, 'evalsha'), 20);
    assert.equal(commandCalls(afterInfo, 'eval'), commandCalls(before, 'eval'), 'no EVAL fallback');
  });

  it('reloads the script after SCRIPT FLUSH (NOSCRIPT) and keeps counting', async () => {
    const store = await single();
    const check: RateCheck = {
      kind: 'rate',
      key: `${fresh()}ns`,
      intervalMs: HOUR,
      burst: 3,
      cost: 1,
      enforce: true,
    };
    assert.equal((await store.consume([check])).states[0]!.remaining, 2);
    await server.cli('script', 'flush');
    assert.equal(await server.cli('script', 'exists', CONSUME.sha), '0');
    assert.equal((await store.consume([check])).states[0]!.remaining, 1);
    assert.equal(await server.cli('script', 'exists', CONSUME.sha), '1');
  });

  it('accepts a replay-guard key once until it expires', async () => {
    const store = await single();
    const key = `${fresh()}sig`;
    assert.equal(await store.setIfAbsent(key, 200), true);
    assert.equal(await store.setIfAbsent(key, 200), false);
    const results = await Promise.all(Array.from({ length: 20 }, () => store.setIfAbsent(`${key}:2`, 5000)));
    assert.equal(results.filter(Boolean).length, 1, 'one of 20 concurrent attempts wins');
    await sleep(300);
    assert.equal(await store.setIfAbsent(key, 200), true);
  });

  it('counts within a window that ends when it began plus the ttl, not extended by increments', async () => {
    const store = await single();
    const key = `${fresh()}ctr`;
    assert.equal(await store.increment(key, 2000), 1);
    await sleep(500);
    assert.equal(await store.increment(key, 2000, 2), 3);
    const left = await store.ttl(key);
    assert.ok(left > 0 && left <= 1600, `the increment did not extend the window (ttl ${left})`);
    assert.equal(await store.count(key), 3);
    await waitFor('the window to end', async () => (await store.count(key)) === 0, { timeoutMs: 5000 });
    assert.equal(await store.increment(key, 2000), 1);
  });

  it('sets, reports the time left of, and deletes keys; absent keys count 0', async () => {
    const store = await single();
    const p = fresh();
    await store.set(`${p}lock`, 5000);
    const left = await store.ttl(`${p}lock`);
    assert.ok(left > 4000 && left <= 5000, `${left}`);
    await store.set(`${p}other`, 5000);
    await store.delete(`${p}lock`, `${p}other`);
    assert.equal(await store.ttl(`${p}lock`), 0);
    assert.equal(await store.ttl(`${p}other`), 0);
    assert.equal(await store.count(`${p}never`), 0);
    await store.delete();
  });

  it('keeps every key under its prefix, the logical key as the hash tag, braces escaped', async () => {
    const store = await single({ keyPrefix: 'app1:' });
    const p = fresh();
    await store.set(`${p}a}b{c%`, 5000);
    assert.equal(await server.cli('exists', `app1:{${p}a%7Db%7Bc%25}`), '1');
    assert.equal((await store.ttl(`${p}a}b{c%`)) > 0, true);
    assert.throws(() => new RedisStore({ mode: 'single', port: server.port, keyPrefix: 'x{' }), TypeError);
  });

  it('reports ready, and rejects calls after close', async () => {
    const states: string[] = [];
    const store = new RedisStore({ mode: 'single', port: server.port, onStateChange: (s) => states.push(s) });
    await store.waitReady();
    assert.equal(store.ready, true);
    await store.close();
    assert.equal(store.ready, false);
    assert.deepEqual(states, ['ready', 'closed']);
    await assert.rejects(store.count('x'), StoreUnavailableError);
  });
});

describe('RedisStore, cluster of 3 masters', { skip, timeout: 120_000 }, () => {
  let cluster: RedisCluster;
  const stores = opener();
  const clustered = (more: Partial<RedisStoreOptions> = {}) =>
    stores.store({ mode: 'cluster', nodes: cluster.nodes.slice(0, 1), ...more });

  before(async () => {
    cluster = await startRedisCluster();
  });
  after(async () => {
    await stores.closeAll();
    await cluster?.close();
  });

  vectorTests((testClock) => clustered({ testClock }));

  it('maps keys to the slots Redis Cluster computes, and spreads limits over every node', async () => {
    const node = cluster.servers[0]!;
    for (const logical of ['rl:edge:ip:203.0.113.7', 'q:plan:gold:key:é', 'a}b{c']) {
      const k = redisKey('rampart:', logical);
      assert.equal(Number(await node.cli('cluster', 'keyslot', k)), slotOf(k), k);
      assert.equal(slotOf(`${k}:20788`), slotOf(k), 'a quota window stays in its key slot');
    }
    const slots = new Set(
      Array.from({ length: 100 }, (_, i) => slotOf(redisKey('rampart:', `rl:ip:10.0.0.${i}`))),
    );
    assert.ok(slots.size > 90, `${slots.size} distinct slots for 100 keys`);
    const store = await clustered();
    const p = fresh();
    for (let i = 0; i < 30; i++) await store.set(`${p}${i}`, 60_000);
    const perNode = await Promise.all(cluster.servers.map((s) => s.cli('dbsize')));
    assert.ok(
      perNode.every((n) => Number(n) > 0),
      `keys on every master: ${perNode.join(', ')}`,
    );
  });

  it('admits exactly N of 200 concurrent requests and refunds the other slots of refused ones', async () => {
    // A fixed test clock makes each TAT read back as t0 + (units charged)·T.
    const t0 = Date.parse('2026-06-01T00:00:00Z');
    const clients = await Promise.all([1, 2, 3].map(() => clustered({ testClock: () => t0 })));
    const p = fresh();
    let a: RateCheck = { kind: 'rate', key: `${p}a`, intervalMs: HOUR, burst: 50, cost: 1, enforce: true };
    const b: RateCheck = {
      kind: 'rate',
      key: `${p}b`,
      intervalMs: HOUR,
      burst: 1000,
      cost: 1,
      enforce: true,
    };
    for (let i = 0; slotOf(redisKey('rampart:', a.key)) === slotOf(redisKey('rampart:', b.key)); i++) {
      a = { ...a, key: `${p}a${i}` };
    }
    const outcomes = await Promise.all(
      Array.from({ length: 200 }, (_, i) => clients[i % 3]!.consume([a, b])),
    );
    assert.equal(outcomes.filter((o) => o.allowed).length, 50);
    // b was charged by all 200 calls in its own slot; the 150 refused by a are given back (the
    // refunds are sent before each consume returns, and may still be in flight here).
    const charged = async (check: RateCheck) => {
      // redis-cli -c follows the MOVED redirection to the key's master.
      const tat = await cluster.servers[0]!.cli('-c', 'get', redisKey('rampart:', check.key));
      return (Number(tat) - t0) / HOUR;
    };
    assert.equal(await charged(a), 50);
    await waitFor('the refunds of b', async () => (await charged(b)) === 50, { timeoutMs: 5000 });
  });

  it('accepts a replay-guard key once, and deletes keys across slots', async () => {
    const store = await clustered();
    const p = fresh();
    assert.equal(await store.setIfAbsent(`${p}sig`, 5000), true);
    assert.equal(await store.setIfAbsent(`${p}sig`, 5000), false);
    assert.equal(await store.increment(`${p}n`, 5000), 1);
    await store.delete(`${p}sig`, `${p}n`, `${p}x`);
    assert.equal(await store.setIfAbsent(`${p}sig`, 5000), true);
    assert.equal(await store.count(`${p}n`), 0);
  });

  it('reloads the script on a node whose cache was flushed', async () => {
    const store = await clustered();
    const check: RateCheck = {
      kind: 'rate',
      key: `${fresh()}ns`,
      intervalMs: HOUR,
      burst: 3,
      cost: 1,
      enforce: true,
    };
    await store.consume([check]);
    await Promise.all(cluster.servers.map((s) => s.cli('script', 'flush')));
    assert.equal((await store.consume([check])).states[0]!.remaining, 1);
  });

  // Last: it stops a master. The cluster client retries redirections and refreshes slots by
  // itself; the store's own deadline still bounds every call.
  it('rejects calls for the slots of a stopped master within the command timeout', async () => {
    const store = await clustered({ commandTimeoutMs: 100 });
    const victim = cluster.servers[2]!;
    // `cluster nodes`, the line of "myself": fields 9+ are its slot ranges (`lo-hi` or `n`).
    const mine = (await victim.cli('cluster', 'nodes')).split('\n').find((l) => l.includes('myself'))!;
    const ranges = mine
      .split(' ')
      .slice(8)
      .map((r) => r.split('-').map(Number));
    const owned = (k: string) => {
      const slot = slotOf(redisKey('rampart:', k));
      return ranges.some(([lo, hi]) => slot >= lo! && slot <= (hi ?? lo)!);
    };
    const p = fresh();
    let key = `${p}0`;
    for (let i = 1; !owned(key); i++) key = `${p}${i}`;
    await victim.stop();
    const check: RateCheck = { kind: 'rate', key, intervalMs: HOUR, burst: 3, cost: 1, enforce: true };
    for (const call of [() => store.consume([check]), () => store.setIfAbsent(key, 1000)]) {
      const started = performance.now();
      await assert.rejects(call(), StoreUnavailableError);
      assert.ok(performance.now() - started < 2000, 'bounded');
    }
  });
});

describe('RedisStore, master and sentinel', { skip, timeout: 120_000 }, () => {
  let sentinel: RedisSentinel;
  const stores = opener();

  before(async () => {
    sentinel = await startRedisSentinel();
  });
  after(async () => {
    await stores.closeAll();
    await sentinel?.close();
  });

  it('finds the master through the sentinel, consumes and guards replays', async () => {
    const store = await stores.store({
      mode: 'sentinel',
      sentinels: [{ host: sentinel.sentinel.host, port: sentinel.sentinel.port }],
      name: sentinel.name,
    });
    const p = fresh();
    const check: RateCheck = {
      kind: 'rate',
      key: `${p}r`,
      intervalMs: HOUR,
      burst: 2,
      cost: 1,
      enforce: true,
    };
    const outcomes = [];
    for (let i = 0; i < 3; i++) outcomes.push((await store.consume([check])).allowed);
    assert.deepEqual(outcomes, [true, true, false]);
    assert.equal(
      await sentinel.master.cli('exists', redisKey('rampart:', check.key)),
      '1',
      'written on the master',
    );
    assert.equal(await store.setIfAbsent(`${p}sig`, 5000), true);
    assert.equal(await store.setIfAbsent(`${p}sig`, 5000), false);
  });
});

describe('RedisStore over TLS', { skip, timeout: 60_000 }, () => {
  let server: RedisServer;
  let tlsPort: number;
  let pki: TestPki;
  const stores = opener();

  before(async () => {
    pki = createTestPki('redis');
    tlsPort = await freePort();
    server = await startRedis({
      args: [
        ...['--tls-port', String(tlsPort), '--tls-auth-clients', 'no'],
        ...['--tls-cert-file', pki.server.certFile, '--tls-key-file', pki.server.keyFile],
        ...['--tls-ca-cert-file', pki.caFile],
      ],
    });
  });
  after(async () => {
    await stores.closeAll();
    await server?.close();
    if (pki) rmSync(pki.dir, { recursive: true, force: true });
  });

  it('connects with the CA given, and serves', async () => {
    const store = await stores.store({ mode: 'single', port: tlsPort, tls: { ca: pki.caPem } });
    assert.equal(await store.setIfAbsent(`${fresh()}sig`, 5000), true);
  });

  it('refuses a server its CAs do not vouch for', async () => {
    const errors: Error[] = [];
    const store = new RedisStore({
      mode: 'single',
      port: tlsPort,
      tls: true,
      onStateChange: (_s, e) => e && errors.push(e),
    });
    try {
      await assert.rejects(store.waitReady(500), StoreUnavailableError);
      assert.ok(
        errors.some((e) => /certificate/i.test(e.message)),
        errors.map((e) => e.message).join('; '),
      );
    } finally {
      await store.close();
    }
  });
});

describe('RedisStore, Sentinel failover', { skip, timeout: 60_000 }, () => {
  let group: RedisSentinel;
  const stores = opener();

  before(async () => {
    group = await startRedisSentinel({ replica: true });
  });
  after(async () => {
    await stores.closeAll();
    await group?.close();
  });

  it('follows the sentinel to the promoted replica when the master dies, counters intact', async () => {
    const store = await stores.store({
      mode: 'sentinel',
      sentinels: [{ host: group.sentinel.host, port: group.sentinel.port }],
      name: group.name,
      commandTimeoutMs: 100,
    });
    const check: RateCheck = {
      kind: 'rate',
      key: `${fresh()}fo`,
      intervalMs: HOUR,
      burst: 5,
      cost: 1,
      enforce: true,
    };
    assert.equal((await store.consume([check])).states[0]!.remaining, 4);
    const replica = group.replica!;
    const key = redisKey('rampart:', check.key);
    await waitFor('the TAT to reach the replica', async () => (await replica.cli('exists', key)) === '1');
    await group.master.stop();
    // Down after 1 s, then elected and promoted: the store keeps failing fast meanwhile, and
    // serves from the new master once the sentinel names it.
    const outcome = await waitFor(
      'the store to serve after the failover',
      () => store.consume([check]).catch(() => undefined),
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    assert.equal(outcome.states[0]!.remaining, 3, 'the replicated TAT was kept');
    assert.match(
      await group.sentinel.cli('sentinel', 'get-master-addr-by-name', group.name),
      new RegExp(`${replica.port}`),
    );
  });
});
