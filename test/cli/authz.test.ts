import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import { CLI } from '../integration/support/gateway-process.ts';

const ROOT = new URL('../../', import.meta.url).pathname;

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

function rampart(...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [...CLI, ...args], { cwd: ROOT, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? ((err as { code?: unknown }).code as number | null) : 0;
      resolve({ code: typeof code === 'number' ? code : null, stdout, stderr });
    });
  });
}

const OPENAPI = `openapi: 3.0.3
info: { title: orders, version: '1' }
security: [{ bearer: [] }]
paths:
  /users/{userId}/orders/{orderId}:
    get:
      operationId: getOrder
      parameters:
        - { name: userId, in: path, required: true, schema: { type: string } }
        - { name: orderId, in: path, required: true, schema: { type: string } }
      responses: { '200': { description: ok } }
  /health:
    get:
      operationId: health
      security: [{}]
      responses: { '200': { description: ok } }
  /reports:
    get:
      operationId: reports
      responses: { '200': { description: ok } }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
`;

const CONFIG = `version: 1
authn:
  schemes:
    bearer:
      jwt: { issuers: [https://idp.test/], audiences: [api], jwksUri: https://idp.test/jwks.json }
apis:
  shop:
    openapi: openapi.yaml
    basePath: /v1
    mock: true
    authz:
      cedar:
        policies: policies.cedar
        claims: { tenant: String }
        entities: { userId: User }
    operations:
      reports:
        authz: { network: { allow: [10.0.0.0/8] } }
`;

const POLICIES = `@id("owner")
permit (principal, action == Action::"getOrder", resource) when { resource.userId == principal };

@id("public")
permit (principal, action == Action::"health", resource);

@id("reports")
permit (principal, action == Action::"reports", resource) when { context.claims.tenant == "acme" };
`;

const ALICE = JSON.stringify({ id: 'alice', claims: { tenant: 'acme' } });

