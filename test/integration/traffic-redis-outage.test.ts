import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { type RedisServer, redisMissing, startRedis } from '../helpers/redis-server.ts';

/**
 * What a Redis outage does to limits, against a real redis-server stopped and restarted under
 * the gateway: a `failClosed` limit refuses with 503 (and never hangs past the command timeout),
 * a `failOpen` limit serves uncounted and says so in the access log, and once Redis is back the
 * same running gateway counts again by itself, without a restart or reload.
 */

const OPENAPI = `openapi: 3.1.0
info: { title: outage, version: '1' }
security: [{}]
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
paths:
  /keyed:
    get:
      operationId: getKeyed
      security: [{ key: [] }]
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
  /closed:
    get:
      operationId: getClosed
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
  /open:
    get:
      operationId: getOpen
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
  /free:
    get:
      operationId: getFree
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
`;

function config(port: number): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
authn:
  keyStore: { file: keys.json, pepper: env:RAMPART_TEST_PEPPER }
  schemes: { key: { apiKey: {} } }
store:
  type: redis
  redis: { host: 127.0.0.1, port: ${port}, commandTimeout: 200ms, connectTimeout: 500ms }
apis:
  a:
    openapi: openapi.yaml
    mock: true
    operations:
      getClosed:
        traffic:
          rateLimits: [{ name: closed, key: ip, rate: 2, per: 1h }]
      getOpen:
        traffic:
          rateLimits: [{ name: open, key: ip, rate: 2, per: 1h, onStoreFailure: failOpen }]
`;
}

describe('a Redis outage under a running gateway', { timeout: 60_000 }, () => {
  const skip = redisMissing();
  let redis: RedisServer;
  let gw: TestGateway;

  before(async () => {
    if (skip !== undefined) return;
    process.env.RAMPART_TEST_PEPPER = randomBytes(32).toString('base64');
    redis = await startRedis();
    gw = await startTestGateway({ config: config(redis.port), files: { 'openapi.yaml': OPENAPI } });
  });
  after(async () => {
    await gw?.stop();
    await redis?.close();
  });

  const get = async (path: string) => {
    const started = Date.now();
    const res = await fetch(`${gw.url}${path}`);
    await res.arrayBuffer();
    return { status: res.status, ms: Date.now() - started, res };
  };

  it('counts in Redis while it is up', { skip }, async () => {
    assert.equal((await get('/closed')).status, 200);
    assert.equal((await get('/closed')).status, 200);
    assert.equal((await get('/closed')).status, 429);
    assert.equal((await get('/open')).status, 200);
  });

  it('refuses failClosed limits with 503 and serves failOpen ones uncounted while Redis is down', {
    skip,
  }, async () => {
    await redis.stop();
    const closed = await get('/closed');
    assert.equal(closed.status, 503);
    assert.equal(closed.res.headers.get('retry-after'), '1');
    // Bounded by the 200 ms command timeout (or at once, disconnected): never a hung request.
    assert.ok(closed.ms < 2000, `answered after ${closed.ms} ms`);
    const line = await gw.logLine(closed.res.headers.get('x-request-id')!);
    assert.equal(line.reason, 'rate_limit_unavailable');

    for (let i = 0; i < 5; i++)
      assert.equal((await get('/open')).status, 200, 'failOpen: served, however many');
    const open = await get('/open');
    const openLine = await gw.logLine(open.res.headers.get('x-request-id')!);
    const decisions = openLine.decisions as { reason: string; policies: string[]; status: number }[];
    assert.deepEqual(
      decisions.map((d) => [d.reason, d.status, d.policies]),
      [['rate_limit_store_bypassed', 0, ['op:a.getOpen/open']]],
    );
    assert.equal((await get('/free')).status, 200, 'an operation without limits is untouched');
    // Brute-force lockouts live in the store too: unreadable, they fail closed, not as a 500.
    const keyed = await get('/keyed');
    assert.equal(keyed.status, 503);
    assert.equal((await gw.logLine(keyed.res.headers.get('x-request-id')!)).reason, 'store_unavailable');
  });

  it('counts again by itself once Redis is back', { skip }, async () => {
    await redis.start();
    // The restarted Redis is empty: the counters start again from zero (documented).
    let first = 0;
    for (let i = 0; i < 100 && first !== 200; i++) {
      first = (await get('/closed')).status;
      if (first !== 200) await sleep(100);
    }
    assert.equal(first, 200, 'the store reconnected within 10 s');
    assert.equal((await get('/closed')).status, 200);
    assert.equal((await get('/closed')).status, 429, 'counting again: the third request is over the limit');
  });
});
