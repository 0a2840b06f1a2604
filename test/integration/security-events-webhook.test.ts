import assert from 'node:assert/strict';
import { createHmac, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import type { SecurityEvent } from '../../src/observe/events/event.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * Security events to a webhook over real sockets: every decision becomes an event with its
 * stage, reason, route template and principal; batches are signed; a receiver that fails and
 * then recovers gets every event, in order, each batch retried under the same delivery id; a
 * receiver that is down costs the requests nothing, and what its bounded queue cannot hold is
 * dropped and counted.
 */

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
security: [{}]
paths:
  /things/{id}:
    get:
      operationId: getThing
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
`;

interface Delivery {
  readonly id: string;
  readonly signature: string;
  readonly body: string;
  readonly events: SecurityEvent[];
}

/** A receiver answering 500 to the first `failFirst` deliveries, then 200. */
async function receiver(
  failFirst: number,
): Promise<{ server: Server; url: string; got: Delivery[]; attempts: () => number }> {
  const got: Delivery[] = [];
  let attempts = 0;
  const server = createServer((req: IncomingMessage, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      attempts++;
      if (attempts <= failFirst) {
        res.writeHead(500).end();
        return;
      }
      const body = Buffer.concat(chunks).toString('utf8');
      got.push({
        id: String(req.headers['x-rampart-delivery']),
        signature: String(req.headers['x-rampart-signature']),
        body,
        events: (JSON.parse(body) as { events: SecurityEvent[] }).events,
      });
      res.writeHead(204).end();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return { server, url: `http://127.0.0.1:${port}/events`, got, attempts: () => attempts };
}

function config(url: string, extra = ''): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { enabled: false } }
events:
  webhooks:
    - { name: siem, url: '${url}', secret: env:RAMPART_TEST_WEBHOOK_KEY, batchSize: 5, flushInterval: 50ms${extra} }
apis:
  t:
    openapi: openapi.yaml
    mock: true
    traffic:
      rateLimits: [{ name: per-ip, key: ip, rate: 1, per: 1h }]
`;
}

describe('security events to a webhook', () => {
  const key = randomBytes(32).toString('base64url');
  before(() => {
    process.env.RAMPART_TEST_WEBHOOK_KEY = key;
  });

  describe('a receiver that fails, then recovers', () => {
    let rx: Awaited<ReturnType<typeof receiver>>;
    let gw: TestGateway;
    before(async () => {
      rx = await receiver(3);
      gw = await startTestGateway({
        config: config(rx.url, ', maxAttempts: 10'),
        files: { 'openapi.yaml': OPENAPI },
      });
    });
    after(async () => {
      await gw.stop();
      rx.server.close();
    });

    it('gets every event, in order, signed, with the route template and not the path', async () => {
      const ids: string[] = [];
      // The first is admitted (no decision); the next 12 are refused by the rate limit.
      for (let i = 0; i < 13; i++) {
        const res = await fetch(`${gw.url}/things/secret-${i}`);
        await res.arrayBuffer();
        if (res.status === 429) ids.push(res.headers.get('x-request-id')!);
      }
      assert.equal(ids.length, 12);
      for (let i = 0; i < 200 && rx.got.flatMap((d) => d.events).length < 12; i++) await sleep(50);
      const events = rx.got.flatMap((d) => d.events);
      assert.deepEqual(
        events.map((e) => e.requestId),
        ids,
        'all 12, in order, none twice',
      );
      assert.ok(rx.attempts() > rx.got.length, 'failed deliveries were retried');
      const e = events[0]!;
      assert.equal(e.stage, 'edge-limit');
      assert.equal(e.reason, 'rate_limited');
      assert.equal(e.status, 429);
      assert.equal(e.route, '/things/{id}');
      assert.equal(e.clientIp, '127.0.0.1');
      assert.deepEqual(e.policies, ['api:t/per-ip']);
      for (const d of rx.got) {
        assert.ok(!d.body.includes('secret-'), 'raw paths (and the ids in them) are not in events');
        assert.equal(d.signature, `sha256=${createHmac('sha256', key).update(d.body).digest('hex')}`);
      }
    });
  });

  describe('a receiver that is down', () => {
    let gw: TestGateway;
    before(async () => {
      // A port nobody listens on: every delivery fails at once.
      const rx = await receiver(0);
      const url = rx.url;
      await new Promise((r) => rx.server.close(r));
      gw = await startTestGateway({
        config: config(url, ', maxQueue: 4, maxAttempts: 100'),
        files: { 'openapi.yaml': OPENAPI },
      });
    });
    after(() => gw.stop());

    it('does not slow requests, and counts what the bounded queue drops', async () => {
      const statuses: number[] = [];
      for (let i = 0; i < 30; i++) {
        const res = await fetch(`${gw.url}/things/x`);
        await res.arrayBuffer();
        statuses.push(res.status);
      }
      assert.equal(statuses.filter((s) => s === 429).length, 29);
      const stats = gw.running.holder.current.events!.stats().siem!;
      assert.ok(stats.queued <= 4, `queued ${stats.queued}`);
      assert.equal(stats.delivered, 0);
      assert.equal(stats.dropped + stats.queued, 29, 'every event is either held or counted as dropped');
    });
  });

  it('refuses a plain-http webhook to a non-loopback host at load', async () => {
    await assert.rejects(
      startTestGateway({
        config: config('http://siem.example.com/events'),
        files: { 'openapi.yaml': OPENAPI },
      }),
      /plain http:\/\/ is allowed only to a loopback address/,
    );
  });
});
