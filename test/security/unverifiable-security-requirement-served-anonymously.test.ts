import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { compileGateway } from '../../src/config/compile.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * An operation whose OpenAPI document requires credentials must never be served to an
 * anonymous caller just because the gateway cannot verify that kind of credential: it is
 * refused (401) and `check` reports it as critical. Only `security: [{}]` means anonymous.
 */
const OPENAPI = `openapi: 3.0.3
info: { title: t, version: '1' }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
    key: { type: apiKey, in: header, name: X-Key }
security: [{ bearer: [] }]
paths:
  /private:
    get:
      operationId: getPrivate
      responses: { '200': { description: ok } }
  /either:
    get:
      operationId: getEither
      security: [{ bearer: [] }, { key: [] }]
      responses: { '200': { description: ok } }
  /public:
    get:
      operationId: getPublic
      security: [{}]
      responses: { '200': { description: ok } }
  /optional:
    get:
      operationId: getOptional
      security: [{ bearer: [] }, {}]
      responses: { '200': { description: ok } }
`;

describe('attack: reaching an operation that requires credentials without any', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstream.url} } }
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`,
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('refuses with 401 whatever credential-looking headers are sent, and never reaches the upstream', async () => {
    for (const path of ['/private', '/either']) {
      for (const headers of [{}, { authorization: 'Bearer anything' }, { 'x-key': 'guess' }]) {
        const res = await fetch(`${gw.url}${path}`, { headers });
        assert.equal(res.status, 401, `${path} ${JSON.stringify(headers)}`);
        assert.equal(res.headers.get('content-type'), 'application/problem+json');
      }
    }
    assert.equal(upstream.seen.length, 0);
    const lines = await gw.readAccessLog();
    assert.ok(lines.every((l) => l.reason === 'unauthenticated'));
  });

  it('serves operations that allow anonymous access explicitly', async () => {
    assert.equal((await fetch(`${gw.url}/public`)).status, 200);
    assert.equal((await fetch(`${gw.url}/optional`)).status, 200);
    assert.deepEqual(
      upstream.seen.map((r) => r.url),
      ['/public', '/optional'],
    );
  });

  it('is a critical finding of check for each refused operation', async () => {
    const gateway = compileGateway(`${gw.dir}/rampart.yaml`, { openLogs: false });
    await gateway.close();
    const critical = gateway.findings.filter((f) => f.id === 'security-not-enforceable');
    assert.deepEqual(
      critical.map((f) => f.severity),
      ['critical', 'critical', 'critical'],
    );
    assert.match(critical[0]!.message, /getPrivate.*requires bearer, which authn.schemes does not configure/);
    assert.match(critical[1]!.message, /getEither.*requires bearer, key,/);
    assert.match(critical[2]!.message, /getOptional.*requires bearer,/);
  });
});
