import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import pino from 'pino';
import { compileGateway } from '../../src/config/compile.ts';
import { RampartError } from '../../src/core/errors.ts';
import { startGateway } from '../../src/server/lifecycle.ts';
import { createTestPki, type IssuedCert, type TestPki } from '../helpers/certs.ts';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';

/**
 * Cedar policies in front of a real listener, with tokens from a test identity provider: what
 * a caller sees (200 or 403), what the operator sees (the access-log decision with the reason
 * and the policy ids), and what stops a load (a policy that does not parse or validate, located
 * in the .cedar file).
 */

const OK = `responses:
        '200': { description: ok, content: { application/json: { example: { ok: true } } } }`;

const OPENAPI = `openapi: 3.1.0
info: { title: shop, version: '1' }
security: [{ bearer: [] }]
paths:
  /tenants/{tenantId}/users/{userId}/orders/{orderId}:
    parameters:
      - { name: tenantId, in: path, required: true, schema: { type: string } }
      - { name: userId, in: path, required: true, schema: { type: string } }
      - { name: orderId, in: path, required: true, schema: { type: string } }
    get:
      operationId: getOrder
      tags: [orders]
      ${OK}
  /net/check:
    get:
      operationId: netCheck
      tags: [net]
      ${OK}
  /clock/now:
    get:
      operationId: getClock
      ${OK}
  /clock/future:
    get:
      operationId: getFuture
      ${OK}
  /svc/report:
    get:
      operationId: getReport
      security: [{ mtls: [] }, { bearer: [] }]
      ${OK}
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
    mtls: { type: mutualTLS }
`;

const OWNER = `@id("owner")
permit (principal, action == Action::"getOrder", resource)
when { resource.userId == principal };
`;
const TENANT_FORBID = `@id("tenant-isolation")
forbid (principal, action == Action::"getOrder", resource)
unless { context.claims.tenant == resource.tenantId };
`;
const NETWORK = `@id("office-network")
permit (principal, action == Action::"netCheck", resource)
when { context.clientIp.isInRange(ip("10.20.0.0/16")) || context.clientIp.isInRange(ip("2001:db8:20::/48")) };

@id("quarantine")
forbid (principal, action == Action::"netCheck", resource)
when { context.clientIp.isInRange(ip("10.20.66.0/24")) };

@id("ops-workstation")
permit (principal, action == Action::"netCheck", resource)
when { context has mtls && context.mtls.sanUri.contains("spiffe://example.test/ops") };
`;
const CLOCK = `@id("since-2023")
permit (principal, action == Action::"getClock", resource)
when { context.time.epochSeconds > 1700000000 && context.time.now > datetime("2023-11-14") };

@id("from-2100")
permit (principal, action == Action::"getFuture", resource)
when { context.time.now >= datetime("2100-01-01") };
`;
const REPORT = `@id("reporter-service")
permit (principal, action == Action::"getReport", resource)
when { context has mtls && context.mtls has subjectCN && context.mtls.subjectCN == "svc-reporter" };
`;
const ALL_POLICIES = [OWNER, TENANT_FORBID, NETWORK, CLOCK, REPORT].join('\n');

interface ConfigOptions {
  readonly mode?: 'enforce' | 'shadow';
  readonly server?: string;
  readonly operations?: string;
  readonly idp: Pick<TestIdp, 'issuer' | 'audience' | 'jwksUri'>;
}

function config(options: ConfigOptions): string {
  const { idp } = options;
  return `version: 1
server:
${options.server ?? '  listen: [{ host: 127.0.0.1, port: 0 }]\n  trustedProxies: [127.0.0.1]'}
log:
  access:
    destination: \${dir}/access.log
authn:
  bruteForce: { enabled: false }
  schemes:
    bearer:
      jwt: { issuers: ['${idp.issuer}'], audiences: ['${idp.audience}'], jwksUri: '${idp.jwksUri}' }
    mtls:
      mutualTls: { principalFrom: subject.CN }
apis:
  shop:
    openapi: openapi.yaml
    mock: true
    authz:
      mode: ${options.mode ?? 'enforce'}
      cedar:
        policies: policies.cedar
        claims: { tenant: String }
        entities: { userId: User }
${options.operations ?? ''}
`;
}

