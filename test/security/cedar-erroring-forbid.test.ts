import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { startTestGateway, type TestGateway } from '../helpers/gateway.ts';
import { startIdp, type TestIdp } from '../helpers/idp.ts';
import { startUpstream, type TestUpstream } from '../helpers/upstream.ts';

/**
 * Attack: making a Cedar `forbid` error so that it is skipped. Cedar's own semantics skip a
 * policy whose condition errors; with a `permit` that matches, an erroring `forbid` would turn
 * a deny into an allow. The attacker controls the token's claims and the path, so they can
 * leave out a claim the forbid reads, send it with another type, pick values that overflow the
 * forbid's arithmetic, or name an entity the request does not carry. Each must be a 403
 * `policy_error` that never reaches the upstream; the same token without the forbid is served,
 * which shows the permit would have let it through.
 */
const OK = `responses: { '200': { description: ok } }`;
const OPENAPI = `openapi: 3.1.0
info: { title: fence, version: '1' }
security: [{ bearer: [] }]
paths:
  /tenants/{tenantId}/data:
    parameters: [{ name: tenantId, in: path, required: true, schema: { type: string } }]
    get: { operationId: getTenantData, ${OK} }
  /levels:
    get: { operationId: getLevels, ${OK} }
  /cubes:
    get: { operationId: getCubes, ${OK} }
  /flags:
    get: { operationId: getFlags, ${OK} }
  /users/{userId}/profile:
    parameters: [{ name: userId, in: path, required: true, schema: { type: string } }]
    get: { operationId: getProfile, ${OK} }
components:
  securitySchemes:
    bearer: { type: http, scheme: bearer }
`;

const PERMIT = `@id("permit-all")
permit (principal, action, resource);
`;
const FORBIDS = `@id("tenant-fence")
forbid (principal, action == Action::"getTenantData", resource)
unless { context.claims.tenant == resource.tenantId };

@id("level-overflow")
forbid (principal, action == Action::"getLevels", resource)
when { context.claims.level * 9223372036854775807 > 0 };

@id("level-cubed")
forbid (principal, action == Action::"getCubes", resource)
when { context.claims.level * context.claims.level * context.claims.level > 1000 };

@id("suspended")
forbid (principal, action == Action::"getFlags", resource)
when { context.claims.suspended || context.claims.strikes.contains(3) };

@id("same-kind")
forbid (principal, action == Action::"getProfile", resource)
when { resource.userId.kind != principal.kind };
`;

function config(idp: TestIdp, upstreamUrl: string): string {
  return `version: 1
server: { listen: [{ host: 127.0.0.1, port: 0 }] }
log: { access: { destination: \${dir}/access.log } }
upstreams: { backend: { url: '${upstreamUrl}' } }
authn:
  bruteForce: { enabled: false }
  schemes:
    bearer:
      jwt: { issuers: ['${idp.issuer}'], audiences: ['${idp.audience}'], jwksUri: '${idp.jwksUri}' }
apis:
  fence:
    openapi: openapi.yaml
    upstream: backend
    authz:
      cedar:
        policies: policies.cedar
        claims:
          tenant: String
          level: Long
          suspended: Boolean
          strikes: Set<Long>
        entities: { userId: User }
`;
}

