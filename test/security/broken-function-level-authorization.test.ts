import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';
import { rawRequest } from '../helpers/raw.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: broken function level authorization (BFLA, OWASP API5:2023). A regular user calls an
 * administrative function: an operation tagged `admin`. The attacker switches the HTTP method
 * on a path they may use (DELETE where GET is allowed, method-override headers, HEAD, lowercase
 * or unknown methods) or respells the admin path (case, escapes, dot segments, extra slashes,
 * path parameters) hoping the gateway matches an operation it allows while the upstream serves
 * the admin function. Both ways of guarding admin functions are attacked: a config rule
 * (`authz.tags.admin.groups`) and a Cedar policy (`principal in Group::"admin"`).
 */
const OPENAPI = `openapi: 3.1.0
info: { title: users, version: '1' }
security: [{ bearer: [] }]
paths:
  /users/{userId}:
    parameters: [{ name: userId, in: path, required: true, schema: { type: string } }]
    get: { operationId: getUser, tags: [users], responses: { '200': { description: ok } } }
    put: { operationId: updateUser, tags: [users], responses: { '200': { description: ok } } }
    delete: { operationId: deleteUser, tags: [admin], responses: { '200': { description: ok } } }
  /admin/users:
    get: { operationId: listAllUsers, tags: [admin], responses: { '200': { description: ok } } }
    post: { operationId: createUser, tags: [admin], responses: { '200': { description: ok } } }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
`;

const POLICIES = `@id("users")
permit (principal, action in Action::"tag:users", resource);

@id("admins")
permit (principal in Group::"admin", action in Action::"tag:admin", resource);
`;

const GUARDS = [
  { name: 'a tag rule (authz.tags.admin.groups)', basePath: '/rules' },
  { name: 'a Cedar policy (principal in Group::"admin")', basePath: '/cedar' },
];

