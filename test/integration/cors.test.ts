import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileGateway } from '../../src/config/compile.ts';
import { RampartError } from '../../src/core/errors.ts';
import { KeyStore } from '../../src/stages/authn/apikey/store.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * CORS over real sockets: preflights answered by the gateway from the API's policy (methods
 * and headers derived from the OpenAPI document), refused ones 403 `cors_refused`, the CORS
 * headers on actual responses (upstream, and gateway refusals too), `Vary: Origin` always,
 * upstream CORS headers never relayed, and the load errors of a dangerous policy.
 */

const PEPPER = randomBytes(32).toString('base64');

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
paths:
  /items:
    parameters:
      - { name: X-Tenant, in: header, schema: { type: string } }
    get:
      operationId: listItems
      security: [{}]
      parameters:
        - { name: X-Page-Token, in: header, schema: { type: string } }
      responses:
        '200':
          description: ok
          headers:
            X-Total-Count: { schema: { type: integer } }
    post:
      operationId: createItem
      security: [{ key: [] }]
      requestBody:
        content:
          application/json: { schema: { type: object } }
      responses: { '201': { description: created } }
  /items/{id}:
    parameters:
      - { name: id, in: path, required: true, schema: { type: string } }
    get:
      operationId: getItem
      security: [{}]
      responses: { '200': { description: ok } }
    delete:
      operationId: deleteItem
      security: [{ key: [] }]
      responses: { '204': { description: gone } }
    options:
      operationId: itemOptions
      security: [{}]
      responses: { '200': { description: ok } }
`;

function config(upstreamUrl: string, cors: string): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstreamUrl} } }
authn:
  bruteForce: { enabled: false }
  keyStore: { file: keys.json, pepper: env:RAMPART_TEST_PEPPER }
  schemes:
    key: { apiKey: {} }
apis:
  t:
    openapi: openapi.yaml
    upstream: backend
    cors:
${cors}
`;
}

const POLICY = `      allowOrigins: [https://app.example.com, 'https://*.partner.example']
      allowCredentials: true
      maxAge: 5m`;

const APP = 'https://app.example.com';