describe('attack: an erroring Cedar forbid must not become an allow', () => {
  let idp: TestIdp;
  let upstream: TestUpstream;
  let fenced: TestGateway;
  let open: TestGateway;

  before(async () => {
    idp = await startIdp();
    upstream = await startUpstream();
    fenced = await startTestGateway({
      config: config(idp, upstream.url),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': PERMIT + FORBIDS },
    });
    open = await startTestGateway({
      config: config(idp, upstream.url),
      files: { 'openapi.yaml': OPENAPI, 'policies.cedar': PERMIT },
    });
  });
  after(async () => {
    await fenced.stop();
    await open.stop();
    await upstream.close();
    await idp.close();
  });

  async function get(gw: TestGateway, path: string, claims: Record<string, unknown>) {
    const marker = `${Math.random()}`;
    const res = await fetch(gw.url + path, {
      headers: { authorization: `Bearer ${idp.sign(claims)}`, 'x-test-marker': marker },
    });
    const body = await res.text();
    const id = res.headers.get('x-request-id');
    let decision: Record<string, unknown> | undefined;
    for (let i = 0; i < 100 && decision === undefined; i++) {
      const line = (await gw.readAccessLog()).find((l) => l.reqId === id);
      if (line !== undefined) {
        decision =
          ((line.decisions ?? []) as Record<string, unknown>[]).find((d) => d.stage === 'authz') ?? {};
      } else await new Promise((r) => setTimeout(r, 20));
    }
    return {
      status: res.status,
      body,
      decision: decision ?? {},
      reached: upstream.seen.some((s) => s.headers['x-test-marker'] === marker),
    };
  }

  /**
   * The forbid errors: 403 policy_error naming it (or, for a claim of the wrong type, caught
   * before Cedar: naming the claim), never upstream; without the forbid, the same claims are served.
   */
  async function assertErroringForbidDenies(
    path: string,
    claims: Record<string, unknown>,
    forbid: string,
    wrongType?: string,
  ) {
    const label = `${path} ${JSON.stringify(claims)}`;
    const fencedAnswer = await get(fenced, path, claims);
    assert.equal(fencedAnswer.status, 403, label);
    assert.equal(fencedAnswer.decision.reason, 'policy_error', label);
    if (wrongType === undefined) assert.deepEqual(fencedAnswer.decision.policies, [forbid], label);
    else assert.match(String(fencedAnswer.decision.detail), new RegExp(`claim ${wrongType} is not a`), label);
    assert.equal(fencedAnswer.reached, false, `${label} reached the upstream`);
    assert.doesNotMatch(fencedAnswer.body, new RegExp(forbid), 'the policy id is not told to the caller');
    const openAnswer = await get(open, path, claims);
    assert.equal(openAnswer.status, 200, `${label}: the permit alone serves it`);
    assert.equal(openAnswer.reached, true, label);
  }

  describe('a missing required claim', () => {
    it('a token without the tenant claim', async () => {
      await assertErroringForbidDenies('/tenants/acme/data', { sub: 'mallory' }, 'tenant-fence');
    });

    it('a token without the level claim', async () => {
      await assertErroringForbidDenies('/levels', { sub: 'mallory' }, 'level-overflow');
    });

    it('a token without the suspended claim (a Boolean the forbid reads first)', async () => {
      await assertErroringForbidDenies('/flags', { sub: 'mallory', strikes: [3] }, 'suspended');
    });

    it('while the fence does hold for a token that has the claim', async () => {
      assert.equal((await get(fenced, '/tenants/acme/data', { sub: 'a', tenant: 'acme' })).status, 200);
      const other = await get(fenced, '/tenants/globex/data', { sub: 'a', tenant: 'acme' });
      assert.equal(other.status, 403);
      assert.equal(other.decision.reason, 'policy_denied');
    });
  });

  describe('a claim of the wrong type', () => {
    for (const tenant of [
      42,
      true,
      ['acme'],
      { id: 'acme' },
      null,
      { __entity: { type: 'Tenant', id: 'acme' } },
    ]) {
      it(`tenant: ${JSON.stringify(tenant)} for a String claim`, async () => {
        await assertErroringForbidDenies(
          '/tenants/acme/data',
          { sub: 'mallory', tenant },
          'tenant-fence',
          'tenant',
        );
      });
    }
    for (const level of ['1', 1.5, 1e300, 2 ** 53, false, [1], { __extn: { fn: 'decimal', arg: '1.0' } }]) {
      it(`level: ${JSON.stringify(level)} for a Long claim`, async () => {
        await assertErroringForbidDenies('/levels', { sub: 'mallory', level }, 'level-overflow', 'level');
      });
    }
    for (const suspended of ['false', 0, null]) {
      it(`suspended: ${JSON.stringify(suspended)} for a Boolean claim`, async () => {
        await assertErroringForbidDenies(
          '/flags',
          { sub: 'mallory', suspended, strikes: [] },
          'suspended',
          'suspended',
        );
      });
    }
    it('strikes: ["3"] for a Set<Long> claim', async () => {
      await assertErroringForbidDenies(
        '/flags',
        { sub: 'mallory', suspended: false, strikes: ['3'] },
        'suspended',
        'strikes',
      );
    });
  });

  describe('an arithmetic overflow', () => {
    it('level * 9223372036854775807 overflows for any level above 1', async () => {
      for (const level of [2, -2, 9007199254740991]) {
        await assertErroringForbidDenies('/levels', { sub: 'mallory', level }, 'level-overflow');
      }
    });

    it('level cubed overflows for a large enough level', async () => {
      await assertErroringForbidDenies('/cubes', { sub: 'mallory', level: 3_000_000 }, 'level-cubed');
      await assertErroringForbidDenies('/cubes', { sub: 'mallory', level: -3_000_000 }, 'level-cubed');
    });

    it('values that evaluate are decided normally', async () => {
      assert.equal((await get(fenced, '/levels', { sub: 'a', level: 0 })).status, 200);
      assert.equal((await get(fenced, '/levels', { sub: 'a', level: 1 })).decision.reason, 'policy_denied');
      assert.equal((await get(fenced, '/cubes', { sub: 'a', level: 10 })).status, 200);
      assert.equal((await get(fenced, '/cubes', { sub: 'a', level: 11 })).decision.reason, 'policy_denied');
    });
  });

  describe('an entity the request does not carry', () => {
    it("reading an attribute of another user's entity errors, and that denies", async () => {
      await assertErroringForbidDenies('/users/bob/profile', { sub: 'mallory' }, 'same-kind');
    });

    it("the principal's own entity is carried: the forbid evaluates (and does not apply)", async () => {
      assert.equal((await get(fenced, '/users/mallory/profile', { sub: 'mallory' })).status, 200);
    });
  });
});
