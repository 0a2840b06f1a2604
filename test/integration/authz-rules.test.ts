import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileGateway } from '../../src/config/compile.ts';
import { RampartError } from '../../src/core/errors.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';
import { CLI } from './support/gateway-process.ts';

/**
 * The `authz` rules over real sockets: source networks (IPv4 and IPv6, allow and explicit
 * deny) at the API, tag and operation levels, groups per tag, scopes and principal kinds; the
 * client IP comes from X-Forwarded-For of a trusted proxy. Then the config mistakes that must
 * stop a load, and what `rampart explain` shows.
 */

const OPENAPI = `openapi: 3.1.0
info: { title: shop, version: '1' }
security: [{ bearer: [] }]
paths:
  /orders:
    get: { operationId: listOrders, tags: [orders], responses: { '200': { description: ok } } }
  /orders/{orderId}:
    parameters: [{ name: orderId, in: path, required: true, schema: { type: string } }]
    get: { operationId: getOrder, tags: [orders], responses: { '200': { description: ok } } }
    delete: { operationId: deleteOrder, tags: [orders, admin], responses: { '204': { description: gone } } }
  /admin/users:
    get: { operationId: listUsers, tags: [admin], responses: { '200': { description: ok } } }
  /reports:
    get: { operationId: getReports, tags: [reports], responses: { '200': { description: ok } } }
  /public/ping:
    get:
      operationId: ping
      security: [{ bearer: [] }, {}]
      responses: { '200': { description: ok } }
  /public/hello:
    get:
      operationId: hello
      security: [{ bearer: [] }, {}]
      responses: { '200': { description: ok } }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
`;

const ROLES = 'https://shop.example/roles';

function config(idp: Pick<TestIdp, 'issuer' | 'audience' | 'jwksUri'>, upstreamUrl: string): string {
  return `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
  trustedProxies: [127.0.0.1]
log:
  access:
    destination: \${dir}/access.log
upstreams:
  backend: { url: '${upstreamUrl}' }
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
      groupsFrom: 'claims.${ROLES}'
      network:
        allow:
          - 10.0.0.0/8
          - 2001:db8::/32
        deny:
          - 10.6.6.0/24
          - 2001:db8:bad::/48
      tags:
        admin:
          groups: [admin]
          network:
            allow: [10.1.0.0/16, '2001:db8:1::/48']
        reports:
          scopes: [reports:read]
          network:
            deny: [10.1.99.0/24]
    operations:
      deleteOrder:
        authz:
          scopes: [orders:delete]
          network:
            allow: [10.1.0.0/16]
            deny: [10.1.2.0/24]
      ping:
        authz:
          principalKinds: [anonymous]
      hello:
        authz:
          principalKinds: [jwt]
`;
}

