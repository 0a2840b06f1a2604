import assert from 'node:assert/strict';
import { request } from 'node:http';
import { after, before, beforeEach, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { failures, logLine, send, VALIDATION_OPENAPI, validationConfig } from './support/validation.ts';

/**
 * The `validate` stage over real sockets, on the document of examples/validation: each kind of
 * invalid request gets its status and a problem+json body naming the failing field and rule —
 * and neither that body nor the access log ever repeats the value that was sent. A valid
 * request reaches the upstream byte for byte.
 */
const json = { 'content-type': 'application/json' };
const order = { customer: 'c-1', items: [{ sku: 'ABC-1234', qty: 2 }] };

describe('request validation (validate stage)', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: validationConfig(
        upstream.url,
        `    operations:
      updateOrder:
        validate: { mode: shadow }
      createUser:
        validate: { strict: true }`,
      ),
      files: { 'openapi.yaml': VALIDATION_OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });
  beforeEach(() => {
    upstream.seen.length = 0;
  });

  it('a valid request reaches the upstream unchanged (path, query, headers, body bytes)', async () => {
    const q = '/orders?limit=10&status=open&ids=3,4,5&filter[customer]=c-1&filter[minTotal]=9.5&x=undeclared';
    assert.equal((await send(gw, q)).status, 200);
    assert.equal(upstream.seen[0]?.url, q);
    const raw = '{ "customer" : "c-1",\n "items": [{"sku":"ABC-1234","qty":2}], "note": null }';
    const res = await send(gw, '/orders', { method: 'POST', headers: json, body: raw });
    assert.equal(res.status, 200);
    assert.equal(upstream.seen[1]?.body.toString(), raw);
    assert.equal(upstream.seen[1]?.headers['content-type'], 'application/json');
  });

  it('query parameters: type, range, enum, array items, deepObject members', async () => {
    const cases: [string, string[]][] = [
      ['/orders?limit=12abc', ['query/limit type']],
      ['/orders?limit=1e400', ['query/limit type']],
      ['/orders?limit=1000', ['query/limit maximum']],
      ['/orders?status=lost', ['query/status enum']],
      ['/orders?ids=3,x,5', ['query/ids/1 type']],
      ['/orders?filter[minTotal]=-1', ['query/filter/minTotal minimum']],
      ['/orders?filter[owner]=me', ['query/filter/owner undeclared']],
      ['/orders?limit=0&status=lost', ['query/limit minimum', 'query/status enum']],
    ];
    for (const [path, expected] of cases) {
      const res = await send(gw, path);
      assert.equal(res.status, 400, path);
      assert.deepEqual(failures(res), expected, path);
    }
    assert.equal(upstream.seen.length, 0, 'no invalid request reaches the upstream');
  });

  it('the 400 is problem+json with the request id and the field list, and the log names the fields', async () => {
    const res = await send(gw, '/orders?limit=1000');
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    assert.deepEqual(Object.keys(res.body).sort(), ['errors', 'requestId', 'status', 'title', 'type']);
    assert.equal(res.body.requestId, res.headers.get('x-request-id'));
    assert.deepEqual(res.body.errors, [{ path: 'query/limit', rule: 'maximum', detail: 'must be <= 100' }]);
    const line = await logLine(gw, res.headers.get('x-request-id'));
    assert.equal(line.reason, 'request_invalid');
    const decision = (line.decisions as { stage: string; detail: string }[])[0]!;
    assert.deepEqual([decision.stage, decision.detail], ['validate', 'query/limit: maximum']);
  });

  it('path and header parameters: coerced, checked, required', async () => {
    assert.equal((await send(gw, '/orders/12')).status, 200);
    assert.deepEqual(failures(await send(gw, '/orders/12abc')), ['path/orderId type']);
    assert.deepEqual(failures(await send(gw, '/orders/0')), ['path/orderId minimum']);
    const noTenant = await fetch(`${gw.url}/orders`);
    assert.equal(noTenant.status, 400);
    assert.deepEqual(
      ((await noTenant.json()) as { errors: { path: string; rule: string }[] }).errors.map(
        (e) => `${e.path} ${e.rule}`,
      ),
      ['header/x-tenant required'],
    );
    assert.deepEqual(failures(await send(gw, '/orders', { headers: { 'x-tenant': 'ACME!' } })), [
      'header/x-tenant pattern',
    ]);
  });

  it('JSON bodies: each failing field is listed by path, and the submitted values appear nowhere', async () => {
    const sentinel = 'S3cr3t-Sentinel-Value';
    const body = JSON.stringify({
      customer: '',
      items: [{ sku: sentinel, qty: 987654321 }, { qty: 1 }],
      deliverBy: `${sentinel}-date`,
    });
    const res = await send(gw, '/orders', { method: 'POST', headers: json, body });
    assert.equal(res.status, 400);
    assert.deepEqual(failures(res).sort(), [
      'body/customer minLength',
      'body/deliverBy format',
      'body/items/0/qty maximum',
      'body/items/0/sku pattern',
      'body/items/1/sku required',
    ]);
    assert.ok(!res.text.includes(sentinel) && !res.text.includes('987654321'), res.text);
    await logLine(gw, res.headers.get('x-request-id'));
    const log = JSON.stringify(await gw.readAccessLog());
    assert.ok(log.includes('body/items/0/qty: maximum'), 'the decision lists the fields');
    assert.ok(
      !log.includes(sentinel) && !log.includes('987654321'),
      'the access log holds no submitted value',
    );
    assert.equal(upstream.seen.length, 0);
  });

  it('a missing required body is 400 body required', async () => {
    const res = await send(gw, '/orders', { method: 'POST', headers: json });
    assert.deepEqual([res.status, ...failures(res)], [400, 'body required']);
  });

  it('an undeclared content type, or none, is 415 unsupported_media_type', async () => {
    const types: Record<string, string>[] = [
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/xml' },
    ];
    for (const headers of types) {
      const res = await send(gw, '/orders', { method: 'POST', headers, body: JSON.stringify(order) });
      assert.equal(res.status, 415, JSON.stringify(headers));
      assert.deepEqual(Object.keys(res.body).sort(), ['requestId', 'status', 'title', 'type']);
    }
    const body = JSON.stringify(order);
    const none = await rawRequest(
      gw.port,
      `POST /orders HTTP/1.1\r\nHost: localhost\r\nX-Tenant: acme\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n${body}`,
    );
    assert.equal(none.status, 415, 'no Content-Type at all');
    const utf16 = await send(gw, '/orders', {
      method: 'POST',
      headers: { 'content-type': 'application/json; charset=utf-16' },
      body: JSON.stringify(order),
    });
    assert.equal(utf16.status, 415);
    assert.equal((await logLine(gw, utf16.headers.get('x-request-id'))).reason, 'unsupported_media_type');
    assert.equal(upstream.seen.length, 0);
  });

  it('content types match case-insensitively, with parameters, and +json types are JSON', async () => {
    const ok = await send(gw, '/orders', {
      method: 'POST',
      headers: { 'content-type': 'Application/JSON; charset=UTF-8' },
      body: JSON.stringify(order),
    });
    assert.equal(ok.status, 200);
  });

  it('malformed JSON is 400 body_malformed, without echoing the text', async () => {
    const res = await send(gw, '/orders', {
      method: 'POST',
      headers: json,
      body: '{"customer":"hunter2-secret" items:[]}',
    });
    assert.equal(res.status, 400);
    assert.deepEqual(failures(res), ['body syntax']);
    assert.ok(!res.text.includes('hunter2'));
    const line = await logLine(gw, res.headers.get('x-request-id'));
    assert.equal(line.reason, 'body_malformed');
    assert.ok(!JSON.stringify(line).includes('hunter2'));
  });

  it('form bodies: fields coerced by the schema, arrays from repeated fields, errors by field', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const ok = await send(gw, '/orders', {
      method: 'POST',
      headers: form,
      body: 'sku=ABC-1234&qty=3&tags=a&tags=b+c',
    });
    assert.equal(ok.status, 200);
    assert.equal(upstream.seen[0]?.body.toString(), 'sku=ABC-1234&qty=3&tags=a&tags=b+c');
    const bad = await send(gw, '/orders', { method: 'POST', headers: form, body: 'sku=ABC-1234&qty=3x' });
    assert.deepEqual([bad.status, ...failures(bad)], [400, 'body/qty type']);
    const broken = await send(gw, '/orders', { method: 'POST', headers: form, body: 'sku=%E0%A4&qty=1' });
    assert.deepEqual([broken.status, ...failures(broken)], [400, 'body syntax']);
  });

  const chunkedOverLimit = (path: string, method: string, type: string) =>
    new Promise<number>((resolve, reject) => {
      const req = request(
        `${gw.url}${path}`,
        { method, headers: { 'content-type': type, 'x-tenant': 'acme' } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.write(`{"customer":"${'x'.repeat(40 * 1024)}`);
      req.end(`${'y'.repeat(40 * 1024)}"}`);
    });

  it('a chunked body over the limit is 413 while validation reads it', async () => {
    assert.equal(await chunkedOverLimit('/orders', 'POST', 'application/json'), 413);
    assert.equal(upstream.seen.length, 0);
  });

  it('in shadow mode too: an unreadable body is not a verdict to rehearse', async () => {
    assert.equal(await chunkedOverLimit('/orders/7', 'PATCH', 'application/merge-patch+json'), 413);
    assert.equal(upstream.seen.length, 0);
    const line = await logLine(gw, (l) => l.operationId === 'updateOrder' && l.status === 413);
    assert.equal(line.reason, 'body_too_large');
  });

  it('shadow mode: an invalid request is recorded and goes through', async () => {
    const res = await send(gw, '/orders/7', {
      method: 'PATCH',
      headers: { 'content-type': 'application/merge-patch+json' },
      body: '{"status":"lost"}',
    });
    assert.equal(res.status, 200);
    assert.equal(upstream.seen[0]?.body.toString(), '{"status":"lost"}');
    const line = await logLine(gw, (l) => l.operationId === 'updateOrder' && l.status === 200);
    assert.deepEqual(line.decisions, [
      {
        stage: 'validate',
        reason: 'request_invalid',
        status: 400,
        mode: 'shadow',
        detail: 'body/status: enum',
      },
    ]);
    assert.equal(line.reason, undefined, 'a shadow decision does not become the request reason');
  });
});

