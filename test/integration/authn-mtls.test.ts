import assert from 'node:assert/strict';
import { request } from 'node:https';
import { after, before, describe, it } from 'node:test';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/certs.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Mutual TLS over real sockets: the listener verifies client certificates against its client
 * CA, and the OpenAPI `mutualTLS` scheme turns the verified certificate into a principal whose
 * attributes reach the upstream only through gateway-owned headers.
 */
const OPENAPI = `openapi: 3.1.0
info: { title: t, version: '1' }
components:
  securitySchemes:
    mtls: { type: mutualTLS }
    bearer: { type: http, scheme: bearer }
paths:
  /svc:
    get:
      operationId: getSvc
      security: [{ mtls: [] }]
      responses: { '200': { description: ok } }
  /public:
    get:
      operationId: getPublic
      security: [{}]
      responses: { '200': { description: ok } }
`;

interface Answer {
  status: number;
  body: string;
  headers: Record<string, string | string[] | undefined>;
}

function get(url: string, path: string, ca: string, client?: IssuedCert): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}${path}`,
      { ca, cert: client?.cert, key: client?.key, servername: 'localhost', agent: false },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function config(
  pki: TestPki,
  mode: 'require' | 'optional',
  upstreamUrl: string,
  principalFrom = 'subject.CN',
): string {
  return `version: 1
server:
  listen:
    - host: 127.0.0.1
      port: 0
      tls:
        cert: ${pki.server.certFile}
        key: file:${pki.server.keyFile}
        clientAuth: { ca: ${pki.caFile}, mode: ${mode} }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: ${upstreamUrl} } }
authn:
  schemes:
    mtls: { mutualTls: { principalFrom: ${principalFrom} } }
  identityHeaders:
    inject: { x-client-id: id, x-client-serial: attributes.serialNumber }
apis: { t: { openapi: openapi.yaml, upstream: backend } }
`;
}

describe('mutual TLS (optional client auth)', () => {
  let pki: TestPki;
  let otherCa: TestPki;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let alice: IssuedCert;

  before(async () => {
    pki = createTestPki('clients');
    otherCa = createTestPki('rogue');
    alice = pki.issue('alice', {
      cn: 'alice',
      san: 'URI:spiffe://example.test/alice,email:alice@example.test',
    });
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(pki, 'optional', upstream.url),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('serves a client with a certificate from the client CA, passing its identity upstream', async () => {
    const res = await get(gw.url, '/svc', pki.caPem, alice);
    assert.equal(res.status, 200, res.body);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-client-id'], 'alice');
    assert.match(String(seen.headers['x-client-serial']), /^[0-9A-F]+$/i);
  });

  it('refuses a client without a certificate where mutualTLS is required (401)', async () => {
    const res = await get(gw.url, '/svc', pki.caPem);
    assert.equal(res.status, 401);
    assert.match(res.headers['content-type'] as string, /problem\+json/);
  });

  it('still serves anonymous operations to a client without a certificate', async () => {
    const res = await get(gw.url, '/public', pki.caPem);
    assert.equal(res.status, 200);
  });

  it('refuses a certificate from another CA: wrong client CA (401, client_cert_required)', async () => {
    const mallory = otherCa.issue('mallory', { cn: 'alice' });
    const before = upstream.seen.length;
    const res = await get(gw.url, '/svc', pki.caPem, mallory);
    assert.equal(res.status, 401);
    assert.equal(upstream.seen.length, before, 'the upstream never sees the request');
    const line = (await gw.readAccessLog()).at(-1)!;
    assert.equal(line.reason, 'client_cert_required');
  });

  it('drops a client-sent identity header on the way upstream (spoofing)', async () => {
    const res = await new Promise<number>((resolve, reject) => {
      const req = request(
        `${gw.url}/public`,
        {
          ca: pki.caPem,
          servername: 'localhost',
          agent: false,
          headers: { 'x-client-id': 'admin', x_client_id: 'admin' },
        },
        (r) => {
          r.resume();
          r.on('end', () => resolve(r.statusCode!));
        },
      );
      req.on('error', reject);
      req.end();
    });
    assert.equal(res, 200);
    const seen = upstream.seen.at(-1)!;
    assert.equal(seen.headers['x-client-id'], undefined);
    assert.equal(seen.headers.x_client_id, undefined);
  });
});

describe('mutual TLS (required client auth)', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    pki = createTestPki('required');
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: config(pki, 'require', upstream.url, 'san.uri'),
      files: { 'openapi.yaml': OPENAPI },
    });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
  });

  it('fails the handshake of a client without a certificate', async () => {
    await assert.rejects(get(gw.url, '/public', pki.caPem), (err: NodeJS.ErrnoException) => {
      return /certificate|ECONNRESET|socket hang up|alert/i.test(`${err.code} ${err.message}`);
    });
  });

  it('takes the principal id from the SAN URI when configured', async () => {
    const svc = pki.issue('svc', { cn: 'svc', san: 'URI:spiffe://example.test/orders' });
    const res = await get(gw.url, '/svc', pki.caPem, svc);
    assert.equal(res.status, 200, res.body);
    assert.equal(upstream.seen.at(-1)!.headers['x-client-id'], 'spiffe://example.test/orders');
  });

  it('refuses a certificate without the configured SAN (401)', async () => {
    const plain = pki.issue('plain', { cn: 'plain' });
    const res = await get(gw.url, '/svc', pki.caPem, plain);
    assert.equal(res.status, 401);
  });
});