interface Answer {
  readonly status: number;
  readonly id: string;
  readonly body: string;
}

async function call(gw: TestGateway, path: string, headers: Record<string, string> = {}): Promise<Answer> {
  const res = await fetch(gw.url + path, { headers });
  return { status: res.status, id: res.headers.get('x-request-id') ?? '', body: await res.text() };
}

function bearer(token: string, more: Record<string, string> = {}): Record<string, string> {
  return { authorization: `Bearer ${token}`, ...more };
}

/** The access-log line of a request. */
async function logLine(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 100; i++) {
    const line = (await gw.readAccessLog()).find((l) => l.reqId === requestId);
    if (line !== undefined) return line;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`no access log line for ${requestId}`);
}

/** The one `authz` decision of a request's access-log line. */
async function authzDecision(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  const line = await logLine(gw, requestId);
  const decisions = ((line.decisions ?? []) as Record<string, unknown>[]).filter((d) => d.stage === 'authz');
  assert.equal(decisions.length, 1, `one authz decision in ${JSON.stringify(line)}`);
  const { detail: _detail, ...decision } = decisions[0]!;
  return decision;
}

describe('Cedar policies over HTTP', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  let permissive: TestGateway;

  before(async () => {
    idp = await startIdp();
    gw = await startTestGateway({
      config: config({ idp }),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': ALL_POLICIES },
    });
    // The same policies without the tenant forbid.
    permissive = await startTestGateway({
      config: config({ idp }),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': ALL_POLICIES.replace(TENANT_FORBID, '') },
    });
  });
  after(async () => {
    await gw.stop();
    await permissive.stop();
    await idp.close();
  });

  const ORDER = '/tenants/acme/users/alice/orders/o-1';

  it('allows the owner, and the access log names the permit that allowed', async () => {
    const answer = await call(gw, ORDER, bearer(idp.sign({ sub: 'alice', tenant: 'acme' })));
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(JSON.parse(answer.body), { ok: true });
    assert.deepEqual(await authzDecision(gw, answer.id), {
      stage: 'authz',
      reason: 'policy_allowed',
      status: 0,
      mode: 'enforce',
      policies: ['owner'],
    });
    const line = await logLine(gw, answer.id);
    assert.equal(line.status, 200);
    assert.equal(line.reason, undefined, 'an allow is not a refusal');
  });

  it('denies another user (default deny: no policy named), without telling the caller why', async () => {
    const answer = await call(gw, ORDER, bearer(idp.sign({ sub: 'bob', tenant: 'acme' })));
    assert.equal(answer.status, 403);
    assert.deepEqual(await authzDecision(gw, answer.id), {
      stage: 'authz',
      reason: 'policy_denied',
      status: 403,
      mode: 'enforce',
      policies: [],
    });
    assert.equal((await logLine(gw, answer.id)).reason, 'policy_denied');
    assert.doesNotMatch(answer.body, /owner|policy|cedar/i);
  });

  it('a forbid denies with its id in the log line', async () => {
    const answer = await call(
      gw,
      ORDER.replace('acme', 'globex'),
      bearer(idp.sign({ sub: 'alice', tenant: 'acme' })),
    );
    assert.equal(answer.status, 403);
    assert.deepEqual(await authzDecision(gw, answer.id), {
      stage: 'authz',
      reason: 'policy_denied',
      status: 403,
      mode: 'enforce',
      policies: ['tenant-isolation'],
    });
    assert.doesNotMatch(answer.body, /tenant-isolation/);
  });

  it('a token without the required tenant claim: the forbid errors, and that is a 403 policy_error, not a 200', async () => {
    const noTenant = idp.sign({ sub: 'alice' });
    const answer = await call(gw, ORDER, bearer(noTenant));
    assert.equal(answer.status, 403);
    assert.deepEqual(await authzDecision(gw, answer.id), {
      stage: 'authz',
      reason: 'policy_error',
      status: 403,
      mode: 'enforce',
      policies: ['tenant-isolation'],
    });
    // Without the forbid, the owner permit alone serves this very token: the error is what denies.
    const served = await call(permissive, ORDER, bearer(noTenant));
    assert.equal(served.status, 200, served.body);
    assert.deepEqual((await authzDecision(permissive, served.id)).policies, ['owner']);
  });

  it('the client IP from a trusted proxy X-Forwarded-For drives context.clientIp', async () => {
    const token = idp.sign({ sub: 'alice', tenant: 'acme' });
    const cases: [xff: string | undefined, status: number, policies: string[]][] = [
      ['10.20.1.5', 200, ['office-network']],
      ['203.0.113.9, 10.20.1.5', 200, ['office-network']],
      ['10.20.66.7', 403, ['quarantine']],
      ['10.30.0.1', 403, []],
      [undefined, 403, []], // the peer, 127.0.0.1
      ['2001:db8:20::7', 200, ['office-network']],
      ['2001:DB8:20:0:0:0:0:7', 200, ['office-network']],
      ['2001:db8:21::7', 403, []],
      // IPv4-mapped spellings are made canonical: the quarantine forbid matches them too.
      ['::ffff:10.20.66.7', 403, ['quarantine']],
      ['::ffff:a14:4207', 403, ['quarantine']],
      ['::ffff:10.20.1.5', 200, ['office-network']],
    ];
    for (const [xff, status, policies] of cases) {
      const answer = await call(gw, '/net/check', bearer(token, xff ? { 'x-forwarded-for': xff } : {}));
      assert.equal(answer.status, status, `X-Forwarded-For: ${xff}`);
      const decision = await authzDecision(gw, answer.id);
      assert.equal(
        decision.reason,
        status === 200 ? 'policy_allowed' : 'policy_denied',
        `X-Forwarded-For: ${xff}`,
      );
      assert.deepEqual(decision.policies, policies, `X-Forwarded-For: ${xff}`);
    }
  });

  it('context.time compiles and is evaluated with the current time', async () => {
    const token = idp.sign({ sub: 'alice', tenant: 'acme' });
    const now = await call(gw, '/clock/now', bearer(token));
    assert.equal(now.status, 200, now.body);
    assert.deepEqual((await authzDecision(gw, now.id)).policies, ['since-2023']);
    // Evaluated (a plain deny), not an error: the time is there, and it is not 2100 yet.
    const future = await call(gw, '/clock/future', bearer(token));
    assert.equal(future.status, 403);
    assert.equal((await authzDecision(gw, future.id)).reason, 'policy_denied');
  });
});

