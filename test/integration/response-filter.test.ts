import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * `response.filter` settings over real sockets: an operation can turn the API's filter off, a
 * body over `maxBodySize` with `oversize: passthrough` is streamed unfiltered and recorded, and
 * a response whose status the document does not declare is not touched.
 */

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
security: [{}]
paths:
  /a:
    get:
      operationId: getA
      responses:
        '200': { description: ok, content: { application/json: { schema: { type: object, properties: { ok: {} } } } } }
  /b:
    get:
      operationId: getB
      responses:
        '200': { description: ok, content: { application/json: { schema: { type: object, properties: { ok: {} } } } } }
  /big:
    get:
      operationId: getBig
      responses:
        '200': { description: ok, content: { application/json: { schema: { type: object, properties: { ok: {} } } } } }
`;

describe('response.filter settings', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    upstream = await startUpstream((req, res) => {
      res.writeHead(req.url === '/a' && req.headers['x-status'] ? 201 : 200, {
        'content-type': 'application/json',
      });
      res.end(JSON.stringify({ ok: true, extra: 'x'.repeat(req.url === '/big' ? 4000 : 3) }));
    });
    gw = await startTestGateway({
      config: `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstream.url} } }
apis:
  t:
    openapi: openapi.yaml
    upstream: backend
    response:
      filter: { mode: filter, maxBodySize: 1kb, oversize: passthrough }
    operations:
      getB:
        response: { filter: { mode: off } }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  const get = async (path: string, headers: Record<string, string> = {}) => {
    const res = await fetch(`${gw.url}${path}`, { headers });
    return { res, body: JSON.parse(await res.text()) as Record<string, unknown> };
  };

  it('filters where the API says, and not where an operation turns it off', async () => {
    assert.deepEqual((await get('/a')).body, { ok: true });
    assert.deepEqual((await get('/b')).body, { ok: true, extra: 'xxx' });
  });

  it('leaves a status the document does not declare alone', async () => {
    const { res, body } = await get('/a', { 'x-status': '1' });
    assert.equal(res.status, 201);
    assert.equal(body.extra, 'xxx');
  });

  it('streams an oversize body unfiltered with oversize: passthrough, and records it', async () => {
    const { res, body } = await get('/big');
    assert.equal(res.status, 200);
    assert.equal(typeof body.extra, 'string');
    let line: Record<string, unknown> | undefined;
    for (let i = 0; i < 50 && line === undefined; i++) {
      line = (await gw.readAccessLog()).find((l) => l.reqId === res.headers.get('x-request-id'));
      if (line === undefined) await sleep(20);
    }
    assert.equal((line!.decisions as { reason: string }[])[0]!.reason, 'response_unfiltered');
  });
});
