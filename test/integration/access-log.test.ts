import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { waitFor } from './support/wait-for.ts';

// An API-key scheme on a header name no built-in list knows: only the OpenAPI document says it is a credential.
const OPENAPI = `openapi: 3.0.3
info: { title: logged, version: '1' }
security: [{}]
components:
  securitySchemes:
    partnerKey: { type: apiKey, in: header, name: X-Custom-Key }
paths:
  /items:
    post:
      operationId: createItem
      responses:
        '201': { description: created }
  /items/{id}:
    get:
      operationId: getItem
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        '200': { description: ok }
`;

const SECRETS = {
  bearer: 'eyJhbGciOiJIUzI1NiJ9.c2VjcmV0LWJlYXJlcg.sig-bearer-1234',
  cookie: 'sess-cookie-secret-5678',
  apiKey: 'xak-live-secret-9012',
  customKey: 'ck-partner-secret-3456',
  accessToken: 'at-query-secret-7890',
  signature: 'f00dfeedsig0123456789abcdef',
};

describe('access log', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end('hello');
    });
    gw = await startTestGateway({
      config: `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    destination: \${dir}/access.log
    requestHeaders: [authorization, cookie, x-api-key, x-custom-key, user-agent]
upstreams:
  backend:
    url: ${upstream.url}
apis:
  test:
    openapi: openapi.yaml
    upstream: backend
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  async function lineFor(res: Response): Promise<Record<string, unknown>> {
    const id = res.headers.get('x-request-id');
    assert.ok(id, 'every response carries x-request-id');
    const lines = await waitFor(`the log line of ${id}`, async () => {
      const all = await gw.readAccessLog();
      return all.some((l) => l.reqId === id) ? all : undefined;
    });
    const mine = lines.filter((l) => l.reqId === id);
    assert.equal(mine.length, 1, 'exactly one line per request');
    return mine[0]!;
  }

  it('writes one JSON line per proxied request with the route template, not the raw path', async () => {
    const res = await fetch(`${gw.url}/items/42`, { headers: { 'user-agent': 'rampart-test/1.0' } });
    assert.equal(res.status, 200);
    assert.equal(await res.text(), 'hello');
    const line = await lineFor(res);
    assert.ok(!Number.isNaN(Date.parse(String(line.time))), `time ${line.time} is a timestamp`);
    assert.match(String(line.reqId), /^[0-9a-f-]{36}$/);
    assert.equal(line.client, '127.0.0.1');
    assert.equal(line.method, 'GET');
    assert.equal(line.route, '/items/{id}');
    assert.equal(line.operationId, 'getItem');
    assert.equal(line.status, 200);
    assert.equal(line.bytesIn, 0);
    assert.equal(typeof line.bytesOut, 'number');
    // Status line and headers count too: more than the 5-byte body.
    assert.ok((line.bytesOut as number) > 5, `bytesOut ${line.bytesOut}`);
    assert.equal(typeof line.durationMs, 'number');
    assert.equal(typeof line.upstreamMs, 'number');
    assert.ok((line.upstreamMs as number) <= (line.durationMs as number));
    assert.equal(line.reason, undefined);
  });

  // Regression: a request whose body was read lost its line (req.socket is gone by then).
  it('logs a request with a body, counting its bytes', async () => {
    const body = JSON.stringify({ name: 'x'.repeat(100) });
    const res = await fetch(`${gw.url}/items`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body,
    });
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    const line = await lineFor(res);
    assert.equal(line.operationId, 'createItem');
    assert.equal(line.bytesIn, Buffer.byteLength(body));
  });

  it('logs the reason of a gateway decision: 404 route_not_found, without route or upstream time', async () => {
    const res = await fetch(`${gw.url}/nothing/here`);
    assert.equal(res.status, 404);
    await res.arrayBuffer();
    const line = await lineFor(res);
    assert.equal(line.status, 404);
    assert.equal(line.reason, 'route_not_found');
    assert.equal(line.route, undefined);
    assert.equal(line.operationId, undefined);
    assert.equal(line.upstreamMs, undefined);
  });

  it('redacts credential headers and secret query parameters, and never writes the secrets', async () => {
    const res = await fetch(
      `${gw.url}/items/7?access_token=${SECRETS.accessToken}&X-Amz-Signature=${SECRETS.signature}&page=2`,
      {
        headers: {
          authorization: `Bearer ${SECRETS.bearer}`,
          cookie: `session=${SECRETS.cookie}`,
          'x-api-key': SECRETS.apiKey,
          'x-custom-key': SECRETS.customKey,
          'user-agent': 'rampart-test/2.0',
        },
      },
    );
    assert.equal(res.status, 200);
    await res.arrayBuffer();
    // Redaction is for the log only: the upstream still gets the credentials it needs.
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers.authorization, `Bearer ${SECRETS.bearer}`);
    assert.equal(seen.headers['x-custom-key'], SECRETS.customKey);
    assert.ok(seen.url.includes(SECRETS.accessToken));

    const line = await lineFor(res);
    assert.deepEqual(line.headers, {
      authorization: '[REDACTED]',
      cookie: '[REDACTED]',
      'x-api-key': '[REDACTED]',
      'x-custom-key': '[REDACTED]',
      'user-agent': 'rampart-test/2.0',
    });
    const query = String(line.query);
    assert.match(query, /(^|&)access_token=\[REDACTED\](&|$)/);
    assert.match(query, /(^|&)X-Amz-Signature=\[REDACTED\](&|$)/);
    assert.match(query, /(^|&)page=2(&|$)/);

    const file = readFileSync(gw.accessLogFile, 'utf8');
    for (const [name, secret] of Object.entries(SECRETS)) {
      assert.ok(!file.includes(secret), `secret ${name} appears in the access log`);
    }
  });

  it('logs method_not_allowed for an undeclared method on a known path', async () => {
    const res = await fetch(`${gw.url}/items/1`, { method: 'POST' });
    assert.equal(res.status, 405);
    await res.arrayBuffer();
    const line = await lineFor(res);
    assert.equal(line.reason, 'method_not_allowed');
    assert.equal(line.status, 405);
  });
});
