import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: broken object level authorization (BOLA, OWASP API1:2023). Alice is a legitimate
 * user; she reads or updates Bob's order by putting Bob's id in the path. The owner check is a
 * Cedar policy (`resource.userId == principal`, `userId` an entity reference). Spelling Bob's
 * id differently (percent-encoding, case, dot segments, path parameters) must not get past
 * it: the id the policy compared is the id the upstream receives, and any spelling that is
 * not exactly Alice's id is refused before the upstream.
 */
const OPENAPI = `openapi: 3.1.0
info: { title: shop, version: '1' }
security: [{ bearer: [] }]
paths:
  /users/{userId}/orders/{orderId}:
    parameters:
      - { name: userId, in: path, required: true, schema: { type: string } }
      - { name: orderId, in: path, required: true, schema: { type: string } }
    get: { operationId: getOrder, tags: [orders], responses: { '200': { description: ok } } }
    put: { operationId: updateOrder, tags: [orders], responses: { '200': { description: ok } } }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
`;

const POLICIES = `@id("owner-only")
permit (principal, action in Action::"tag:orders", resource)
when { resource.userId == principal };
`;

describe('attack: broken object level authorization (BOLA), another user id in the path', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let alice: string;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({
      config: `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: '${upstream.url}' } }
authn:
  bruteForce: { enabled: false }
  schemes:
    bearer:
      jwt: { issuers: ['${idp.issuer}'], audiences: ['${idp.audience}'], jwksUri: '${idp.jwksUri}' }
apis:
  shop:
    openapi: openapi.yaml
    upstream: backend
    authz:
      cedar:
        policies: policies.cedar
        entities: { userId: User }
`,
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': POLICIES },
    });
    alice = idp.sign({ sub: 'alice' });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  /** Sends a request as Alice over a raw socket (the path goes on the wire exactly as written). */
  async function asAlice(
    method: string,
    path: string,
    body = '',
  ): Promise<{ status: number; reached: string[] }> {
    const before = upstream.seen.length;
    const res = await rawRequest(
      gw.port,
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${alice}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
    );
    // Let anything the gateway forwarded arrive before looking.
    await new Promise((r) => setTimeout(r, 20));
    return { status: res.status, reached: upstream.seen.slice(before).map((s) => s.url) };
  }

  it('alice reads and updates her own orders', async () => {
    const read = await asAlice('GET', '/users/alice/orders/o-1');
    assert.equal(read.status, 200);
    assert.deepEqual(read.reached, ['/users/alice/orders/o-1']);
    const update = await asAlice('PUT', '/users/alice/orders/o-1', '{"status":"paid"}');
    assert.equal(update.status, 200);
  });

  it("alice cannot read or update bob's order by changing the id in the path", async () => {
    for (const method of ['GET', 'PUT']) {
      const answer = await asAlice(
        method,
        '/users/bob/orders/o-9',
        method === 'PUT' ? '{"status":"refunded"}' : '',
      );
      assert.equal(answer.status, 403, method);
      assert.deepEqual(answer.reached, [], `${method}: the upstream never sees it`);
    }
  });

  it('a body or query naming alice does not change whose order the path names', async () => {
    const put = await asAlice('PUT', '/users/bob/orders/o-9', '{"userId":"alice","owner":"alice"}');
    assert.equal(put.status, 403);
    assert.deepEqual(put.reached, []);
    const query = await asAlice('GET', '/users/bob/orders/o-9?userId=alice');
    assert.equal(query.status, 403);
    assert.deepEqual(query.reached, []);
  });

  const VARIANTS = [
    '/users/%62ob/orders/o-9',
    '/users/%62%6F%62/orders/o-9',
    '/users/%62%6f%62/orders/o-9',
    '/users/Bob/orders/o-9',
    '/users/BOB/orders/o-9',
    '/users/alice/../bob/orders/o-9',
    '/users/alice/%2e%2e/bob/orders/o-9',
    '/users/alice/%2E%2E/bob/orders/o-9',
    '/users/./bob/orders/o-9',
    '/users/alice/..;/bob/orders/o-9',
    '/users/alice%2F..%2Fbob/orders/o-9',
    '/users/alice%2fbob/orders/o-9',
    '/users/bob;alice/orders/o-9',
    '/users/alice;/../bob/orders/o-9',
    '/users/bob%00alice/orders/o-9',
    '/users/bob%20/orders/o-9',
    '/users/%20bob/orders/o-9',
    '/users/bob%2500/orders/o-9',
    '/users/%252e%252e/bob/orders/o-9',
    '/users/alice%5C..%5Cbob/orders/o-9',
    '/users/b%C3%B6b/orders/o-9',
  ];

  for (const method of ['GET', 'PUT']) {
    it(`${method}: no spelling of another id in the path gets past the owner check`, async () => {
      for (const path of VARIANTS) {
        const answer = await asAlice(method, path, method === 'PUT' ? '{}' : '');
        assert.ok([400, 403, 404].includes(answer.status), `${method} ${path}: ${answer.status}`);
        assert.deepEqual(answer.reached, [], `${method} ${path} reached the upstream`);
      }
    });
  }

  it("alice's own id spelled with escapes is her order, and the upstream gets the id the policy compared", async () => {
    for (const path of [
      '/users/%61lice/orders/o-1',
      '/users/%61%6C%69%63%65/orders/o-1',
      '/users/bob/../alice/orders/o-1',
    ]) {
      const answer = await asAlice('GET', path);
      assert.equal(answer.status, 200, path);
      assert.deepEqual(answer.reached, ['/users/alice/orders/o-1'], path);
    }
  });

  it('ids are compared exactly: ALICE is not alice', async () => {
    const answer = await asAlice('GET', '/users/ALICE/orders/o-1');
    assert.equal(answer.status, 403);
    assert.deepEqual(answer.reached, []);
  });
});
