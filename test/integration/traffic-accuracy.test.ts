import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { type RedisServer, redisMissing, startRedis } from '../helpers/redis-server.ts';
import { type GatewayProcess, startGatewayProcess } from './support/gateway-process.ts';

/**
 * The accuracy promise: a limit of N admits at most N across every gateway instance sharing a
 * Redis store. Three `rampart start` processes share one real redis-server; concurrent requests
 * go through all three at once, far more than N in all; what they admit together is counted.
 * With the memory store, the same load shows the per-instance behaviour the docs warn about:
 * each instance admits N of its own.
 */

const N = 100;
const INSTANCES = 3;
const PER_INSTANCE = 150; // 450 requests in all against a limit of 100
const CONCURRENCY = 16; // in flight per instance

const OPENAPI = `openapi: 3.1.0
info: { title: accuracy, version: '1' }
security: [{}]
paths:
  /rate:
    get:
      operationId: getRate
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
  /quota:
    get:
      operationId: getQuota
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
`;

function config(store: string): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { enabled: false } }
${store}
apis:
  a:
    openapi: openapi.yaml
    mock: true
    operations:
      getRate:
        traffic:
          # GCRA with a burst of N and a refill of N a day: one request refills every 14 minutes,
          # so even a slow run counts exactly.
          rateLimits: [{ name: shared-rate, key: global, rate: ${N}, per: 24h, burst: ${N} }]
      getQuota:
        traffic:
          quotas: [{ name: shared-quota, key: global, limit: ${N}, per: day }]
`;
}

/** Send `count` GETs to `port` with `concurrency` in flight; the statuses seen, by count. */
async function drive(
  port: number,
  path: string,
  count: number,
  concurrency: number,
): Promise<Map<number, number>> {
  const agent = new Agent({ keepAlive: true, maxSockets: concurrency });
  const seen = new Map<number, number>();
  let sent = 0;
  const worker = async () => {
    while (sent < count) {
      sent++;
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
          res.resume();
          res.on('end', () => resolve(res.statusCode ?? 0));
        });
        req.setTimeout(10_000, () => req.destroy(new Error('request timed out')));
        req.on('error', reject);
        req.end();
      });
      seen.set(status, (seen.get(status) ?? 0) + 1);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  agent.destroy();
  return seen;
}

/** Drive every instance at once; the statuses summed over all of them. */
async function driveAll(gateways: readonly GatewayProcess[], path: string): Promise<Map<number, number>> {
  const results = await Promise.all(gateways.map((g) => drive(g.port, path, PER_INSTANCE, CONCURRENCY)));
  const total = new Map<number, number>();
  for (const r of results) for (const [status, n] of r) total.set(status, (total.get(status) ?? 0) + n);
  return total;
}

async function startInstances(dir: string, store: string): Promise<GatewayProcess[]> {
  const file = join(dir, `rampart-${Math.random().toString(36).slice(2)}.yaml`);
  writeFileSync(file, config(store));
  // A generous start-up bound: three processes start at once on two shared cores.
  return Promise.all(Array.from({ length: INSTANCES }, () => startGatewayProcess(file, 90_000)));
}

describe('cluster-wide accuracy: three gateway processes, one limit of N', { timeout: 300_000 }, () => {
  const skip = redisMissing();
  let dir: string;
  let redis: RedisServer | undefined;
  const processes: GatewayProcess[] = [];

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-accuracy-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    if (skip === undefined) redis = await startRedis();
  });
  after(async () => {
    await Promise.all(processes.map((p) => p.kill()));
    await redis?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('admits exactly N across all instances with the Redis store (rate limit and quota)', {
    skip,
  }, async () => {
    const gateways = await startInstances(
      dir,
      `store: { type: redis, redis: { host: 127.0.0.1, port: ${redis!.port}, commandTimeout: 1s } }`,
    );
    processes.push(...gateways);
    for (const path of ['/rate', '/quota']) {
      const seen = await driveAll(gateways, path);
      const admitted = seen.get(200) ?? 0;
      const refused = seen.get(429) ?? 0;
      assert.equal(
        admitted + refused,
        INSTANCES * PER_INSTANCE,
        `only 200 and 429: ${JSON.stringify([...seen])}`,
      );
      // At most N, and not fewer: every request was counted once, none lost to a race.
      assert.ok(admitted <= N, `${path}: ${admitted} admitted across ${INSTANCES} instances, limit ${N}`);
      assert.ok(admitted >= N, `${path}: only ${admitted} of ${N} admitted`);
    }
  });

  it('admits N per instance with the memory store: each instance counts alone', async () => {
    const gateways = await startInstances(dir, 'store: { type: memory }');
    processes.push(...gateways);
    for (const path of ['/rate', '/quota']) {
      const seen = await driveAll(gateways, path);
      assert.equal(seen.get(200), INSTANCES * N, `${path}: ${JSON.stringify([...seen])}`);
    }
  });
});