function listed(value: string | null): string[] {
  return (value ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
}

describe('CORS over real sockets', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  let token: string;

  before(async () => {
    process.env.RAMPART_TEST_PEPPER = PEPPER;
    const issued = KeyStore.load('/nonexistent/keys.json', { allowMissing: true }).create(
      { kind: 'apiKey', owner: 'cust-alice' },
      PEPPER,
      Date.now(),
    );
    assert.equal(issued.secret.kind, 'apiKey');
    token = issued.secret.kind === 'apiKey' ? issued.secret.token : '';
    upstream = await startUpstream((req, res) => {
      // An upstream doing its own (careless) CORS: the gateway's policy must win.
      res.writeHead(200, {
        'content-type': 'application/json',
        'access-control-allow-origin': '*',
        'access-control-allow-methods': 'GET, POST, PUT, DELETE',
        'x-total-count': '2',
        vary: 'Accept-Encoding',
      });
      res.end(JSON.stringify({ method: req.method, url: req.url }));
    });
    gw = await startTestGateway({
      config: config(upstream.url, POLICY),
      files: { 'openapi.yaml': OPENAPI, 'keys.json': JSON.stringify(issued.store.toJSON()) },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  const preflight = (path: string, origin: string, method: string, headers?: string) =>
    fetch(`${gw.url}${path}`, {
      method: 'OPTIONS',
      headers: {
        origin,
        'access-control-request-method': method,
        ...(headers === undefined ? {} : { 'access-control-request-headers': headers }),
      },
    });

  it('answers an allowed preflight itself with 204 and the derived methods and headers, without calling the upstream', async () => {
    const before = upstream.seen.length;
    const res = await preflight('/items', APP, 'POST', 'content-type, x-api-key, x-tenant');
    assert.equal(res.status, 204);
    assert.equal(await res.text(), '');
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.deepEqual(listed(res.headers.get('access-control-allow-methods')), ['get', 'post']);
    const allowHeaders = listed(res.headers.get('access-control-allow-headers'));
    // Header parameters (path-level and operation-level), the API-key header, and
    // Content-Type because POST has a request body.
    for (const h of ['x-tenant', 'x-page-token', 'x-api-key', 'content-type']) {
      assert.ok(allowHeaders.includes(h), `${h} in ${allowHeaders.join(', ')}`);
    }
    assert.equal(res.headers.get('access-control-max-age'), '300');
    const vary = listed(res.headers.get('vary'));
    for (const v of ['origin', 'access-control-request-method', 'access-control-request-headers']) {
      assert.ok(vary.includes(v), `Vary lists ${v}`);
    }
    assert.equal(res.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(upstream.seen.length, before, 'the upstream never saw the preflight');
  });

  it('allows a one-label match of a wildcard origin, and nothing deeper', async () => {
    const ok = await preflight('/items', 'https://shop.partner.example', 'GET');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), 'https://shop.partner.example');
    const deeper = await preflight('/items', 'https://a.shop.partner.example', 'GET');
    assert.equal(deeper.status, 403);
  });

  for (const [what, args] of [
    ['an origin that is not allowed', ['/items', 'https://evil.example', 'GET']],
    ['a method the path does not declare', ['/items', APP, 'DELETE']],
    ['a header no operation of the path declares', ['/items', APP, 'GET', 'x-evil']],
    ['a lower-case method (methods are case-sensitive)', ['/items', APP, 'post']],
  ] as const) {
    it(`refuses a preflight with ${what}: 403 cors_refused, no CORS headers`, async () => {
      const res = await preflight(...(args as unknown as [string, string, string, string?]));
      assert.equal(res.status, 403);
      assert.match(res.headers.get('content-type') ?? '', /^application\/problem\+json/);
      assert.equal(res.headers.get('access-control-allow-origin'), null);
      assert.equal(res.headers.get('access-control-allow-methods'), null);
      assert.ok(listed(res.headers.get('vary')).includes('origin'));
      const body = (await res.json()) as Record<string, unknown>;
      assert.deepEqual(Object.keys(body).sort(), ['requestId', 'status', 'title', 'type']);
      const line = await gw.logLine(String(body.requestId));
      assert.equal(line.reason, 'cors_refused');
    });
  }

  it('keeps 405 for an OPTIONS request that is not a preflight', async () => {
    const res = await fetch(`${gw.url}/items`, { method: 'OPTIONS', headers: { origin: APP } });
    assert.equal(res.status, 405);
    assert.equal(res.headers.get('allow'), 'GET, POST');
  });

  it('answers preflights on a path that declares OPTIONS too, and proxies its other OPTIONS requests', async () => {
    const before = upstream.seen.length;
    const res = await preflight('/items/7', APP, 'DELETE', 'x-api-key');
    assert.equal(res.status, 204);
    assert.deepEqual(listed(res.headers.get('access-control-allow-methods')), ['delete', 'get', 'options']);
    assert.equal(upstream.seen.length, before);
    const plain = await fetch(`${gw.url}/items/7`, { method: 'OPTIONS' });
    assert.equal(plain.status, 200);
    assert.equal(upstream.seen.length, before + 1);
  });

  it('gives an allowed origin its CORS headers on the actual response, replacing the upstream ones', async () => {
    const res = await fetch(`${gw.url}/items`, { headers: { origin: APP } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    assert.equal(res.headers.get('access-control-allow-credentials'), 'true');
    assert.deepEqual(listed(res.headers.get('access-control-expose-headers')), ['x-total-count']);
    assert.equal(
      res.headers.get('access-control-allow-methods'),
      null,
      'upstream CORS headers are not relayed',
    );
    assert.deepEqual(listed(res.headers.get('vary')), ['accept-encoding', 'origin']);
  });

  it('serves a disallowed origin without any CORS header (the browser withholds the answer)', async () => {
    const res = await fetch(`${gw.url}/items`, { headers: { origin: 'https://evil.example' } });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null, "the upstream's * is stripped");
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.ok(listed(res.headers.get('vary')).includes('origin'));
  });

  it('says Vary: Origin on a request without Origin too (caches must not mix the answers)', async () => {
    const res = await fetch(`${gw.url}/items`);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
    assert.ok(listed(res.headers.get('vary')).includes('origin'));
  });

  it('puts the CORS headers on gateway refusals, so browser code can read a 401', async () => {
    const res = await fetch(`${gw.url}/items`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('access-control-allow-origin'), APP);
    const ok = await fetch(`${gw.url}/items`, {
      method: 'POST',
      headers: { origin: APP, 'content-type': 'application/json', 'x-api-key': token },
      body: '{}',
    });
    assert.equal(ok.status, 200);
    assert.equal(ok.headers.get('access-control-allow-origin'), APP);
  });
});

describe('CORS overrides and shadow mode', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    process.env.RAMPART_TEST_PEPPER = PEPPER;
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(
        upstream.url,
        `      allowOrigins: ['*']
      allowMethods: [GET]
      allowHeaders: [X-Custom]
      exposeHeaders: [X-Request-Id]`,
      ),
      files: {
        'openapi.yaml': OPENAPI,
        'keys.json': JSON.stringify(KeyStore.load('/nonexistent/k.json', { allowMissing: true }).toJSON()),
      },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('answers * (never an echo) for any origin, and narrows methods and headers as configured', async () => {
    const res = await fetch(`${gw.url}/items`, {
      method: 'OPTIONS',
      headers: { origin: 'https://anyone.test', 'access-control-request-method': 'GET' },
    });
    assert.equal(res.status, 204);
    assert.equal(res.headers.get('access-control-allow-origin'), '*');
    assert.equal(res.headers.get('access-control-allow-credentials'), null);
    assert.equal(res.headers.get('access-control-allow-methods'), 'GET');
    assert.ok(listed(res.headers.get('access-control-allow-headers')).includes('x-custom'));
    assert.equal(res.headers.get('access-control-max-age'), '600', 'the default max-age is 10m');
    const post = await fetch(`${gw.url}/items`, {
      method: 'OPTIONS',
      headers: { origin: 'https://anyone.test', 'access-control-request-method': 'POST' },
    });
    assert.equal(post.status, 403, 'allowMethods narrows what the path declares');
    const derived = await fetch(`${gw.url}/items`, {
      method: 'OPTIONS',
      headers: {
        origin: 'https://anyone.test',
        'access-control-request-method': 'GET',
        'access-control-request-headers': 'x-tenant',
      },
    });
    assert.equal(derived.status, 403, 'allowHeaders replaces the derived headers');
    const actual = await fetch(`${gw.url}/items`, { headers: { origin: 'https://anyone.test' } });
    assert.equal(actual.headers.get('access-control-allow-origin'), '*');
    assert.equal(actual.headers.get('access-control-expose-headers'), 'x-request-id');
  });

  it('in shadow mode records a refusal but answers as if CORS were not configured', async () => {
    const shadow = await startTestGateway({
      config: config(
        upstream.url,
        `      allowOrigins: [https://app.example.com]
      mode: shadow`,
      ),
      files: {
        'openapi.yaml': OPENAPI,
        'keys.json': JSON.stringify(KeyStore.load('/nonexistent/k.json', { allowMissing: true }).toJSON()),
      },
    });
    try {
      const res = await fetch(`${shadow.url}/items`, {
        method: 'OPTIONS',
        headers: { origin: 'https://evil.example', 'access-control-request-method': 'GET' },
      });
      assert.equal(res.status, 405);
      const body = (await res.json()) as { requestId: string };
      const line = await shadow.logLine(body.requestId);
      assert.equal(line.reason, 'method_not_allowed');
      const decisions = line.decisions as { stage: string; reason: string; mode: string }[];
      assert.deepEqual(
        decisions.map((d) => [d.stage, d.reason, d.mode]),
        [['cors', 'cors_refused', 'shadow']],
      );
      const actual = await fetch(`${shadow.url}/items`, { headers: { origin: 'https://app.example.com' } });
      assert.equal(actual.headers.get('access-control-allow-origin'), null, 'shadow adds no CORS headers');
    } finally {
      await shadow.stop();
    }
  });
});

describe('dangerous CORS policies stop the load, located', () => {
  function refusal(cors: string): { err: RampartError; yaml: string; file: string } {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-cors-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    const yaml = config('http://127.0.0.1:9', cors)
      .replace(/\$\{dir\}\/access\.log/, 'stderr')
      .replace(/ {2}keyStore: .*\n/, '')
      .replace(/ {2}schemes:\n {4}key: \{ apiKey: \{\} \}\n/, '');
    const file = join(dir, 'rampart.yaml');
    writeFileSync(file, yaml);
    try {
      compileGateway(file, { openLogs: false });
    } catch (err) {
      assert.ok(err instanceof RampartError, String(err));
      return { err, yaml, file };
    }
    assert.fail('the load should have been refused');
  }
  const lineOf = (yaml: string, needle: string) => yaml.split('\n').findIndex((l) => l.includes(needle)) + 1;

  it('refuses * together with allowCredentials: true, at the field', () => {
    const { err, yaml, file } = refusal(`      allowOrigins: ['*']
      allowCredentials: true`);
    const problem = err.problems[0]!;
    assert.equal(problem.field, 'apis.t.cors.allowCredentials');
    assert.equal(problem.location.file, file);
    assert.equal(problem.location.line, lineOf(yaml, 'allowCredentials'));
    assert.match(problem.message, /"\*"/);
  });

  for (const [bad, reason] of [
    ['https://app.example.com/', /trailing slash/],
    ['https://app.example.com/v1', /path/],
    ['null', /null origin/],
    ['https://app.*.example.com', /misplaced wildcard/],
    ['https://*.com', /top-level domain/],
    ['app.example.com', /not an origin/],
  ] as const) {
    it(`refuses ${bad} in allowOrigins, at its line`, () => {
      const { err, yaml } = refusal(`      allowOrigins:
        - https://ok.example.com
        - '${bad}'`);
      const problem = err.problems[0]!;
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_SCHEMA', err.format());
      assert.equal(problem.field, 'apis.t.cors.allowOrigins[1]');
      assert.equal(problem.location.line, lineOf(yaml, `- '${bad}'`));
      assert.match(problem.message, reason);
    });
  }

  it('refuses a max-age past what browsers honour', () => {
    const { err } = refusal(`      allowOrigins: [https://ok.example.com]
      maxAge: 48h`);
    assert.equal(err.problems[0]!.field, 'apis.t.cors.maxAge');
  });
});

describe('CORS posture', () => {
  it('reports credentials allowed for a plain-HTTP origin other than loopback', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-cors-posture-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    const yaml = `version: 1
log: { access: { enabled: false } }
upstreams: { backend: { url: 'http://127.0.0.1:9' } }
authn: { bruteForce: { enabled: false } }
apis:
  t:
    openapi: openapi.yaml
    upstream: backend
    cors:
      allowOrigins: [http://localhost:5173, http://app.example.com, https://secure.example.com]
      allowCredentials: true
`;
    const file = join(dir, 'rampart.yaml');
    writeFileSync(file, yaml);
    const gw = compileGateway(file, { openLogs: false });
    try {
      const found = gw.findings.filter((f) => f.id === 'cors-credentials-insecure-origin');
      assert.equal(found.length, 1, JSON.stringify(gw.findings));
      assert.match(found[0]!.message, /http:\/\/app\.example\.com/);
      assert.equal(found[0]!.severity, 'high');
    } finally {
      await gw.close();
    }
  });
});