describe('attack: broken function level authorization (BFLA), a non-admin calls an admin function', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let user: string;
  let admin: string;

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
  rules:
    openapi: openapi.yaml
    basePath: /rules
    upstream: backend
    authz:
      tags:
        admin: { groups: [admin] }
  cedar:
    openapi: openapi.yaml
    basePath: /cedar
    upstream: backend
    authz:
      cedar: { policies: policies.cedar }
`,
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': POLICIES },
    });
    user = idp.sign({ sub: 'uma', groups: ['users'] });
    admin = idp.sign({ sub: 'ada', groups: ['users', 'admin'] });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  interface Seen {
    readonly status: number;
    /** What the upstream received: method, url and the method-override headers. */
    readonly reached: { method: string; url: string; overrides: string[] }[];
  }

  /** Sends exactly `method path` with `token` and `headers` over a raw socket. */
  async function send(
    method: string,
    path: string,
    token: string,
    headers: Record<string, string> = {},
  ): Promise<Seen> {
    const before = upstream.seen.length;
    const head = Object.entries({ authorization: `Bearer ${token}`, ...headers })
      .map(([k, v]) => `${k}: ${v}\r\n`)
      .join('');
    const res = await rawRequest(
      gw.port,
      `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${head}Content-Length: 0\r\nConnection: close\r\n\r\n`,
    );
    await new Promise((r) => setTimeout(r, 20));
    return {
      status: res.status,
      reached: upstream.seen.slice(before).map((s) => ({
        method: s.method,
        url: s.url,
        overrides: Object.keys(s.headers).filter((h) => /method/i.test(h)),
      })),
    };
  }

  for (const { name, basePath } of GUARDS) {
    describe(`guarded by ${name}`, () => {
      it('the admin calls the admin functions; the user calls the user functions', async () => {
        for (const [method, path] of [
          ['DELETE', '/users/bob'],
          ['GET', '/admin/users'],
          ['POST', '/admin/users'],
        ]) {
          const answer = await send(method!, basePath + path!, admin);
          assert.equal(answer.status, 200, `${method} ${path}`);
        }
        assert.equal((await send('GET', `${basePath}/users/bob`, user)).status, 200);
        assert.equal((await send('PUT', `${basePath}/users/uma`, user)).status, 200);
      });

      it('the user calling an admin function directly: 403, never upstream', async () => {
        for (const [method, path] of [
          ['DELETE', '/users/bob'],
          ['GET', '/admin/users'],
          ['POST', '/admin/users'],
        ]) {
          const answer = await send(method!, basePath + path!, user);
          assert.equal(answer.status, 403, `${method} ${path}`);
          assert.deepEqual(answer.reached, [], `${method} ${path}`);
        }
      });

      it('method switching: HEAD, lowercase, unknown and unlisted methods never reach an admin function', async () => {
        const attempts: [string, string][] = [
          ['HEAD', '/admin/users'],
          ['delete', '/users/bob'],
          ['Delete', '/users/bob'],
          ['PATCH', '/users/bob'],
          ['POST', '/users/bob'],
          ['PURGE', '/users/bob'],
          ['OPTIONS', '/admin/users'],
          ['PUT', '/admin/users'],
          ['DELETE', '/admin/users'],
        ];
        for (const [method, path] of attempts) {
          const answer = await send(method, basePath + path, user);
          assert.ok(answer.status >= 400, `${method} ${path}: ${answer.status}`);
          assert.deepEqual(answer.reached, [], `${method} ${path}`);
        }
      });

      it('method-override headers on an allowed call do not reach the upstream (it would run DELETE)', async () => {
        for (const header of [
          'x-http-method-override',
          'x-method-override',
          'x-http-method',
          'x_http_method_override',
        ]) {
          const answer = await send('GET', `${basePath}/users/bob`, user, { [header]: 'DELETE' });
          // Refusing the request or dropping the header are both safe; forwarding it is not.
          for (const seen of answer.reached) {
            assert.equal(seen.method, 'GET', header);
            assert.deepEqual(seen.overrides, [], `${header} reached the upstream`);
          }
        }
      });

      it('POST with a method override to a path where POST is not an operation is refused (405)', async () => {
        const answer = await send('POST', `${basePath}/users/bob`, user, {
          'x-http-method-override': 'DELETE',
        });
        assert.equal(answer.status, 405);
        assert.deepEqual(answer.reached, []);
      });

      const VARIANTS = [
        '/admin/users/',
        '/ADMIN/users',
        '/Admin/Users',
        '/%61dmin/users',
        '/%61%64%6D%69%6E/users',
        '/admin/%75sers',
        '/users/../admin/users',
        '/users/%2e%2e/admin/users',
        '/users/x/../../admin/users',
        '/./admin/users',
        '/admin/./users',
        '//admin/users',
        '/admin//users',
        '/admin;/users',
        '/admin/users;',
        '/admin/users;jsessionid=1',
        '/admin/users%2F',
        '/admin%2Fusers',
        '/admin/users%00',
        '/admin/users%20',
        '/admin/users..;/',
        '/users/..;/admin/users',
        '/admin%5Cusers',
      ];

      it('path variations of an admin function: the user is never served, and reaches no upstream', async () => {
        const sameFunction: string[] = [];
        for (const variant of VARIANTS) {
          for (const method of ['GET', 'POST']) {
            const answer = await send(method, basePath + variant, user);
            assert.ok(answer.status >= 400, `${method} ${variant}: ${answer.status}`);
            assert.deepEqual(answer.reached, [], `${method} ${variant}`);
            // Where the admin is served on that spelling, it is the admin function: the user's
            // refusal is the authorization check, not a missing route.
            const asAdmin = await send(method, basePath + variant, admin);
            if (asAdmin.status === 200) {
              assert.equal(answer.status, 403, `${method} ${variant}`);
              sameFunction.push(`${method} ${variant}`);
            }
          }
        }
        // Escapes of unreserved characters and dot segments do name the admin function.
        for (const expected of ['GET /%61dmin/users', 'POST /users/../admin/users', 'GET /admin/./users']) {
          assert.ok(sameFunction.includes(expected), `${expected} in ${sameFunction.join(', ')}`);
        }
      });

      it("path variations of another user's id on DELETE are admin functions too", async () => {
        for (const variant of [
          '/users/%62ob',
          '/users/./bob',
          '/users/x/../bob',
          '/users/bob/',
          '/users/BOB',
        ]) {
          const answer = await send('DELETE', basePath + variant, user);
          assert.ok(answer.status >= 400, `${variant}: ${answer.status}`);
          assert.deepEqual(answer.reached, [], variant);
        }
      });
    });
  }

  it('the basePath of one API does not lend its rules to the other', async () => {
    // /cedar has no tag rule, /rules no policy: each guards admin its own way, and both refuse.
    assert.equal((await send('GET', '/cedar/admin/users', user)).status, 403);
    assert.equal((await send('GET', '/rules/admin/users', user)).status, 403);
    assert.equal((await send('GET', '/rules/../cedar/admin/users', user)).status, 403);
  });
});