describe('authz rules over HTTP', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    gw = await startTestGateway({ config: config(idp, upstream.url), files: { 'openapi.yaml': OPENAPI } });
  });
  after(async () => {
    await gw.stop();
    await upstream.close();
    await idp.close();
  });

  const user = () => idp.sign({ sub: 'uma', [ROLES]: ['staff'], scope: 'orders:delete reports:read' });
  const admin = () =>
    idp.sign({ sub: 'ada', [ROLES]: ['staff', 'admin'], scope: 'orders:delete reports:read' });

  interface Answer {
    readonly status: number;
    readonly reason: unknown;
    /** Whether the upstream received this request. */
    readonly reached: boolean;
  }

  /** Sends a request from `ip` (via the trusted proxy) and returns what happened to it. */
  async function send(
    method: string,
    path: string,
    ip: string,
    token?: string,
    extra: Record<string, string> = {},
  ): Promise<Answer> {
    const headers: Record<string, string> = { 'x-forwarded-for': ip, ...extra };
    if (token !== undefined) headers.authorization = `Bearer ${token}`;
    const marker = `${Math.random()}`;
    headers['x-test-marker'] = marker;
    const res = await fetch(gw.url + path, { method, headers });
    await res.arrayBuffer();
    const id = res.headers.get('x-request-id');
    let reason: unknown;
    for (let i = 0; i < 100; i++) {
      const line = (await gw.readAccessLog()).find((l) => l.reqId === id);
      if (line !== undefined) {
        reason = line.reason;
        break;
      }
      await new Promise((r) => setTimeout(r, 20));
    }
    return {
      status: res.status,
      reason,
      reached: upstream.seen.some((s) => s.headers['x-test-marker'] === marker),
    };
  }

  async function expectRefused(answer: Promise<Answer>, reason: string, label: string): Promise<void> {
    const a = await answer;
    assert.equal(a.status, 403, label);
    assert.equal(a.reason, reason, label);
    assert.equal(a.reached, false, `${label}: the upstream never sees a refused request`);
  }

  async function expectServed(answer: Promise<Answer>, label: string): Promise<void> {
    const a = await answer;
    assert.ok(a.status >= 200 && a.status < 300, `${label}: ${a.status} ${String(a.reason)}`);
    assert.equal(a.reached, true, label);
  }

  describe('networks', () => {
    it('API level: only clients in network.allow, IPv4 and IPv6', async () => {
      for (const ip of ['10.2.3.4', '2001:db8:5::1', '2001:DB8:5:0::1', '::ffff:10.2.3.4']) {
        await expectServed(send('GET', '/orders', ip, user()), ip);
      }
      for (const ip of ['192.0.2.1', '2001:db9::1', '::1', '172.16.0.1']) {
        await expectRefused(send('GET', '/orders', ip, user()), 'source_not_allowed', ip);
      }
    });

    it('API level: network.deny refuses inside the allowed networks, IPv4 and IPv6', async () => {
      for (const ip of [
        '10.6.6.6',
        '2001:db8:bad::1',
        '2001:db8:bad:ffff::1',
        '::ffff:10.6.6.6',
        '::ffff:a06:606',
      ]) {
        await expectRefused(send('GET', '/orders', ip, user()), 'source_denied', ip);
      }
    });

    it('the client IP is the right-most untrusted X-Forwarded-For hop: a client cannot prepend an allowed one', async () => {
      await expectRefused(
        send('GET', '/orders', '10.2.3.4, 192.0.2.1', user()),
        'source_not_allowed',
        'spoofed first hop',
      );
      await expectRefused(
        send('GET', '/orders', '10.2.3.4, 10.6.6.6', user()),
        'source_denied',
        'denied last hop',
      );
    });

    it('tag level: the admin tag allows fewer networks than the API', async () => {
      await expectServed(send('GET', '/admin/users', '10.1.5.5', admin()), 'admin from 10.1/16');
      await expectServed(send('GET', '/admin/users', '2001:db8:1::9', admin()), 'admin from 2001:db8:1::/48');
      await expectRefused(
        send('GET', '/admin/users', '10.2.3.4', admin()),
        'source_not_allowed',
        'admin from 10.2/16',
      );
      await expectRefused(
        send('GET', '/admin/users', '2001:db8:2::9', admin()),
        'source_not_allowed',
        'admin from 2001:db8:2::/48',
      );
    });

    it('tag level: a deny of the reports tag refuses only operations with that tag', async () => {
      await expectRefused(
        send('GET', '/reports', '10.1.99.7', user()),
        'source_denied',
        'reports from 10.1.99/24',
      );
      await expectServed(send('GET', '/orders', '10.1.99.7', user()), 'orders from 10.1.99/24');
      await expectServed(send('GET', '/reports', '10.1.98.7', user()), 'reports from 10.1.98/24');
    });

    it('operation level: its explicit deny wins over its own, the tag and the API allows', async () => {
      await expectRefused(
        send('DELETE', '/orders/o-1', '10.1.2.3', admin()),
        'source_denied',
        'delete from 10.1.2/24',
      );
      await expectServed(send('DELETE', '/orders/o-1', '10.1.5.5', admin()), 'delete from 10.1.5/24');
      // The operation's allow and the admin tag's allow intersect with the API's.
      await expectRefused(
        send('DELETE', '/orders/o-1', '2001:db8:1::9', admin()),
        'source_not_allowed',
        'delete from IPv6: the operation allows only 10.1/16',
      );
    });

    it('a network refusal comes before the credential is even considered', async () => {
      await expectRefused(
        send('GET', '/public/ping', '10.6.6.6'),
        'source_denied',
        'anonymous from a denied network',
      );
    });
  });

  describe('groups, scopes and principal kinds', () => {
    it('groups per tag (BFLA): only admins reach admin-tagged operations; the rest is open to users', async () => {
      await expectRefused(
        send('GET', '/admin/users', '10.1.5.5', user()),
        'group_required',
        'user lists users',
      );
      await expectRefused(
        send('DELETE', '/orders/o-1', '10.1.5.5', user()),
        'group_required',
        'user deletes',
      );
      await expectServed(send('GET', '/orders/o-1', '10.1.5.5', user()), 'user reads an order');
      await expectServed(send('GET', '/admin/users', '10.1.5.5', admin()), 'admin lists users');
    });

    it('the groups claim named by groupsFrom is the one read: a `groups` claim does not count', async () => {
      const other = idp.sign({ sub: 'eve', groups: ['admin'], roles: ['admin'], [ROLES]: 'staff' });
      await expectRefused(
        send('GET', '/admin/users', '10.1.5.5', other),
        'group_required',
        'admin in another claim',
      );
      const single = idp.sign({ sub: 'sam', [ROLES]: 'admin' });
      await expectServed(send('GET', '/admin/users', '10.1.5.5', single), 'one string is one group');
    });

    it('scopes: the reports tag needs reports:read, deleteOrder needs orders:delete', async () => {
      const noScopes = idp.sign({ sub: 'ada', [ROLES]: ['admin'] });
      await expectRefused(
        send('GET', '/reports', '10.1.5.5', noScopes),
        'scope_required',
        'reports without scope',
      );
      await expectServed(
        send('GET', '/reports', '10.1.5.5', idp.sign({ sub: 'r', scope: 'reports:read' })),
        'reports with scope',
      );
      await expectRefused(
        send(
          'DELETE',
          '/orders/o-1',
          '10.1.5.5',
          idp.sign({ sub: 'ada', [ROLES]: ['admin'], scope: 'orders:read' }),
        ),
        'scope_required',
        'delete without orders:delete',
      );
    });

    it('principal kinds: ping only for anonymous callers, hello only for JWTs', async () => {
      await expectServed(send('GET', '/public/ping', '10.2.3.4'), 'anonymous ping');
      await expectRefused(
        send('GET', '/public/ping', '10.2.3.4', user()),
        'principal_kind_not_allowed',
        'jwt ping',
      );
      await expectServed(send('GET', '/public/hello', '10.2.3.4', user()), 'jwt hello');
      await expectRefused(
        send('GET', '/public/hello', '10.2.3.4'),
        'principal_kind_not_allowed',
        'anonymous hello',
      );
    });
  });
});

