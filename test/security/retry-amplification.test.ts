import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startUpstream } from '../helpers/upstream.ts';
import { resilientGateway } from '../integration/support/resilience.ts';

/**
 * Retry amplification: a gateway that retries turns every request into up to `attempts` calls,
 * exactly when the upstream is failing: a retry storm that keeps it down (and, for a POST, a
 * payment or an order made twice). Retries are only for idempotent methods, and a retry budget
 * caps them at a share of the traffic, whatever `attempts` says.
 */
describe('retry amplification', () => {
  it('never replays a POST or a PATCH to the upstream, whatever the retry config', async () => {
    let resets = true;
    const upstream = await startUpstream((req, res) => {
      if (resets) {
        req.socket.destroy();
        return;
      }
      res.writeHead(503);
      res.end();
    });
    const gw = await resilientGateway(
      upstream.url,
      '    retry: { attempts: 5, on: [connect-failure, reset], statuses: [503] }',
    );
    try {
      const post = await fetch(`${gw.url}/items`, { method: 'POST', body: '{"order":1}' });
      assert.equal(post.status, 502);
      const patch = await fetch(`${gw.url}/items/1`, { method: 'PATCH', body: '{"qty":2}' });
      assert.equal(patch.status, 502);
      resets = false;
      const busy = await fetch(`${gw.url}/items`, { method: 'POST', body: '{"order":2}' });
      assert.equal(busy.status, 503, 'the 503 is relayed, not retried');
      // A GET to the same upstream is retried: the config does retry, just not these.
      resets = true;
      const before = upstream.seen.length;
      assert.equal((await fetch(`${gw.url}/items/1`)).status, 502);
      assert.equal(upstream.seen.length - before, 5, 'the GET was tried 5 times');
      await new Promise((r) => setTimeout(r, 200));
      const writes = upstream.seen.filter((s) => s.method === 'POST' || s.method === 'PATCH');
      assert.deepEqual(
        writes.map((s) => `${s.method} ${s.body}`),
        ['POST {"order":1}', 'PATCH {"qty":2}', 'POST {"order":2}'],
        'each write reached the upstream exactly once',
      );
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });

  it('caps retries at the budget under a storm, however many attempts are allowed', async () => {
    const upstream = await startUpstream((req) => req.socket.destroy());
    const gw = await resilientGateway(
      upstream.url,
      '    retry:\n      attempts: 5\n      budget: { ratio: 0.2, minPerSecond: 0, window: 10s }\n      backoff: { base: 1ms, max: 5ms }',
    );
    try {
      const requests = 50;
      for (let i = 0; i < requests; i += 10) {
        const batch = Array.from({ length: 10 }, (_, j) => fetch(`${gw.url}/items/${i + j}`));
        for (const res of await Promise.all(batch)) assert.equal(res.status, 502);
      }
      await new Promise((r) => setTimeout(r, 200));
      const calls = upstream.seen.length;
      // Without a budget: 5 calls per request (250). With it: at most 20% more than the requests.
      assert.ok(calls <= requests * 1.2, `${calls} upstream calls for ${requests} requests`);
      assert.ok(calls > requests, 'some retries were made: the budget allowed them');
    } finally {
      await gw.stop();
      await upstream.close();
    }
  });
});
