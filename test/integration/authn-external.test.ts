import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * An external authorizer over real sockets: allow/deny, principal and scopes, the decision
 * cache, and the rule that a cached decision never grants an operation its policy does not
 * cover. Timeouts, errors and garbage deny.
 */
const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    authz: { type: apiKey, in: header, name: X-Token }
paths:
  /orders:
    get:
      operationId: listOrders
      security: [{ authz: [] }]
      responses: { '200': { description: ok } }
  /orders/{id}:
    delete:
      operationId: deleteOrder
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      security: [{ authz: [orders:admin] }]
      responses: { '200': { description: ok } }
  /reports:
    get:
      operationId: getReports
      security: [{ authz: [] }]
      responses: { '200': { description: ok } }
`;

type Behaviour = (body: Record<string, unknown>) => {
  status?: number;
  json?: unknown;
  raw?: string;
  delayMs?: number;
};

describe('external authorizer', () => {
  let authorizer: Server;
  let calls: Record<string, unknown>[] = [];
  let behaviour: Behaviour;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    authorizer = createServer((req, res) => {
      let text = '';
      req.on('data', (c) => (text += c));
      req.on('end', () => {
        const body = JSON.parse(text) as Record<string, unknown>;
        calls.push(body);
        const answer = behaviour(body);
        setTimeout(() => {
          res.writeHead(answer.status ?? 200, { 'content-type': 'application/json' });
          res.end(answer.raw ?? JSON.stringify(answer.json));
        }, answer.delayMs ?? 0);
      });
    });
    await new Promise<void>((r) => authorizer.listen(0, '127.0.0.1', r));
    const port = (authorizer.address() as AddressInfo).port;
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstream.url} } }
authn:
  bruteForce: { enabled: false }
  schemes:
    authz:
      external:
        url: http://127.0.0.1:${port}/authorize
        identitySources: [header:X-Token]
        timeout: 300ms
        cacheTtl: 60s
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  beforeEach(() => {
    calls = [];
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    authorizer.close();
  });

  const call = (path: string, token: string | undefined, method = 'GET') =>
    fetch(`${gw.url}${path}`, { method, headers: token ? { 'x-token': token } : {} });

  it('serves an allowed request with the principal the authorizer named', async () => {
    behaviour = () => ({ json: { allow: true, principal: { id: 'u-1', scopes: ['orders:read'] } } });
    const res = await call('/orders', 'tok-allow-1');
    assert.equal(res.status, 200);
    assert.equal(upstream.seen.at(-1)!.headers['x-principal-id'], 'u-1');
    assert.equal(calls.length, 1);
    assert.deepEqual(calls[0]!.identity, { 'header:X-Token': 'tok-allow-1' });
    assert.equal((calls[0]!.operation as Record<string, unknown>).operationId, 'listOrders');
  });

  it('refuses a denied request (401) and does not call the upstream', async () => {
    behaviour = () => ({ json: { allow: false } });
    const before = upstream.seen.length;
    const res = await call('/orders', 'tok-deny');
    assert.equal(res.status, 401);
    assert.equal(upstream.seen.length, before);
  });

  it('answers 401 without calling the authorizer when the identity source is missing', async () => {
    const res = await call('/orders', undefined);
    assert.equal(res.status, 401);
    assert.equal(calls.length, 0);
  });

  it('caches a decision by identity: a second request does not call the authorizer', async () => {
    behaviour = () => ({
      json: { allow: true, principal: { id: 'u-2' }, operations: ['listOrders', 'GET /reports'] },
    });
    assert.equal((await call('/orders', 'tok-cache')).status, 200);
    assert.equal((await call('/reports', 'tok-cache')).status, 200);
    assert.equal(calls.length, 1);
  });

  it('never lets a decision cached for one operation grant another (cache confusion)', async () => {
    behaviour = () => ({
      json: { allow: true, principal: { id: 'u-3', scopes: ['orders:admin'] }, operations: ['listOrders'] },
    });
    assert.equal((await call('/orders', 'tok-narrow')).status, 200);
    const res = await call('/orders/42', 'tok-narrow', 'DELETE');
    assert.equal(res.status, 401, 'the cached policy covers listOrders only');
    assert.equal(calls.length, 1, 'the cached policy is re-checked, not re-asked');
  });

  it('keys an answer without `operations` by operation: another operation asks again', async () => {
    behaviour = () => ({ json: { allow: true, principal: { id: 'u-4', scopes: [] } } });
    assert.equal((await call('/orders', 'tok-per-op')).status, 200);
    assert.equal((await call('/reports', 'tok-per-op')).status, 200);
    assert.equal(calls.length, 2);
  });

  it('checks the scopes the operation requires of the principal (403)', async () => {
    behaviour = () => ({ json: { allow: true, principal: { id: 'u-5', scopes: ['orders:read'] } } });
    const res = await call('/orders/7', 'tok-scope', 'DELETE');
    assert.equal(res.status, 403);
  });

  it('denies when the authorizer times out (503, fail closed)', async () => {
    behaviour = () => ({ json: { allow: true, principal: { id: 'late' } }, delayMs: 1000 });
    const res = await call('/orders', 'tok-slow');
    assert.equal(res.status, 503);
    const line = (await gw.readAccessLog()).at(-1)!;
    assert.equal(line.reason, 'authorizer_unavailable');
  });

  it('denies when the authorizer fails or answers garbage, and caches none of it', async () => {
    behaviour = () => ({ status: 500, json: { allow: true } });
    assert.equal((await call('/orders', 'tok-err')).status, 503);
    behaviour = () => ({ raw: 'allow' });
    assert.equal((await call('/orders', 'tok-err')).status, 503);
    behaviour = () => ({ json: { allow: true } });
    assert.equal(
      (await call('/orders', 'tok-err')).status,
      503,
      'an allow without principal.id is unreadable',
    );
    assert.equal(calls.length, 3);
  });
});