describe('request validation: an OpenAPI 3.1 document, other styles and locations', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  const openapi = `openapi: 3.1.0
info: { title: styles, version: '1' }
security: [{}]
paths:
  /colors/{color}:
    get:
      operationId: getColor
      parameters:
        - { name: color, in: path, required: true, style: label, explode: true, schema: { type: array, items: { type: string, enum: [red, green, blue] } } }
        - { name: session, in: cookie, required: true, schema: { type: string, minLength: 8 } }
        - { name: flag, in: query, allowEmptyValue: true, schema: { type: boolean } }
        - name: where
          in: query
          content:
            application/json:
              schema: { type: object, required: [lat], properties: { lat: { type: number, maximum: 90 } } }
      responses: { '200': { description: ok } }
  /points/{point}:
    get:
      operationId: getPoint
      parameters:
        - { name: point, in: path, required: true, style: matrix, explode: true, schema: { type: object, properties: { x: { type: integer }, y: { type: integer } } } }
      responses: { '200': { description: ok } }
  /notes:
    post:
      operationId: createNote
      requestBody:
        required: true
        content:
          application/json:
            schema:
              type: object
              required: [text]
              properties:
                text: { type: [string, 'null'], maxLength: 10 }
                tags: { type: array, prefixItems: [{ type: string }], items: false }
      responses: { '201': { description: created } }
`;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    destination: \${dir}/access.log
upstreams:
  b:
    url: ${upstream.url}
apis:
  s:
    openapi: openapi.yaml
    upstream: b
`,
      files: { 'openapi.yaml': openapi },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  const get = (path: string, cookie = 'session=abcdefgh') => send(gw, path, { headers: { cookie } });

  it('label and matrix path styles, cookies and allowEmptyValue', async () => {
    assert.equal((await get('/colors/.red.blue')).status, 200);
    assert.deepEqual(failures(await get('/colors/.red.pink')), ['path/color/1 enum']);
    assert.deepEqual(failures(await get('/colors/red')), ['path/color style']);
    assert.deepEqual(failures(await get('/colors/.red', 'session=short')), ['cookie/session minLength']);
    assert.deepEqual(failures(await get('/colors/.red', 'other=1')), ['cookie/session required']);
    assert.equal((await get('/colors/.red?flag=')).status, 200, 'allowEmptyValue');
    assert.deepEqual(failures(await get('/colors/.red?flag=yes')), ['query/flag type']);
    assert.equal((await get('/points/;x=1;y=2')).status, 200);
    assert.deepEqual(failures(await get('/points/;x=1;y=b')), ['path/point/y type']);
  });

  it('a parameter with JSON content is parsed as JSON and checked', async () => {
    const where = (v: string) => get(`/colors/.red?where=${encodeURIComponent(v)}`);
    assert.equal((await where('{"lat":45}')).status, 200);
    assert.deepEqual(failures(await where('{"lat":95}')), ['query/where/lat maximum']);
    assert.deepEqual(failures(await where('{lat:1}')), ['query/where content']);
  });

  it('2020-12 keywords apply: type arrays, prefixItems with items: false', async () => {
    const post = (body: string) =>
      send(gw, '/notes', { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    assert.equal((await post('{"text":null,"tags":["a"]}')).status, 200);
    assert.deepEqual(failures(await post('{"text":"far too long here"}')), ['body/text maxLength']);
    assert.deepEqual(failures(await post('{"text":"a","tags":["a","b"]}')), ['body/tags items']);
  });
});
