import { performance } from 'node:perf_hooks';
import type { LimitCheck } from '../src/store/limits.ts';
import { MemoryStore } from '../src/store/memory.ts';
import { createRedisStore } from '../src/store/redis.ts';
import { type StateStore, StoreUnavailableError } from '../src/store/store.ts';
import { int, median } from './report.ts';

/**
 * One store call in this process, without HTTP, the access log or the load generator: what
 * the `edge-limit` stage's `consume` of one rate limit costs with each store. The same check
 * as the bench's `per-ip` limit. Sequential calls give the latency of one call (for Redis, a
 * loopback round trip plus the script); 50 calls in flight give the client-side CPU per call
 * when calls overlap, as they do under load.
 */

/**
 * Two million per second with a burst of ten million: the memory store does about a million
 * calls a second on this machine, and refusing would skip the write. T = 0.5 µs is still above
 * half the spacing of doubles near today's epoch milliseconds (2⁻¹² ms), so the TAT advances.
 */
const CHECK: LimitCheck = {
  kind: 'rate',
  key: 'rl:bench/in-process:127.0.0.1',
  intervalMs: 0.0005,
  burst: 10_000_000,
  cost: 1,
  enforce: true,
};
const IN_FLIGHT = 50;

export interface StoreCallCost {
  readonly store: 'memory' | 'redis';
  readonly sequentialCalls: number;
  /** Latency of one call, one at a time (µs). */
  readonly p50: number;
  readonly p99: number;
  /** This process's CPU per call with IN_FLIGHT calls under way at once (µs). */
  readonly concurrentCpuPerCall: number;
  readonly concurrentCallsPerSecond: number;
  /** Calls that failed (the Redis store's command timeout passed), not in the figures. */
  readonly failed: number;
  /** Calls the store refused (none expected: the limit is far above any call rate here). */
  readonly refused: number;
}

async function measureStore(
  name: 'memory' | 'redis',
  store: StateStore,
  calls: number,
  seconds: number,
): Promise<StoreCallCost> {
  let failed = 0;
  let refused = 0;
  const call = async (): Promise<boolean> => {
    try {
      const outcome = await store.consume([CHECK]);
      if (!outcome.allowed) refused++;
      return true;
    } catch (err) {
      if (!(err instanceof StoreUnavailableError)) throw err;
      failed++;
      return false;
    }
  };
  for (let i = 0; i < Math.min(1000, calls); i++) await call();
  failed = 0;
  refused = 0;
  const samples: number[] = [];
  for (let i = 0; i < calls; i++) {
    const t0 = performance.now();
    if (await call()) samples.push((performance.now() - t0) * 1000);
  }
  const took = Float64Array.from(samples).sort();
  let done = 0;
  const until = performance.now() + seconds * 1000;
  const cpu0 = process.cpuUsage();
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (performance.now() < until) {
        if (await call()) done++;
      }
    }),
  );
  const cpu = process.cpuUsage(cpu0);
  return {
    store: name,
    sequentialCalls: calls,
    p50: median([...took]),
    p99: took[Math.floor(took.length * 0.99)] ?? Number.NaN,
    concurrentCpuPerCall: (cpu.user + cpu.system) / done,
    concurrentCallsPerSecond: done / ((performance.now() - started) / 1000),
    failed,
    refused,
  };
}

/** Both stores, one after the other; the Redis store on the bench's redis-server. */
export async function storeCallCosts(redisPort: number, quick: boolean): Promise<StoreCallCost[]> {
  const calls = quick ? 2000 : 20_000;
  const seconds = quick ? 0.5 : 3;
  const memory = new MemoryStore();
  // The gateway's default command timeout (100 ms): a call past it fails and is counted apart.
  const redis = createRedisStore({ mode: 'single', host: '127.0.0.1', port: redisPort, keyPrefix: 'bench:' });
  try {
    await redis.waitReady();
    return [
      await measureStore('memory', memory, calls, seconds),
      await measureStore('redis', redis, calls, seconds),
    ];
  } finally {
    await memory.close();
    await redis.close();
  }
}

export function formatStoreCalls(costs: readonly StoreCallCost[]): string {
  const lines = [
    `One consume() of one rate limit in the bench process (${int.format(costs[0]?.sequentialCalls ?? 0)} sequential calls; then ${IN_FLIGHT} in flight):`,
  ];
  for (const c of costs) {
    lines.push(
      `  ${c.store.padEnd(7)} one at a time: median ${c.p50.toFixed(1)} µs, p99 ${c.p99.toFixed(1)} µs;` +
        `   ${IN_FLIGHT} in flight: ${int.format(c.concurrentCallsPerSecond)} calls/s, ${c.concurrentCpuPerCall.toFixed(1)} µs CPU per call` +
        (c.failed > 0 ? `   (!) ${c.failed} calls timed out` : '') +
        (c.refused > 0 ? `   (!) ${c.refused} calls refused` : ''),
    );
  }
  return lines.join('\n');
}