describe('rampart authz test', () => {
  let dir: string;
  let config: string;

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'rampart-authz-cli-'));
    config = join(dir, 'rampart.yaml');
    writeFileSync(config, CONFIG);
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    writeFileSync(join(dir, 'policies.cedar'), POLICIES);
  });

  it('decides a request: allow, with the permitting policy and the Cedar request', async () => {
    const r = await rampart(
      'authz',
      'test',
      config,
      '--method',
      'GET',
      '--path',
      '/v1/users/alice/orders/o-1',
      '--principal',
      ALICE,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ALLOW +shop GET \/v1\/users\/\{userId\}\/orders\/\{orderId\} \(getOrder\)/);
    assert.match(r.stdout, /policies: owner/);
    assert.match(r.stdout, /"resource":\{"type":"Order","id":"o-1"\}/);
  });

  it("decides a request: deny for another user's order, default deny", async () => {
    const r = await rampart(
      'authz',
      'test',
      config,
      '--method',
      'GET',
      '--path',
      '/v1/users/bob/orders/o-1',
      '--principal',
      ALICE,
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^DENY +shop GET/);
    assert.match(r.stdout, /reason: +policy_denied/);
  });

  it('--json prints the decision as one object; --expect turns a mismatch into exit 1', async () => {
    const r = await rampart(
      'authz',
      'test',
      config,
      '--method',
      'GET',
      '--path',
      '/v1/health',
      '--json',
      '--expect',
      'deny',
    );
    assert.equal(r.code, 1);
    const out = JSON.parse(r.stdout) as Record<string, unknown>;
    assert.equal(out.allow, true);
    assert.deepEqual(out.policies, ['public']);
    assert.deepEqual((out.cedarRequest as { principal: unknown }).principal, { type: 'Anonymous', id: '' });
    const ok = await rampart(
      'authz',
      'test',
      config,
      '--method',
      'GET',
      '--path',
      '/v1/health',
      '--expect',
      'allow',
    );
    assert.equal(ok.code, 0);
  });

  it('an --ip outside an operation network rule: source_not_allowed before any policy', async () => {
    const args = ['authz', 'test', config, '--method', 'GET', '--path', '/v1/reports', '--principal', ALICE];
    const outside = await rampart(...args, '--ip', '192.168.1.9');
    assert.match(outside.stdout, /^DENY/);
    assert.match(outside.stdout, /reason: +source_not_allowed/);
    const inside = await rampart(...args, '--ip', '10.1.2.3');
    assert.match(inside.stdout, /^ALLOW/);
    assert.match(inside.stdout, /policies: reports/);
  });

  it('a claim read by a policy decides: another tenant is denied', async () => {
    const globex = JSON.stringify({ id: 'bob', claims: { tenant: 'globex' } });
    const r = await rampart(
      'authz',
      'test',
      config,
      '--method',
      'GET',
      '--path',
      '/v1/reports',
      '--ip',
      '10.0.0.1',
      '--principal',
      globex,
    );
    assert.match(r.stdout, /^DENY/);
  });

  it('a path no operation declares is said so', async () => {
    const r = await rampart('authz', 'test', config, '--method', 'GET', '--path', '/v1/nope');
    assert.match(r.stdout, /no operation: GET \/v1\/nope is not declared \(404\)/);
    const expectAllow = await rampart(
      'authz',
      'test',
      config,
      '--method',
      'GET',
      '--path',
      '/v1/nope',
      '--expect',
      'allow',
    );
    assert.equal(expectAllow.code, 1);
  });

  it('runs a policy test file: all passing, exit 0', async () => {
    const file = join(dir, 'pass.authz.yaml');
    writeFileSync(
      file,
      `config: rampart.yaml
tests:
  - name: owner reads
    request: { method: GET, path: /v1/users/alice/orders/o-1, principal: { id: alice, claims: { tenant: acme } } }
    expect: allow
    reason: policy_allowed
    policies: [owner]
  - name: not the owner
    request: { method: GET, path: /v1/users/bob/orders/o-1, principal: { id: alice, claims: { tenant: acme } } }
    expect: deny
    reason: policy_denied
  - name: anonymous health
    request: { method: GET, path: /v1/health }
    expect: allow
`,
    );
    const r = await rampart('authz', 'test', '--file', file);
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(r.stdout, /ok {3}owner reads/);
    assert.match(r.stdout, /3 passed, 0 failed/);
  });

  it('runs a policy test file: a failing test names what differed, exit 1', async () => {
    const file = join(dir, 'fail.authz.yaml');
    writeFileSync(
      file,
      `tests:
  - name: bob reads alice's order
    request: { method: GET, path: /v1/users/alice/orders/o-1, principal: { id: bob, claims: { tenant: acme } } }
    expect: allow
  - name: wrong policy expected
    request: { method: GET, path: /v1/users/alice/orders/o-1, principal: { id: alice, claims: { tenant: acme } } }
    expect: allow
    policies: [public]
`,
    );
    const r = await rampart('authz', 'test', config, '--file', file);
    assert.equal(r.code, 1, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /FAIL bob reads alice's order \(.*fail\.authz\.yaml:2\): expected allow, got deny \(policy_denied\)/,
    );
    assert.match(r.stdout, /FAIL wrong policy expected .*expected policies \[public\], got \[owner\]/);
    assert.match(r.stdout, /0 passed, 2 failed/);
  });

  it('refuses a malformed test file with its line (a typo never passes)', async () => {
    const file = join(dir, 'bad.authz.yaml');
    writeFileSync(
      file,
      `tests:
  - name: typo
    request: { method: GET, path: /v1/health }
    expected: allow
`,
    );
    const r = await rampart('authz', 'test', config, '--file', file);
    assert.equal(r.code, 2);
    assert.match(r.stderr, /RAMPART_ERR_CONFIG_SCHEMA/);
    assert.match(r.stderr, /bad\.authz\.yaml:4:5: tests\[0\]\.expected/);
    assert.match(r.stderr, /expect/);
  });

  it('refuses a config whose policy does not validate, located in the .cedar file', async () => {
    const bad = mkdtempSync(join(tmpdir(), 'rampart-authz-cli-bad-'));
    writeFileSync(join(bad, 'rampart.yaml'), CONFIG);
    writeFileSync(join(bad, 'openapi.yaml'), OPENAPI);
    writeFileSync(
      join(bad, 'policies.cedar'),
      `${POLICIES}\n@id("typo")\nforbid (principal, action, resource) when { resource.ownerId == principal };\n`,
    );
    const r = await rampart(
      'authz',
      'test',
      join(bad, 'rampart.yaml'),
      '--method',
      'GET',
      '--path',
      '/v1/health',
    );
    assert.equal(r.code, 2);
    assert.match(r.stderr, /RAMPART_ERR_CONFIG_POLICY/);
    assert.match(
      r.stderr,
      /policies\.cedar:11:45: apis\.shop\.authz\.cedar\.policies: policy typo: attribute `ownerId`/,
    );
  });

  it('usage errors exit 64', async () => {
    assert.equal((await rampart('authz', 'check', config)).code, 64);
    assert.equal((await rampart('authz', 'test', config)).code, 64);
    assert.equal(
      (await rampart('authz', 'test', config, '--method', 'GET', '--path', '/x', '--principal', '{oops'))
        .code,
      64,
    );
  });
});
