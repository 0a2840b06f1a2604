import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { compileGateway } from '../../src/config/compile.ts';
import { RampartError } from '../../src/core/errors.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';

/**
 * Cedar policies over real sockets: an erroring `forbid` is a deny, a policy that does not
 * validate against the schema generated from the OpenAPI document stops the load (and a reload)
 * with its location, shadow mode records without refusing, and decisions carry policy ids.
 */

const OPENAPI = `openapi: 3.0.3
info: { title: projects, version: '1' }
security: [{ bearer: [] }]
paths:
  /tenants/{tenantId}/projects/{projectId}:
    get:
      operationId: getProject
      tags: [projects]
      parameters:
        - { name: tenantId, in: path, required: true, schema: { type: string } }
        - { name: projectId, in: path, required: true, schema: { type: string } }
      responses:
        '200': { description: ok, content: { application/json: { example: { id: p } } } }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
`;

const PERMIT_ALL = `@id("readers")
permit (principal is User, action in Action::"tag:projects", resource);
`;

const TENANT_FORBID = `@id("tenant-isolation")
forbid (principal, action, resource)
unless { context.claims.tenant == resource.tenantId };
`;

const LEVEL_FORBID = `@id("level-overflow")
forbid (principal, action, resource)
when { context.claims.level * 9223372036854775807 > 0 };
`;

function config(idp: TestIdp, options: { mode?: string; claims?: string } = {}): string {
  return `version: 1
server:
  listen: [{ host: 127.0.0.1, port: 0 }]
log:
  access:
    destination: \${dir}/access.log
authn:
  schemes:
    bearer:
      jwt:
        issuers: [${idp.issuer}]
        audiences: [${idp.audience}]
        jwksUri: ${idp.jwksUri}
apis:
  projects:
    openapi: openapi.yaml
    mock: true
    authz:
      mode: ${options.mode ?? 'enforce'}
      cedar:
        policies: policies.cedar
        claims: { ${options.claims ?? 'tenant: String'} }
`;
}

async function get(gw: TestGateway, path: string, token: string): Promise<{ status: number; id: string }> {
  const res = await fetch(gw.url + path, { headers: { authorization: `Bearer ${token}` } });
  await res.arrayBuffer();
  return { status: res.status, id: res.headers.get('x-request-id') ?? '' };
}