describe('X-Forwarded-For from a peer that is not a trusted proxy', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  before(async () => {
    idp = await startIdp();
    gw = await startTestGateway({
      config: config({ idp, server: '  listen: [{ host: 127.0.0.1, port: 0 }]' }),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': ALL_POLICIES },
    });
  });
  after(async () => {
    await gw.stop();
    await idp.close();
  });

  it('does not choose context.clientIp: the office-network permit does not apply', async () => {
    const answer = await call(
      gw,
      '/net/check',
      bearer(idp.sign({ sub: 'alice', tenant: 'acme' }), { 'x-forwarded-for': '10.20.1.5' }),
    );
    assert.equal(answer.status, 403);
    assert.equal((await logLine(gw, answer.id)).client, '127.0.0.1');
  });
});

describe('shadow mode', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  before(async () => {
    idp = await startIdp();
    gw = await startTestGateway({
      config: config({ idp, mode: 'shadow' }),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': ALL_POLICIES },
    });
  });
  after(async () => {
    await gw.stop();
    await idp.close();
  });

  it('serves a request Cedar denies and records the decision as shadow, with the reason and the policies', async () => {
    const answer = await call(
      gw,
      '/tenants/globex/users/alice/orders/o-1',
      bearer(idp.sign({ sub: 'alice', tenant: 'acme' })),
    );
    assert.equal(answer.status, 200, answer.body);
    assert.deepEqual(await authzDecision(gw, answer.id), {
      stage: 'authz',
      reason: 'policy_denied',
      status: 403,
      mode: 'shadow',
      policies: ['tenant-isolation'],
    });
    assert.equal(
      (await logLine(gw, answer.id)).reason,
      undefined,
      'a shadow decision is not the request reason',
    );
  });

  it('serves an erroring request too, recorded as a shadow policy_error', async () => {
    const answer = await call(gw, '/tenants/acme/users/alice/orders/o-1', bearer(idp.sign({ sub: 'alice' })));
    assert.equal(answer.status, 200);
    const decision = await authzDecision(gw, answer.id);
    assert.equal(decision.mode, 'shadow');
    assert.equal(decision.reason, 'policy_error');
    assert.deepEqual(decision.policies, ['tenant-isolation']);
  });

  it('records allows as shadow as well', async () => {
    const answer = await call(
      gw,
      '/tenants/acme/users/alice/orders/o-1',
      bearer(idp.sign({ sub: 'alice', tenant: 'acme' })),
    );
    assert.equal(answer.status, 200);
    assert.deepEqual(await authzDecision(gw, answer.id), {
      stage: 'authz',
      reason: 'policy_allowed',
      status: 0,
      mode: 'shadow',
      policies: ['owner'],
    });
  });
});

