import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import type { IncomingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileGateway } from '../../src/config/compile.ts';
import { RampartError } from '../../src/core/errors.ts';
import { KeyStore } from '../../src/stages/authn/apikey/store.ts';
import { createTestPki, type TestPki } from '../helpers/certs.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Response hardening over real sockets, on one gateway with a plain and a TLS listener:
 * `Strict-Transport-Security` on HTTPS only (an upstream's copy never crosses plain HTTP),
 * `Cache-Control: no-store` on authenticated and gateway-made responses unless the upstream
 * chose caching, and header rules on the upstream request and on the response.
 */

const PEPPER = randomBytes(32).toString('base64');

const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    key: { type: apiKey, in: header, name: X-API-Key }
paths:
  /public:
    get:
      operationId: getPublic
      security: [{}]
      responses: { '200': { description: ok } }
  /private:
    get:
      operationId: getPrivate
      security: [{ key: [] }]
      responses: { '200': { description: ok } }
  /cached:
    get:
      operationId: getCached
      security: [{ key: [] }]
      responses: { '200': { description: ok } }
`;

function config(upstreamUrl: string, pki: TestPki, extra = ''): string {
  return `version: 1
server:
  listen:
    - { host: 127.0.0.1, port: 0 }
    - host: 127.0.0.1
      port: 0
      tls: { cert: ${pki.server.certFile}, key: 'file:${pki.server.keyFile}' }
${extra}
log: { access: { destination: stderr, enabled: false } }
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
    transform:
      request:
        remove: [X-Debug]
        rename: { X-Legacy-Client: X-Client }
        set: { X-Api-Version: '2', X-Caller: '{principal.id}', X-Trace-Ref: 'rampart-{request.id}' }
        add: { X-Via-Note: gateway }
    response:
      headers:
        remove: [X-Internal-Host]
        rename: { X-Old-Name: X-New-Name }
        set: { X-Frame-Options: DENY }
    operations:
      getPublic:
        transform: { request: { set: { X-Operation: public } } }
        response: { headers: { set: { Content-Security-Policy: "default-src 'none'" } } }
`;
}

interface Answer {
  status: number;
  headers: IncomingHttpHeaders;
  body: string;
}

function get(url: string, path: string, headers: Record<string, string>, ca: string): Promise<Answer> {
  if (url.startsWith('http:')) {
    return fetch(`${url}${path}`, { headers }).then(async (res) => ({
      status: res.status,
      headers: Object.fromEntries(res.headers),
      body: await res.text(),
    }));
  }
  return new Promise((resolve, reject) => {
    const req = httpsRequest(`${url}${path}`, { headers, ca, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => {
        body += c;
      });
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('response hardening over real sockets', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let httpUrl: string;
  let httpsUrl: string;
  let token: string;

  before(async () => {
    process.env.RAMPART_TEST_PEPPER = PEPPER;
    pki = createTestPki('hardening');
    const issued = KeyStore.load('/nonexistent/keys.json', { allowMissing: true }).create(
      { kind: 'apiKey', owner: 'cust-alice' },
      PEPPER,
      Date.now(),
    );
    token = issued.secret.kind === 'apiKey' ? issued.secret.token : '';
    upstream = await startUpstream((req, res) => {
      res.writeHead(200, {
        'content-type': 'application/json',
        // An upstream that pins HSTS itself, leaks an internal host and uses an old header name.
        'strict-transport-security': 'max-age=5',
        'x-internal-host': 'app-7.internal',
        'x-old-name': 'v',
        ...(req.url === '/cached' ? { 'cache-control': 'private, max-age=60' } : {}),
      });
      res.end('{}');
    });
    gw = await startTestGateway({
      config: config(upstream.url, pki),
      files: { 'openapi.yaml': OPENAPI, 'keys.json': JSON.stringify(issued.store.toJSON()) },
    });
    [httpUrl, httpsUrl] = gw.running.urls as [string, string];
    assert.match(httpsUrl, /^https:/);
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('sends HSTS (one year by default) on HTTPS responses, the upstream copy replaced', async () => {
    const res = await get(httpsUrl, '/public', {}, pki.caPem);
    assert.equal(res.status, 200);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
  });

  it('never sends HSTS over plain HTTP, not even the upstream one', async () => {
    const res = await get(httpUrl, '/public', {}, pki.caPem);
    assert.equal(res.status, 200);
    assert.equal(res.headers['strict-transport-security'], undefined);
  });

  it('sends HSTS on HTTPS gateway replies made before routing, and no-store on them', async () => {
    const res = await get(httpsUrl, '/nowhere', {}, pki.caPem);
    assert.equal(res.status, 404);
    assert.equal(res.headers['strict-transport-security'], 'max-age=31536000');
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it('marks authenticated responses no-store', async () => {
    const res = await get(httpsUrl, '/private', { 'x-api-key': token }, pki.caPem);
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'no-store');
  });

  it("keeps the upstream's own Cache-Control on an authenticated response", async () => {
    const res = await get(httpUrl, '/cached', { 'x-api-key': token }, pki.caPem);
    assert.equal(res.status, 200);
    assert.equal(res.headers['cache-control'], 'private, max-age=60');
  });

  it('leaves anonymous responses cacheable, and makes gateway refusals no-store', async () => {
    const anonymous = await get(httpUrl, '/public', {}, pki.caPem);
    assert.equal(anonymous.headers['cache-control'], undefined);
    const refused = await get(httpUrl, '/private', {}, pki.caPem);
    assert.equal(refused.status, 401);
    assert.equal(refused.headers['cache-control'], 'no-store');
  });

  it('applies the request header rules before the upstream sees the request', async () => {
    const res = await get(
      httpUrl,
      '/private',
      {
        'x-api-key': token,
        'x-debug': '1',
        'x-legacy-client': 'mobile-3',
        'x-caller': 'admin',
        'x-via-note': 'client',
      },
      pki.caPem,
    );
    assert.equal(res.status, 200);
    const seen = upstream.seen.at(-1)!.headers;
    assert.equal(seen['x-debug'], undefined);
    assert.equal(seen['x-legacy-client'], undefined);
    assert.equal(seen['x-client'], 'mobile-3');
    assert.equal(seen['x-api-version'], '2');
    assert.equal(seen['x-caller'], 'cust-alice', 'the verified principal, not the client copy');
    assert.equal(seen['x-trace-ref'], `rampart-${res.headers['x-request-id']}`);
    assert.equal(seen['x-via-note'], 'client, gateway');
    assert.equal(seen['x-operation'], undefined, "another operation's rule does not apply");
  });

  it("never lets a client's copy stand in for a principal value an anonymous call lacks", async () => {
    const res = await get(httpUrl, '/public', { 'x-caller': 'admin', X_Caller: 'admin' }, pki.caPem);
    assert.equal(res.status, 200);
    const seen = upstream.seen.at(-1)!.headers;
    assert.equal(seen['x-caller'], undefined);
    assert.equal(seen.x_caller, undefined);
    assert.equal(seen['x-operation'], 'public', "the operation's rules apply after the API's");
  });

  it('applies the response header rules, API then operation', async () => {
    const res = await get(httpUrl, '/public', {}, pki.caPem);
    assert.equal(res.headers['x-internal-host'], undefined);
    assert.equal(res.headers['x-old-name'], undefined);
    assert.equal(res.headers['x-new-name'], 'v');
    assert.equal(res.headers['x-frame-options'], 'DENY');
    assert.equal(res.headers['content-security-policy'], "default-src 'none'");
    const other = await get(httpUrl, '/private', { 'x-api-key': token }, pki.caPem);
    assert.equal(other.headers['x-frame-options'], 'DENY');
    assert.equal(other.headers['content-security-policy'], undefined);
  });
});

describe('HSTS settings', () => {
  let pki: TestPki;
  let upstream: TestUpstream;

  before(async () => {
    process.env.RAMPART_TEST_PEPPER = PEPPER;
    pki = createTestPki('hsts');
    upstream = await startUpstream();
  });
  after(async () => {
    await upstream.close();
  });

  const keys = () => JSON.stringify(KeyStore.load('/nonexistent/k.json', { allowMissing: true }).toJSON());

  it('uses server.hsts, and an API may turn it off for its own responses', async () => {
    const gw = await startTestGateway({
      config: config(
        upstream.url,
        pki,
        '  hsts: { maxAge: 8760h, includeSubDomains: true, preload: true }',
      ).replace('    response:\n', '    response:\n      hsts: { enabled: false }\n'),
      files: { 'openapi.yaml': OPENAPI, 'keys.json': keys() },
    });
    try {
      const httpsUrl = gw.running.urls[1]!;
      const unrouted = await get(httpsUrl, '/nowhere', {}, pki.caPem);
      assert.equal(
        unrouted.headers['strict-transport-security'],
        'max-age=31536000; includeSubDomains; preload',
      );
      const api = await get(httpsUrl, '/public', {}, pki.caPem);
      assert.equal(api.status, 200);
      assert.equal(api.headers['strict-transport-security'], undefined, 'off for this API');
    } finally {
      await gw.stop();
    }
  });

  it('refuses preload without includeSubDomains and a year, at the field', () => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-hsts-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    writeFileSync(join(dir, 'keys.json'), keys());
    const yaml = config(upstream.url, pki, '  hsts: { maxAge: 1h, preload: true }');
    const file = join(dir, 'rampart.yaml');
    writeFileSync(file, yaml);
    assert.throws(
      () => compileGateway(file, { openLogs: false }),
      (err: unknown) => {
        assert.ok(err instanceof RampartError);
        assert.equal(err.problems[0]!.field, 'server.hsts.preload');
        assert.equal(
          err.problems[0]!.location.line,
          yaml.split('\n').findIndex((l) => l.includes('hsts:')) + 1,
        );
        assert.match(err.problems[0]!.message, /includeSubDomains/);
        return true;
      },
    );
  });
});
