import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';

/**
 * Rate-limit evasion: a client over its per-IP limit tries to look like someone else, by
 * claiming another address in X-Forwarded-For, Forwarded, X-Real-IP or True-Client-IP, by
 * varying the case of the path or adding a query string, or by re-spelling a tenant header.
 * None of it buys a fresh bucket: the limit keys the client IP the client stage resolved (the
 * socket peer, unless a configured trusted proxy said otherwise), per operation, not per URL.
 * From a trusted proxy, the forwarded client is counted instead, so two clients behind the same
 * proxy do not share one bucket.
 */

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
security: [{}]
paths:
  /items/{id}:
    get:
      operationId: getItem
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
  /tenant:
    get:
      operationId: getTenant
      responses: { '200': { description: ok, content: { text/plain: { example: ok } } } }
`;

function config(trusted: string): string {
  return `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
  trustedProxies: [${trusted}]
log: { access: { enabled: false } }
apis:
  t:
    openapi: openapi.yaml
    mock: true
    operations:
      getItem:
        traffic:
          rateLimits: [{ name: per-ip, key: ip, rate: 2, per: 1h }]
      getTenant:
        traffic:
          rateLimits: [{ name: per-tenant, key: 'header:x-tenant', rate: 2, per: 1h }]
`;
}

const SPOOFS: Record<string, string>[] = [
  { 'x-forwarded-for': '198.51.100.1' },
  { 'x-forwarded-for': '198.51.100.2, 203.0.113.9' },
  { forwarded: 'for=198.51.100.3' },
  { 'x-real-ip': '198.51.100.4' },
  { 'true-client-ip': '198.51.100.5' },
  { 'cf-connecting-ip': '198.51.100.6' },
];

describe('rate-limit evasion', () => {
  let gw: TestGateway;
  let proxied: TestGateway;

  before(async () => {
    gw = await startTestGateway({ config: config(''), files: { 'openapi.yaml': OPENAPI } });
    proxied = await startTestGateway({ config: config('127.0.0.1'), files: { 'openapi.yaml': OPENAPI } });
  });
  after(async () => {
    await gw.stop();
    await proxied.stop();
  });

  const status = async (g: TestGateway, path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${g.url}${path}`, { headers });
    await res.arrayBuffer();
    return res.status;
  };

  it('does not give a spoofed client address a fresh bucket', async () => {
    assert.equal(await status(gw, '/items/1'), 200);
    assert.equal(await status(gw, '/items/1'), 200);
    for (const headers of SPOOFS) {
      assert.equal(await status(gw, '/items/1', headers), 429, JSON.stringify(headers));
    }
  });

  it('counts per operation, not per URL: other ids, query strings and spellings share the bucket', async () => {
    for (const path of ['/items/2', '/items/1?x=1', '/items/%31', '/items//1', '/items/./1']) {
      // Refused by the limit, or (for spellings that name no operation) by the router: never served.
      const s = await status(gw, path);
      assert.ok([429, 400, 404].includes(s), `${path}: ${s}`);
    }
  });

  it('counts the forwarded client behind a trusted proxy, so clients behind it do not share one bucket', async () => {
    const a = { 'x-forwarded-for': '198.51.100.10' };
    const b = { 'x-forwarded-for': '198.51.100.11' };
    assert.equal(await status(proxied, '/items/1', a), 200);
    assert.equal(await status(proxied, '/items/1', a), 200);
    assert.equal(await status(proxied, '/items/1', a), 429);
    assert.equal(await status(proxied, '/items/1', b), 200, 'another client behind the proxy');
  });

  it('does not let a re-spelled or repeated tenant header reach another tenant bucket by case', async () => {
    assert.equal(await status(gw, '/tenant', { 'x-tenant': 'acme' }), 200);
    assert.equal(await status(gw, '/tenant', { 'X-TENANT': 'acme' }), 200);
    assert.equal(
      await status(gw, '/tenant', { 'x-Tenant': 'acme' }),
      429,
      'header names are case-insensitive',
    );
  });
});
