import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { gzipSync } from 'node:zlib';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Excessive data exposure (OWASP API3:2023, "broken object property level authorization"): the
 * upstream serializes its whole user record — password hash, internal notes, another tenant's
 * id — where the API promises `id` and `name`. With `response.filter`, the client gets only what
 * the OpenAPI response schema declares, sensitive fields masked, and the access log says how
 * many properties were dropped (never which values). What cannot be filtered is refused, not
 * passed through: a body too large to hold, JSON that does not parse, a compressed body.
 */

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
security: [{}]
components:
  schemas:
    User:
      type: object
      properties:
        id: { type: string }
        name: { type: string }
        card: { type: string, x-rampart-sensitive: last4 }
        friends: { type: array, items: { $ref: '#/components/schemas/User' } }
paths:
  /users/{id}:
    get:
      operationId: getUser
      parameters: [{ name: id, in: path, required: true, schema: { type: string } }]
      responses:
        '200': { description: ok, content: { application/json: { schema: { $ref: '#/components/schemas/User' } } } }
  /big:
    get:
      operationId: getBig
      responses:
        '200': { description: ok, content: { application/json: { schema: { type: array, items: { type: string } } } } }
  /page:
    get:
      operationId: getPage
      responses:
        '200': { description: ok, content: { text/html: { schema: { type: string } } } }
`;

const LEAKY_USER = {
  id: 'u1',
  name: 'Ann',
  card: '4111111111111111',
  passwordHash: '$2b$12$abcdefghijklmnopqrstuv',
  internalNotes: 'VIP, refund approved',
  friends: [{ id: 'u2', name: 'Bob', tenantId: 'other-tenant', email: 'bob@example.com' }],
};

describe('excessive data exposure', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  let mode = 'leak';

  before(async () => {
    upstream = await startUpstream((req, res) => {
      if (req.url === '/big') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify(Array.from({ length: 5000 }, (_, i) => `item-${i}`)));
      } else if (req.url === '/page') {
        res.writeHead(200, { 'content-type': 'text/html' });
        res.end('<p>secret: <b>kept as is</b></p>');
      } else if (mode === 'gzip') {
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        res.end(gzipSync(JSON.stringify(LEAKY_USER)));
      } else if (mode === 'broken') {
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end('{"id":"u1","passwordHash":"x"');
      } else {
        res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', etag: '"v1"' });
        res.end(JSON.stringify(LEAKY_USER));
      }
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
      filter: { mode: filter, maxBodySize: 16kb }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('sends only the declared properties, recursively, with sensitive ones masked', async () => {
    mode = 'leak';
    const res = await fetch(`${gw.url}/users/u1`);
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.deepEqual(JSON.parse(text), {
      id: 'u1',
      name: 'Ann',
      card: '****1111',
      friends: [{ id: 'u2', name: 'Bob' }],
    });
    for (const leak of [
      'passwordHash',
      'internalNotes',
      'other-tenant',
      'bob@example.com',
      '4111111111111111',
    ]) {
      assert.ok(!text.includes(leak), `leaked ${leak}`);
    }
    assert.equal(res.headers.get('content-length'), String(Buffer.byteLength(text)));
    assert.equal(res.headers.get('etag'), null, 'the upstream validator no longer describes the body');
    assert.equal(upstream.seen.at(-1)!.headers['accept-encoding'], 'identity');
    const line = await gw.logLine(res.headers.get('x-request-id')!);
    const decision = (line.decisions as { stage: string; reason: string; detail: string }[])[0]!;
    assert.equal(decision.stage, 'response');
    assert.equal(decision.reason, 'response_filtered');
    assert.match(decision.detail, /4 undeclared properties dropped, 1 sensitive masked/);
    assert.ok(!JSON.stringify(line).includes('passwordHash'), 'the log names counts, not fields or values');
  });

  it('refuses, rather than passes on, a body it cannot read: broken JSON or a compressed body', async () => {
    for (const m of ['broken', 'gzip']) {
      mode = m;
      const res = await fetch(`${gw.url}/users/u1`);
      const text = await res.text();
      assert.equal(res.status, 502, m);
      assert.ok(!text.includes('passwordHash'), m);
      assert.equal((await gw.logLine(res.headers.get('x-request-id')!)).reason, 'response_unfilterable');
    }
  });

  it('refuses a JSON body over maxBodySize (oversize: reject)', async () => {
    const res = await fetch(`${gw.url}/big`);
    await res.arrayBuffer();
    assert.equal(res.status, 502);
    assert.equal((await gw.logLine(res.headers.get('x-request-id')!)).reason, 'response_too_large');
  });

  it('streams bodies that are not JSON untouched', async () => {
    const res = await fetch(`${gw.url}/page`);
    assert.equal(res.status, 200);
    assert.equal(await res.text(), '<p>secret: <b>kept as is</b></p>');
  });
});