async function decisionOf(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 50; i++) {
    const line = (await gw.readAccessLog()).find((l) => l.reqId === requestId);
    if (line !== undefined) {
      const decisions = (line.decisions ?? []) as Record<string, unknown>[];
      const authz = decisions.filter((d) => d.stage === 'authz');
      assert.equal(authz.length, 1, `one authz decision in ${JSON.stringify(line)}`);
      return authz[0]!;
    }
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no access log line for ${requestId}`);
}

describe('a forbid whose condition errors is a deny, never an allow', () => {
  let idp: TestIdp;
  before(async () => {
    idp = await startIdp();
  });
  after(() => idp.close());

  it('a token without the required tenant claim: 403 policy_error; without the forbid, the same token is served', async () => {
    const guarded = await startTestGateway({
      config: config(idp),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': PERMIT_ALL + TENANT_FORBID },
    });
    const open = await startTestGateway({
      config: config(idp),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': PERMIT_ALL },
    });
    try {
      const noTenant = idp.sign({ sub: 'mallory' });
      const denied = await get(guarded, '/tenants/acme/projects/p1', noTenant);
      assert.equal(denied.status, 403);
      const decision = await decisionOf(guarded, denied.id);
      assert.equal(decision.reason, 'policy_error');
      assert.deepEqual(decision.policies, ['tenant-isolation']);
      // The permit alone lets this token through: the error is what denies.
      assert.equal((await get(open, '/tenants/acme/projects/p1', noTenant)).status, 200);
      // And the forbid works as a fence when it does evaluate.
      assert.equal(
        (await get(guarded, '/tenants/acme/projects/p1', idp.sign({ tenant: 'acme' }))).status,
        200,
      );
      assert.equal(
        (await get(guarded, '/tenants/globex/projects/p1', idp.sign({ tenant: 'acme' }))).status,
        403,
      );
    } finally {
      await guarded.stop();
      await open.stop();
    }
  });

  it('a claim of the wrong type (a number for a String claim) is a policy_error, not a skipped forbid', async () => {
    const gw = await startTestGateway({
      config: config(idp),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': PERMIT_ALL + TENANT_FORBID },
    });
    try {
      const answer = await get(gw, '/tenants/acme/projects/p1', idp.sign({ tenant: 42 }));
      assert.equal(answer.status, 403);
      assert.equal((await decisionOf(gw, answer.id)).reason, 'policy_error');
    } finally {
      await gw.stop();
    }
  });

  it('an arithmetic overflow in a forbid is a policy_error', async () => {
    const gw = await startTestGateway({
      config: config(idp, { claims: 'level: Long' }),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': PERMIT_ALL + LEVEL_FORBID },
    });
    try {
      // level 0 evaluates (0 * max = 0, not > 0): the forbid does not apply.
      assert.equal((await get(gw, '/tenants/acme/projects/p1', idp.sign({ level: 0 }))).status, 200);
      const answer = await get(gw, '/tenants/acme/projects/p1', idp.sign({ level: 2 }));
      assert.equal(answer.status, 403);
      const decision = await decisionOf(gw, answer.id);
      assert.equal(decision.reason, 'policy_error');
      assert.deepEqual(decision.policies, ['level-overflow']);
    } finally {
      await gw.stop();
    }
  });
});

describe('shadow mode', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  before(async () => {
    idp = await startIdp();
    gw = await startTestGateway({
      config: config(idp, { mode: 'shadow' }),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': PERMIT_ALL + TENANT_FORBID },
    });
  });
  after(async () => {
    await gw.stop();
    await idp.close();
  });

  it('serves a request the policies deny, and records the decision as shadow with its policy', async () => {
    const answer = await get(gw, '/tenants/globex/projects/p1', idp.sign({ tenant: 'acme' }));
    assert.equal(answer.status, 200);
    const decision = await decisionOf(gw, answer.id);
    assert.equal(decision.mode, 'shadow');
    assert.equal(decision.reason, 'policy_denied');
    assert.equal(decision.status, 403);
    assert.deepEqual(decision.policies, ['tenant-isolation']);
    const line = (await gw.readAccessLog()).find((l) => l.reqId === answer.id)!;
    assert.equal(line.reason, undefined, 'a shadow decision does not become the request reason');
  });

  it('records an allow with the permitting policy', async () => {
    const answer = await get(gw, '/tenants/acme/projects/p1', idp.sign({ tenant: 'acme' }));
    assert.equal(answer.status, 200);
    const decision = await decisionOf(gw, answer.id);
    assert.equal(decision.reason, 'policy_allowed');
    assert.deepEqual(decision.policies, ['readers']);
  });
});

describe('policies that do not validate stop the load, located in the .cedar file', () => {
  function load(policies: string): RampartError {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-authz-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    writeFileSync(join(dir, 'policies.cedar'), policies);
    writeFileSync(
      join(dir, 'rampart.yaml'),
      config({
        issuer: 'https://idp.test/',
        audience: 'api',
        jwksUri: 'https://idp.test/jwks',
      } as TestIdp).replace(/destination: .*/, 'destination: stderr'),
    );
    try {
      compileGateway(join(dir, 'rampart.yaml'), { openLogs: false });
    } catch (err) {
      assert.ok(err instanceof RampartError, String(err));
      return err;
    }
    assert.fail('the load should have been refused');
  }

  const cases: { name: string; policies: string; line: number; column: number; message: RegExp }[] = [
    {
      name: 'an attribute the resource does not have',
      policies: `${PERMIT_ALL}\n@id("typo")\nforbid (principal, action, resource)\nunless { context.claims.tenant == resource.tenant };\n`,
      line: 6,
      column: 35,
      message: /attribute `tenant` on entity type `Project` not found/,
    },
    {
      name: 'a comparison of a String with a Long',
      policies: `// comment\n@id("types")\npermit (principal, action, resource)\nwhen { resource.projectId == 7 };\n`,
      line: 4,
      column: 8,
      message: /types/i,
    },
    {
      name: 'an action the document does not have',
      policies: `@id("gone")\npermit (principal, action == Action::"getOrder", resource);\n`,
      line: 2,
      column: 30,
      message: /getOrder/,
    },
    {
      name: 'a parse error',
      policies: `${PERMIT_ALL}permit (principal, action, resource) when { context.claims.tenant == };\n`,
      line: 3,
      column: 70,
      message: /parse|unexpected/i,
    },
    {
      name: 'a claim that is not declared in cedar.claims',
      policies: `@id("email")\npermit (principal, action, resource)\nwhen { context.claims.email == "a@b" };\n`,
      line: 3,
      column: 8,
      message: /email/,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const err = load(c.policies);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_POLICY', err.format());
      const problem = err.problems[0]!;
      assert.match(problem.location.file, /policies\.cedar$/);
      assert.equal(problem.location.line, c.line, err.format());
      assert.equal(problem.location.column, c.column, err.format());
      assert.match(problem.message, c.message);
      assert.equal(problem.field, 'apis.projects.authz.cedar.policies');
    });
  }

  it('locates an error after multi-byte characters by character, not by byte', () => {
    const err = load(
      `// Café — naïve ünïcödé\n@id("x") permit (principal, action, resource) when { resource.nope == "é" };\n`,
    );
    const problem = err.problems[0]!;
    assert.equal(problem.location.line, 2);
    assert.equal(problem.location.column, 54, err.format());
  });

  it('refuses two policies with the same @id', () => {
    const err = load(`${PERMIT_ALL}\n${PERMIT_ALL}`);
    assert.match(err.problems[0]!.message, /"readers" is used twice/);
    assert.equal(err.problems[0]!.location.line, 4);
  });
});

describe('reloads', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  before(async () => {
    idp = await startIdp();
    gw = await startTestGateway({
      config: config(idp),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': PERMIT_ALL + TENANT_FORBID },
    });
  });
  after(async () => {
    await gw.stop();
    await idp.close();
  });

  it('a reload with an invalid policy file is refused, and the old policies keep deciding', async () => {
    const token = idp.sign({ tenant: 'acme' });
    writeFileSync(
      join(gw.dir, 'policies.cedar'),
      `${PERMIT_ALL}forbid (principal, action, resource) when { resource.nope };\n`,
    );
    const result = await gw.running.reload();
    assert.equal(result.ok, false);
    assert.equal(
      (await get(gw, '/tenants/globex/projects/p1', token)).status,
      403,
      'the tenant forbid still holds',
    );
    assert.equal((await get(gw, '/tenants/acme/projects/p1', token)).status, 200);
  });

  it('a reload with changed valid policies applies them', async () => {
    const token = idp.sign({ tenant: 'acme' });
    writeFileSync(join(gw.dir, 'policies.cedar'), PERMIT_ALL);
    assert.equal((await gw.running.reload()).ok, true);
    assert.equal((await get(gw, '/tenants/globex/projects/p1', token)).status, 200, 'the forbid is gone');
    writeFileSync(join(gw.dir, 'policies.cedar'), PERMIT_ALL + TENANT_FORBID);
    assert.equal((await gw.running.reload()).ok, true);
    assert.equal((await get(gw, '/tenants/globex/projects/p1', token)).status, 403, 'and back');
  });
});
