import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

const MOCK_OPENAPI = `openapi: 3.0.3
info: { title: mock, version: '1' }
security: [{}]
paths:
  /direct:
    get:
      operationId: direct
      responses:
        '200':
          description: ok
          headers:
            X-Rate-Limit-Remaining:
              schema: { type: integer }
              example: 42
            Content-Type:
              schema: { type: string }
              example: text/html
          content:
            application/json:
              example: { source: example }
  /named:
    get:
      operationId: named
      responses:
        '200':
          description: ok
          content:
            application/json:
              examples:
                first: { value: { source: examples, n: 1 } }
                second: { value: { source: examples, n: 2 } }
  /schema:
    get:
      operationId: fromSchema
      responses:
        '200':
          description: ok
          content:
            application/json:
              schema:
                type: object
                example: { source: schema }
  /lowest:
    post:
      operationId: lowest
      responses:
        '400':
          description: bad
          content:
            application/json:
              example: { source: '400' }
        '202':
          description: accepted
          content:
            application/json:
              example: { source: '202' }
        '201':
          description: created
          headers:
            Location:
              schema: { type: string }
              example: /lowest/7
          content:
            application/json:
              example: { source: '201' }
  /empty/{id}:
    delete:
      operationId: remove
      parameters:
        - { name: id, in: path, required: true, schema: { type: string } }
      responses:
        '204': { description: gone }
        '404': { description: missing }
  /text:
    get:
      operationId: text
      responses:
        '200':
          description: ok
          content:
            text/plain:
              example: hello from the mock
  /overridden:
    get:
      operationId: overridden
      responses:
        '200':
          description: ok
          content:
            application/json:
              example: { source: mock }
`;

describe('mock integration', () => {
  let gw: TestGateway;

  before(async () => {
    gw = await startTestGateway({
      config: `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    enabled: false
apis:
  mock:
    openapi: openapi.yaml
    mock: true
`,
      files: { 'openapi.yaml': MOCK_OPENAPI },
    });
  });
  after(() => gw.stop());

  it('answers with the status, header examples and body from `example`', async () => {
    const res = await fetch(`${gw.url}/direct`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'application/json');
    assert.equal(res.headers.get('x-rate-limit-remaining'), '42');
    assert.deepEqual(await res.json(), { source: 'example' });
    // The response stage runs for mocks too.
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.ok(res.headers.get('x-request-id'));
  });

  it('uses the first of `examples` when there is no `example`', async () => {
    const res = await fetch(`${gw.url}/named`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { source: 'examples', n: 1 });
  });

  it("falls back to the schema's `example`", async () => {
    const res = await fetch(`${gw.url}/schema`);
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { source: 'schema' });
  });

  it('chooses the lowest declared 2xx, whatever the order in the document', async () => {
    const res = await fetch(`${gw.url}/lowest`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ some: 'payload' }),
    });
    assert.equal(res.status, 201);
    assert.equal(res.headers.get('location'), '/lowest/7');
    assert.deepEqual(await res.json(), { source: '201' });
  });

  it('answers 204 with no body and no Content-Length (RFC 9110 §8.6)', async () => {
    const res = await fetch(`${gw.url}/empty/3`, { method: 'DELETE' });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('content-type'), null);
    assert.equal((await res.arrayBuffer()).byteLength, 0);
    // On the wire: fetch hides a Content-Length on a 204, a strict client or proxy does not.
    const raw = await rawRequest(gw.port, 'DELETE /empty/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    assert.equal(raw.status, 204);
    assert.doesNotMatch(raw.text, /content-length/i);
    assert.ok(raw.text.endsWith('\r\n\r\n'), 'nothing may follow the head of a 204');
  });

  it('serves a non-JSON example as text with its media type', async () => {
    const res = await fetch(`${gw.url}/text`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('content-type'), 'text/plain');
    assert.equal(await res.text(), 'hello from the mock');
  });

  it('keeps deny-by-default: an undeclared path is still 404', async () => {
    const res = await fetch(`${gw.url}/undeclared`);
    assert.equal(res.status, 404);
    await res.arrayBuffer();
  });
});

describe('per-operation integration overrides', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    enabled: false
upstreams:
  backend:
    url: ${upstream.url}
apis:
  proxied:
    openapi: openapi.yaml
    basePath: /proxied
    upstream: backend
    operations:
      overridden: { mock: true }
  mocked:
    openapi: openapi.yaml
    basePath: /mocked
    mock: true
    operations:
      overridden: { upstream: backend }
`,
      files: { 'openapi.yaml': MOCK_OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('`operations.<id>.mock: true` answers that operation from its example on an API with an upstream', async () => {
    const before = upstream.seen.length;
    const mocked = await fetch(`${gw.url}/proxied/overridden`);
    assert.equal(mocked.status, 200);
    assert.deepEqual(await mocked.json(), { source: 'mock' });
    assert.equal(upstream.seen.length, before, 'the mocked operation must not reach the upstream');

    // The API's other operations still go to the upstream.
    const proxied = await fetch(`${gw.url}/proxied/direct`);
    assert.equal(proxied.status, 200);
    assert.equal(((await proxied.json()) as { url: string }).url, '/proxied/direct');
    assert.equal(upstream.seen.length, before + 1);
  });

  it('`operations.<id>.upstream` proxies that operation on a mock API', async () => {
    const before = upstream.seen.length;
    const proxied = await fetch(`${gw.url}/mocked/overridden?q=1`);
    assert.equal(proxied.status, 200);
    assert.equal(((await proxied.json()) as { url: string }).url, '/mocked/overridden?q=1');
    assert.equal(upstream.seen.length, before + 1);

    const mocked = await fetch(`${gw.url}/mocked/direct`);
    assert.deepEqual(await mocked.json(), { source: 'example' });
    assert.equal(upstream.seen.length, before + 1, 'the rest of the mock API stays mocked');
  });
});