describe('config mistakes in authz stop the load, located', () => {
  const IDP = { issuer: 'https://idp.example/', audience: 'shop', jwksUri: 'https://idp.example/jwks.json' };

  function refusal(yaml: string, files: Record<string, string> = {}): { err: RampartError; file: string } {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-authz-rules-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
    const file = join(dir, 'rampart.yaml');
    writeFileSync(file, yaml);
    try {
      compileGateway(file, { openLogs: false });
    } catch (err) {
      assert.ok(err instanceof RampartError, String(err));
      return { err, file };
    }
    assert.fail('the load should have been refused');
  }

  /** The 1-based line of `yaml` that contains `needle`. */
  function lineOf(yaml: string, needle: string): number {
    const lines = yaml.split('\n');
    const index = lines.findIndex((l) => l.includes(needle));
    assert.ok(index >= 0, needle);
    return index + 1;
  }

  const base = config(IDP, 'http://127.0.0.1:9').replace(/destination: .*/, 'destination: stderr');

  it('a CIDR that does not parse in authz.network: RAMPART_ERR_CONFIG_CIDR at its line', () => {
    for (const bad of ['10.7.0.0/33', '10.7.0', 'fe80::1%eth0', '2001:db8::/129']) {
      const yaml = base.replace('          - 10.6.6.0/24\n', `          - 10.6.6.0/24\n          - ${bad}\n`);
      const { err, file } = refusal(yaml);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_CIDR', err.format());
      const problem = err.problems[0]!;
      assert.equal(problem.location.file, file);
      assert.equal(problem.location.line, lineOf(yaml, `- ${bad}`), `${bad}: ${err.format()}`);
      assert.equal(problem.field, 'apis.shop.authz.network.deny[1]');
    }
  });

  it('a bad CIDR in a tag or an operation rule is located there', () => {
    const inTag = base.replace('deny: [10.1.99.0/24]', 'deny: [10.1.99.0/24, 10.1.300.0/24]');
    const tag = refusal(inTag).err;
    assert.equal(tag.code, 'RAMPART_ERR_CONFIG_CIDR');
    assert.equal(tag.problems[0]!.location.line, lineOf(inTag, '10.1.300.0/24'));
    assert.equal(tag.problems[0]!.field, 'apis.shop.authz.tags.reports.network.deny[1]');
    const inOperation = base.replace('deny: [10.1.2.0/24]', "deny: ['10.1.2.0/24/8']");
    const operation = refusal(inOperation).err;
    assert.equal(operation.code, 'RAMPART_ERR_CONFIG_CIDR');
    assert.equal(operation.problems[0]!.location.line, lineOf(inOperation, '10.1.2.0/24/8'));
  });

  it('an authz.tags key naming a tag no operation carries stops the load (a misspelt tag protects nothing)', () => {
    const yaml = base.replace(
      '        admin:\n          groups: [admin]',
      '        admins:\n          groups: [admin]',
    );
    const { err, file } = refusal(yaml);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE', err.format());
    assert.equal(err.problems[0]!.location.file, file);
    assert.equal(err.problems[0]!.location.line, lineOf(yaml, 'admins:'));
    assert.match(err.problems[0]!.message, /"admins"/);
    assert.match(err.problems[0]!.message, /admin/);
  });

  it('cedar.entities naming a path parameter no path has stops the load', () => {
    const yaml = base.replace(
      '      tags:\n',
      '      cedar:\n        policies: shop.cedar\n        entities:\n          customerId: User\n      tags:\n',
    );
    const { err, file } = refusal(yaml, { 'shop.cedar': 'permit (principal, action, resource);\n' });
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE', err.format());
    assert.equal(err.problems[0]!.location.file, file);
    assert.equal(err.problems[0]!.location.line, lineOf(yaml, 'customerId: User'));
    assert.match(err.problems[0]!.message, /\{customerId\}/);
    assert.match(err.problems[0]!.message, /orderId/);
  });

  it('the same config with the real parameter loads (the refusals above are about the mistake)', () => {
    const yaml = base.replace(
      '      tags:\n',
      '      cedar:\n        policies: shop.cedar\n        entities:\n          orderId: Order\n      tags:\n',
    );
    const dir = mkdtempSync(join(tmpdir(), 'rampart-authz-rules-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    writeFileSync(join(dir, 'shop.cedar'), 'permit (principal, action, resource);\n');
    writeFileSync(join(dir, 'rampart.yaml'), yaml);
    const gateway = compileGateway(join(dir, 'rampart.yaml'), { openLogs: false });
    assert.ok(gateway.operations.length > 0);
    void gateway.close();
  });
});

describe('rampart explain shows the authz rules', () => {
  const IDP = { issuer: 'https://idp.example/', audience: 'shop', jwksUri: 'https://idp.example/jwks.json' };
  let configFile: string;

  before(() => {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-authz-explain-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    configFile = join(dir, 'rampart.yaml');
    writeFileSync(
      configFile,
      config(IDP, 'http://127.0.0.1:9').replace(/destination: .*/, 'destination: stderr'),
    );
  });

  function explain(operation: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
    return new Promise((resolve) => {
      execFile(
        process.execPath,
        [...CLI, 'explain', configFile, '--operation', operation],
        { cwd: new URL('../../', import.meta.url).pathname, timeout: 30_000 },
        (err, stdout, stderr) => {
          const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
          resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
        },
      );
    });
  }

  /** The text of the authz line of explain's output. */
  function authzLine(stdout: string): string {
    const line = stdout.split('\n').find((l) => /^\s*\d+ authz\s/.test(l));
    assert.ok(line, stdout);
    return line.replace(/^\s*\d+ authz\s+/, '');
  }

  it('deleteOrder: the API, tag and operation rules, in order', async () => {
    const run = await explain('deleteOrder');
    assert.equal(run.code, 0, run.stderr);
    const text = authzLine(run.stdout);
    const api = text.indexOf(
      'api: deny from 10.6.6.0/24, 2001:db8:bad::/48, only from 10.0.0.0/8, 2001:db8::/32',
    );
    const tag = text.indexOf('tag admin: only from 10.1.0.0/16, 2001:db8:1::/48, groups admin');
    const op = text.indexOf(
      'operation deleteOrder: deny from 10.1.2.0/24, only from 10.1.0.0/16, scopes orders:delete',
    );
    assert.ok(api >= 0 && tag > api && op > tag, text);
  });

  it('ping: its principal kind; listOrders: only the API rule', async () => {
    assert.match(authzLine((await explain('ping')).stdout), /operation ping: kinds anonymous/);
    const list = authzLine((await explain('listOrders')).stdout);
    assert.match(list, /^api: /);
    assert.doesNotMatch(list, /tag |operation /);
  });
});