describe('mTLS context and principal kinds', () => {
  let idp: TestIdp;
  let pki: TestPki;
  let gw: TestGateway;
  let reporter: IssuedCert;
  let other: IssuedCert;
  let ops: IssuedCert;

  before(async () => {
    idp = await startIdp();
    pki = createTestPki('authz');
    reporter = pki.issue('reporter', { cn: 'svc-reporter' });
    other = pki.issue('other', { cn: 'svc-other' });
    ops = pki.issue('ops', { cn: 'ops-laptop', san: 'URI:spiffe://example.test/ops' });
    gw = await startTestGateway({
      config: config({
        idp,
        server: `  listen:
    - host: 127.0.0.1
      port: 0
      tls:
        cert: ${pki.server.certFile}
        key: file:${pki.server.keyFile}
        clientAuth: { ca: ${pki.caFile}, mode: optional }`,
        operations: `    operations:
      getReport:
        authz:
          principalKinds: [mtls]`,
      }),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': ALL_POLICIES },
    });
  });
  after(async () => {
    await gw.stop();
    await idp.close();
  });

  function get(path: string, cert?: IssuedCert, headers: Record<string, string> = {}): Promise<Answer> {
    return new Promise((resolve, reject) => {
      const req = httpsRequest(
        gw.url + path,
        { ca: pki.caPem, cert: cert?.cert, key: cert?.key, servername: 'localhost', agent: false, headers },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (c) => (body += c));
          res.on('end', () =>
            resolve({ status: res.statusCode!, id: String(res.headers['x-request-id'] ?? ''), body }),
          );
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('context.mtls.subjectCN of the client certificate decides', async () => {
    const allowed = await get('/svc/report', reporter);
    assert.equal(allowed.status, 200, allowed.body);
    assert.deepEqual((await authzDecision(gw, allowed.id)).policies, ['reporter-service']);
    const denied = await get('/svc/report', other);
    assert.equal(denied.status, 403);
    assert.equal((await authzDecision(gw, denied.id)).reason, 'policy_denied');
  });

  it('principalKinds [mtls] refuses a JWT principal, before Cedar', async () => {
    const answer = await get(
      '/svc/report',
      undefined,
      bearer(idp.sign({ sub: 'svc-reporter', tenant: 'acme' })),
    );
    assert.equal(answer.status, 403);
    const decision = await authzDecision(gw, answer.id);
    assert.equal(decision.reason, 'principal_kind_not_allowed');
    assert.deepEqual(decision.policies, []);
  });

  it('a JWT over a connection with a client certificate: the certificate is context.mtls', async () => {
    const token = idp.sign({ sub: 'alice', tenant: 'acme' });
    const withCert = await get('/net/check', ops, bearer(token));
    assert.equal(withCert.status, 200, withCert.body);
    assert.deepEqual((await authzDecision(gw, withCert.id)).policies, ['ops-workstation']);
    const otherCert = await get('/net/check', other, bearer(token));
    assert.equal(otherCert.status, 403);
    const noCert = await get('/net/check', undefined, bearer(token));
    assert.equal(noCert.status, 403);
    assert.equal((await authzDecision(gw, noCert.id)).reason, 'policy_denied');
  });
});

describe('policies that do not parse or validate stop the load, located in the .cedar file', () => {
  const IDP = { issuer: 'https://idp.example/', audience: 'shop', jwksUri: 'https://idp.example/jwks.json' };

  function write(policies: string): string {
    const dir = mkdtempSync(join(tmpdir(), 'rampart-authz-cedar-'));
    writeFileSync(join(dir, 'openapi.yaml'), OPENAPI);
    writeFileSync(join(dir, 'policies.cedar'), policies);
    const file = join(dir, 'rampart.yaml');
    writeFileSync(file, config({ idp: IDP }).replace(/destination: .*/, 'destination: stderr'));
    return file;
  }

  function refusal(policies: string): RampartError {
    try {
      compileGateway(write(policies), { openLogs: false });
    } catch (err) {
      assert.ok(err instanceof RampartError, String(err));
      return err;
    }
    assert.fail('the load should have been refused');
  }

  /** 1-based line and column (in characters) of the last `needle` in `text`. */
  function positionOf(text: string, needle: string): { line: number; column: number } {
    const at = text.lastIndexOf(needle);
    assert.ok(at >= 0, needle);
    const lines = text.slice(0, at).split('\n');
    return { line: lines.length, column: lines.at(-1)!.length + 1 };
  }

  const cases: { name: string; policies: string; at: string; message: RegExp }[] = [
    {
      name: 'an attribute the resource does not have',
      policies: `${OWNER}\n@id("typo")\nforbid (principal, action == Action::"getOrder", resource)\nunless { context.claims.tenant == resource.tenant };\n`,
      at: 'resource.tenant }',
      message: /attribute `tenant` on entity type `Order` not found/,
    },
    {
      name: 'a String compared with a Long',
      policies: `${OWNER}\n// ünïcödé before the error: columns count characters\n@id("types")\npermit (principal, action == Action::"getOrder", resource)\nwhen { "é" != "" && resource.orderId == 7 };\n`,
      at: 'resource.orderId == 7',
      message: /type/i,
    },
    {
      name: 'an action the document does not have',
      policies: `${OWNER}\n@id("gone")\npermit (principal, action == Action::"deleteOrder", resource);\n`,
      at: 'Action::"deleteOrder"',
      message: /deleteOrder/,
    },
    {
      name: 'a parse error',
      policies: `${OWNER}\npermit (principal, action, resource) when { context.claims.tenant == };\n`,
      at: '};\n',
      message: /unexpected token/,
    },
    {
      name: 'a claim that cedar.claims does not declare',
      policies: `${OWNER}\n@id("email")\nforbid (principal, action == Action::"getOrder", resource)\nunless { context.claims.email like "*@example.com" };\n`,
      at: 'context.claims.email',
      message: /email/,
    },
  ];

  for (const c of cases) {
    it(c.name, () => {
      const err = refusal(c.policies);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_POLICY', err.format());
      const problem = err.problems[0]!;
      assert.match(problem.location.file, /policies\.cedar$/);
      const expected = positionOf(c.policies, c.at);
      assert.deepEqual(
        { line: problem.location.line, column: problem.location.column },
        expected,
        err.format(),
      );
      assert.match(problem.message, c.message);
      assert.equal(problem.field, 'apis.shop.authz.cedar.policies');
      // What the CLI prints starts with the location an editor can jump to.
      assert.match(err.format(), new RegExp(`policies\\.cedar:${expected.line}:${expected.column}: `));
    });
  }

  it('startGateway refuses to start with an invalid policy file, with the same error', async () => {
    const configFile = write(`${OWNER}forbid (principal, action, resource) when { resource.nope };\n`);
    await assert.rejects(
      () => startGateway(configFile, pino({ level: 'silent' })),
      (err: unknown) => {
        assert.ok(err instanceof RampartError);
        assert.equal(err.code, 'RAMPART_ERR_CONFIG_POLICY');
        assert.match(err.problems[0]!.location.file, /policies\.cedar$/);
        assert.equal(err.problems[0]!.location.line, 4);
        return true;
      },
    );
  });
});

describe('reloading the policies', () => {
  let idp: TestIdp;
  let gw: TestGateway;
  before(async () => {
    idp = await startIdp();
    gw = await startTestGateway({
      config: config({ idp }),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': ALL_POLICIES },
    });
  });
  after(async () => {
    await gw.stop();
    await idp.close();
  });

  const OTHER_TENANT = '/tenants/globex/users/alice/orders/o-1';

  it('a reload with an invalid policy file is refused, and the old policies keep serving', async () => {
    const token = idp.sign({ sub: 'alice', tenant: 'acme' });
    assert.equal((await call(gw, OTHER_TENANT, bearer(token))).status, 403);
    // Drops the tenant forbid, but with a typo: had it loaded, the request above would pass.
    writeFileSync(
      join(gw.dir, 'policies.cedar'),
      ALL_POLICIES.replace(
        TENANT_FORBID,
        '@id("x") permit (principal, action, resource) when { resource.owner == principal };\n',
      ),
    );
    const result = await gw.running.reload();
    assert.equal(result.ok, false);
    assert.ok(result.error instanceof RampartError);
    assert.equal(result.error.code, 'RAMPART_ERR_CONFIG_POLICY');
    const still = await call(gw, OTHER_TENANT, bearer(token));
    assert.equal(still.status, 403);
    assert.deepEqual((await authzDecision(gw, still.id)).policies, ['tenant-isolation']);
    assert.equal((await call(gw, '/tenants/acme/users/alice/orders/o-1', bearer(token))).status, 200);
  });

  it('a reload with changed valid policies takes effect at once', async () => {
    const token = idp.sign({ sub: 'alice', tenant: 'acme' });
    writeFileSync(join(gw.dir, 'policies.cedar'), ALL_POLICIES.replace(TENANT_FORBID, ''));
    assert.equal((await gw.running.reload()).ok, true);
    const open = await call(gw, OTHER_TENANT, bearer(token));
    assert.equal(open.status, 200, 'the tenant forbid is gone');
    // And a renamed policy is what the log names from now on.
    writeFileSync(
      join(gw.dir, 'policies.cedar'),
      ALL_POLICIES.replace('@id("tenant-isolation")', '@id("tenant-fence")'),
    );
    assert.equal((await gw.running.reload()).ok, true);
    const closed = await call(gw, OTHER_TENANT, bearer(token));
    assert.equal(closed.status, 403);
    assert.deepEqual((await authzDecision(gw, closed.id)).policies, ['tenant-fence']);
  });
});
