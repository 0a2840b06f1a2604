import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../../core/context.ts';
import { CidrSet, canonicalIp } from '../client/engine/ip.ts';
import { CedarAuthorizer } from './cedar/authorizer.ts';
import { loadPolicySet } from './cedar/policies.ts';
import { type ClaimDeclaration, generateSchema, type SchemaOperation } from './cedar/schema-gen.ts';
import { cedar } from './cedar/wasm.ts';
import { type AuthzInput, type CompiledRule, OperationAuthz } from './engine.ts';

/**
 * OperationAuthz.decide: the rules of every level in their order (network deny, network allow,
 * principal kind, scopes, groups), then Cedar; the reason of the first failing check is what a
 * refused caller's log line says.
 */

interface RuleSpec {
  allow?: string[];
  deny?: string[];
  kinds?: string[];
  scopes?: string[];
  groups?: string[];
}

function rule(level: string, spec: RuleSpec): CompiledRule {
  return {
    level,
    ...(spec.allow ? { allow: { set: new CidrSet(spec.allow), text: spec.allow } } : {}),
    ...(spec.deny ? { deny: { set: new CidrSet(spec.deny), text: spec.deny } } : {}),
    ...(spec.kinds ? { principalKinds: new Set(spec.kinds) } : {}),
    ...(spec.scopes ? { scopes: spec.scopes } : {}),
    ...(spec.groups ? { groups: spec.groups } : {}),
  };
}

function jwt(id: string, claims: Record<string, unknown> = {}, scopes: string[] = []): Principal {
  return {
    id,
    kind: 'jwt',
    scheme: 'oauth',
    scopes,
    attributes: { issuer: 'https://idp', claims: { sub: id, ...claims } },
  };
}

function apiKey(id: string, attributes: Record<string, unknown> = {}): Principal {
  return { id, kind: 'apiKey', scheme: 'key', scopes: [], attributes };
}

const MTLS: Principal = { id: 'svc-a', kind: 'mtls', scheme: 'mtls', scopes: [], attributes: {} };

function input(
  principal: Principal | null,
  clientIp = '10.0.0.1',
  params: Record<string, string> = {},
): AuthzInput {
  return { principal, clientIp, params, certificate: null, now: Date.parse('2026-11-22T10:00:00Z') };
}

function rulesOnly(rules: CompiledRule[], groupsFrom = 'claims.groups'): OperationAuthz {
  return new OperationAuthz(rules, null, groupsFrom);
}

const ALICE = jwt('alice', { groups: ['staff'] }, ['orders:read']);

describe('network rules', () => {
  it('an explicit deny at any level wins over an allow at every other level', () => {
    const levels = ['api', 'tag admin', 'operation deleteOrder'];
    for (const denyAt of levels) {
      const authz = rulesOnly(
        levels.map((level) =>
          rule(
            level,
            level === denyAt ? { allow: ['10.0.0.0/8'], deny: ['10.6.6.0/24'] } : { allow: ['10.0.0.0/8'] },
          ),
        ),
      );
      const refused = authz.decide(input(ALICE, '10.6.6.9'));
      assert.equal(refused.allow, false, denyAt);
      assert.equal(refused.reason, 'source_denied', denyAt);
      assert.match(refused.detail, new RegExp(`^${denyAt}: client 10\\.6\\.6\\.9 is in network\\.deny`));
      // Next door is allowed by every level.
      assert.equal(authz.decide(input(ALICE, '10.6.7.9')).allow, true, denyAt);
    }
  });

  it('a deny at the API level wins over an allow of exactly that address at the operation', () => {
    const authz = rulesOnly([
      rule('api', { deny: ['192.0.2.0/24'] }),
      rule('operation op', { allow: ['192.0.2.7/32'] }),
    ]);
    assert.equal(authz.decide(input(ALICE, '192.0.2.7')).reason, 'source_denied');
  });

  it('allow lists of several levels intersect: the client must be in every one', () => {
    const authz = rulesOnly([
      rule('api', { allow: ['10.0.0.0/8'] }),
      rule('tag internal', { allow: ['10.1.0.0/16', '10.2.0.0/16'] }),
      rule('operation op', { allow: ['10.1.2.0/24', '10.2.0.0/16'] }),
    ]);
    assert.equal(authz.decide(input(ALICE, '10.1.2.3')).allow, true);
    assert.equal(authz.decide(input(ALICE, '10.2.200.1')).allow, true);
    for (const [ip, level] of [
      ['192.168.1.1', 'api'],
      ['10.3.0.1', 'tag internal'],
      ['10.1.3.1', 'operation op'],
    ] as const) {
      const refused = authz.decide(input(ALICE, ip));
      assert.equal(refused.reason, 'source_not_allowed', ip);
      assert.match(
        refused.detail,
        new RegExp(`^${level}: client ${ip.replaceAll('.', '\\.')} is not in network\\.allow`),
      );
    }
  });

  it('IPv6 blocks allow and deny IPv6 clients', () => {
    const authz = rulesOnly([
      rule('api', { allow: ['2001:db8::/32', '10.0.0.0/8'], deny: ['2001:db8:bad::/48'] }),
    ]);
    assert.equal(authz.decide(input(ALICE, '2001:db8:1::1')).allow, true);
    assert.equal(authz.decide(input(ALICE, '2001:db8:bad::1')).reason, 'source_denied');
    assert.equal(authz.decide(input(ALICE, '2001:db9::1')).reason, 'source_not_allowed');
    assert.equal(authz.decide(input(ALICE, '::1')).reason, 'source_not_allowed');
    // An IPv4 client is not in an IPv6 block (other than the mapped range).
    assert.equal(authz.decide(input(ALICE, '10.0.0.1')).allow, true);
    assert.equal(
      rulesOnly([rule('api', { allow: ['2001:db8::/32'] })]).decide(input(ALICE, '10.0.0.1')).reason,
      'source_not_allowed',
    );
  });

  it('every spelling of an IPv4 client, once made canonical as the client stage does, is decided alike by rules and by Cedar', () => {
    const network = rulesOnly([rule('api', { deny: ['10.6.6.0/24'] })]);
    const policies = cedarAuthz(
      '@id("bad-net") forbid (principal, action, resource) when { context.clientIp.isInRange(ip("10.6.6.0/24")) };\n@id("all") permit (principal, action, resource);',
    );
    for (const spelling of [
      '10.6.6.1',
      '::ffff:10.6.6.1',
      '::FFFF:10.6.6.1',
      '::ffff:a06:601',
      '0:0:0:0:0:ffff:10.6.6.1',
    ]) {
      const ip = canonicalIp(spelling);
      assert.equal(ip, '10.6.6.1', spelling);
      assert.equal(network.decide(input(ALICE, ip)).reason, 'source_denied', spelling);
      const decision = policies.decide(input(ALICE, ip));
      assert.equal(decision.reason, 'policy_denied', spelling);
      assert.deepEqual(decision.policies, ['bad-net'], spelling);
    }
    assert.equal(policies.decide(input(ALICE, canonicalIp('::ffff:10.6.7.1'))).allow, true);
  });

  it('a network rule catches an IPv4-mapped address even when given as such', () => {
    const authz = rulesOnly([rule('api', { deny: ['10.6.6.0/24'] })]);
    assert.equal(authz.decide(input(ALICE, '::ffff:10.6.6.1')).reason, 'source_denied');
  });
});

describe('principal kinds, scopes and groups', () => {
  it('principal kinds: the principal must be of a listed kind; anonymous is a kind', () => {
    const jwtOnly = rulesOnly([rule('api', { kinds: ['jwt'] })]);
    assert.equal(jwtOnly.decide(input(ALICE)).allow, true);
    for (const p of [MTLS, apiKey('k1'), null]) {
      const refused = jwtOnly.decide(input(p));
      assert.equal(refused.reason, 'principal_kind_not_allowed', p?.kind ?? 'anonymous');
      assert.match(refused.detail, new RegExp(`principal kind ${p?.kind ?? 'anonymous'} is not one of jwt`));
    }
    const anonymousOnly = rulesOnly([rule('operation health', { kinds: ['anonymous'] })]);
    assert.equal(anonymousOnly.decide(input(null)).allow, true);
    assert.equal(anonymousOnly.decide(input(ALICE)).reason, 'principal_kind_not_allowed');
    const machines = rulesOnly([rule('tag internal', { kinds: ['mtls', 'apiKey'] })]);
    assert.equal(machines.decide(input(MTLS)).allow, true);
    assert.equal(machines.decide(input(apiKey('k1'))).allow, true);
    assert.equal(machines.decide(input(ALICE)).reason, 'principal_kind_not_allowed');
  });

  it('scopes: all of them are required, at every level', () => {
    const authz = rulesOnly([
      rule('api', { scopes: ['orders:read'] }),
      rule('operation op', { scopes: ['orders:write', 'audit'] }),
    ]);
    assert.equal(
      authz.decide(input(jwt('a', {}, ['orders:read', 'orders:write', 'audit', 'extra']))).allow,
      true,
    );
    const missing = authz.decide(input(jwt('a', {}, ['orders:read', 'orders:write'])));
    assert.equal(missing.reason, 'scope_required');
    assert.match(missing.detail, /operation op: principal a lacks scope\(s\) audit$/);
    assert.equal(authz.decide(input(jwt('a', {}, ['orders:write', 'audit']))).reason, 'scope_required');
    assert.equal(authz.decide(input(null)).reason, 'scope_required');
  });

  it('groups: any one of the listed groups admits, at every level', () => {
    const authz = rulesOnly([
      rule('api', { groups: ['staff', 'contractors'] }),
      rule('tag admin', { groups: ['admin'] }),
    ]);
    assert.equal(authz.decide(input(jwt('a', { groups: ['contractors', 'admin'] }))).allow, true);
    const notAdmin = authz.decide(input(jwt('b', { groups: ['staff'] })));
    assert.equal(notAdmin.reason, 'group_required');
    assert.match(notAdmin.detail, /^tag admin: principal b is in none of admin$/);
    assert.equal(authz.decide(input(jwt('c', { groups: ['admin'] }))).reason, 'group_required');
    assert.equal(authz.decide(input(jwt('d'))).reason, 'group_required');
    assert.equal(authz.decide(input(null)).reason, 'group_required');
  });

  it('groups from a claim named with dots, colons and slashes (claims.NAME is one flat claim)', () => {
    const authz = rulesOnly([rule('api', { groups: ['admin'] })], 'claims.https://example.com/roles');
    assert.equal(authz.decide(input(jwt('a', { 'https://example.com/roles': ['admin'] }))).allow, true);
    // Not a path into nested objects.
    assert.equal(
      authz.decide(input(jwt('b', { 'https://example': { 'com/roles': ['admin'] } }))).reason,
      'group_required',
    );
    assert.equal(authz.decide(input(jwt('c', { groups: ['admin'] }))).reason, 'group_required');
  });

  it('groups from an attribute of an API-key principal (attributes.NAME)', () => {
    const authz = rulesOnly([rule('api', { groups: ['billing'] })], 'attributes.teams');
    assert.equal(authz.decide(input(apiKey('k1', { teams: ['billing', 'ops'] }))).allow, true);
    assert.equal(authz.decide(input(apiKey('k2', { teams: ['ops'] }))).reason, 'group_required');
    // attributes.teams is not claims.teams.
    assert.equal(authz.decide(input(jwt('a', { teams: ['billing'] }))).reason, 'group_required');
  });

  it('a groups claim that is one string is one group; non-strings and empty strings are no group', () => {
    const authz = rulesOnly([rule('api', { groups: ['admin'] })]);
    assert.equal(authz.decide(input(jwt('a', { groups: 'admin' }))).allow, true);
    assert.equal(authz.decide(input(jwt('b', { groups: 'admin staff' }))).reason, 'group_required');
    assert.equal(
      authz.decide(input(jwt('c', { groups: [['admin'], { admin: true }, 1, ''] }))).reason,
      'group_required',
    );
    assert.equal(
      authz.decide(input(jwt('d', { groups: { 0: 'admin', length: 1 } }))).reason,
      'group_required',
    );
    assert.deepEqual(rulesOnly([]).groupsOf(jwt('e', { groups: ['a', '', 7, 'b'] })), ['a', 'b']);
  });
});

describe('the order of checks', () => {
  const everything = (level: string): CompiledRule =>
    rule(level, { allow: ['10.0.0.0/8'], kinds: ['jwt'], scopes: ['orders:read'], groups: ['staff'] });

  it('within a level: network allow, then principal kind, then scopes, then groups', () => {
    const authz = rulesOnly([everything('api')]);
    const steps: [AuthzInput, string | null][] = [
      [input(apiKey('k'), '192.0.2.1'), 'source_not_allowed'],
      [input(apiKey('k'), '10.0.0.1'), 'principal_kind_not_allowed'],
      [input(jwt('a'), '10.0.0.1'), 'scope_required'],
      [input(jwt('a', {}, ['orders:read']), '10.0.0.1'), 'group_required'],
      [input(jwt('a', { groups: ['staff'] }, ['orders:read']), '10.0.0.1'), null],
    ];
    for (const [request, reason] of steps) {
      const decision = authz.decide(request);
      assert.equal(decision.reason, reason, JSON.stringify(request));
      assert.equal(decision.allow, reason === null);
      assert.deepEqual(decision.policies, []);
    }
  });

  it('a network deny is reported before everything else', () => {
    const authz = rulesOnly([everything('api'), rule('operation op', { deny: ['10.6.6.0/24'] })]);
    assert.equal(authz.decide(input(null, '10.6.6.1')).reason, 'source_denied');
  });

  it('across levels: a network refusal at the operation is reported before a missing group at the API', () => {
    const authz = rulesOnly([
      rule('api', { groups: ['staff'] }),
      rule('operation op', { allow: ['10.0.0.0/8'], kinds: ['jwt'] }),
    ]);
    assert.equal(authz.decide(input(jwt('a'), '192.0.2.1')).reason, 'source_not_allowed');
    assert.equal(authz.decide(input(apiKey('k'), '10.0.0.1')).reason, 'principal_kind_not_allowed');
  });
});

const OPS: SchemaOperation[] = [
  {
    operationId: 'getOrder',
    path: '/tenants/{tenantId}/users/{userId}/orders/{orderId}',
    tags: ['orders'],
    anonymous: true,
  },
];
const CLAIMS: Record<string, ClaimDeclaration> = {
  tenant: { type: 'String', required: true },
  level: { type: 'Long', required: true },
  roles: { type: 'Set<String>', required: false },
};
const PARAMS = { tenantId: 'acme', userId: 'alice', orderId: 'o-1' };

function cedarAuthz(policies: string, rules: CompiledRule[] = []): OperationAuthz {
  const entities = { userId: 'User' };
  const generated = generateSchema(OPS, { claims: CLAIMS, entities });
  const set = loadPolicySet(
    '/x/orders.cedar',
    policies,
    generated.schema,
    'apis.orders.authz.cedar.policies',
  );
  const authorizer = new CedarAuthorizer(
    { apiName: 'orders', policies: set, claims: CLAIMS, entities, cache: null },
    'getOrder',
    generated.resources.get('getOrder')!,
    ['orders'],
  );
  return new OperationAuthz(rules, authorizer, 'claims.groups');
}

describe('Cedar', () => {
  const POLICIES = `@id("owner")
permit (principal, action == Action::"getOrder", resource) when { resource.userId == principal };

@id("admins")
permit (principal in Group::"admin", action in Action::"tag:orders", resource);

@id("tenant")
forbid (principal, action, resource) unless { context.claims.tenant == resource.tenantId };
`;
  const authz = cedarAuthz(POLICIES);

  it('an allow records the permits that allowed', () => {
    const own = authz.decide(input(jwt('alice', { tenant: 'acme', level: 1 }), '10.0.0.1', PARAMS));
    assert.deepEqual(
      { allow: own.allow, reason: own.reason, policies: own.policies },
      { allow: true, reason: 'policy_allowed', policies: ['owner'] },
    );
    const both = authz.decide(
      input(jwt('alice', { tenant: 'acme', level: 1, groups: ['admin'] }), '10.0.0.1', PARAMS),
    );
    assert.deepEqual([...both.policies].sort(), ['admins', 'owner']);
    const admin = authz.decide(
      input(jwt('root', { tenant: 'acme', level: 1, groups: 'admin' }), '10.0.0.1', PARAMS),
    );
    assert.deepEqual(admin.policies, ['admins']);
  });

  it('a forbid denies with its id; no permit is a default deny with no policy', () => {
    const otherTenant = authz.decide(input(jwt('alice', { tenant: 'globex', level: 1 }), '10.0.0.1', PARAMS));
    assert.deepEqual(
      { allow: otherTenant.allow, reason: otherTenant.reason, policies: otherTenant.policies },
      { allow: false, reason: 'policy_denied', policies: ['tenant'] },
    );
    const notOwner = authz.decide(input(jwt('bob', { tenant: 'acme', level: 1 }), '10.0.0.1', PARAMS));
    assert.equal(notOwner.reason, 'policy_denied');
    assert.deepEqual(notOwner.policies, []);
    assert.match(notOwner.detail, /default deny/);
  });

  it('an erroring forbid is a policy_error naming it, although a permit matched', () => {
    // No tenant claim: the forbid cannot be evaluated. Cedar alone would skip it and allow.
    const decision = authz.decide(input(jwt('alice', { level: 1 }), '10.0.0.1', PARAMS));
    assert.equal(decision.allow, false);
    assert.equal(decision.reason, 'policy_error');
    assert.deepEqual(decision.policies, ['tenant']);
    // An anonymous caller has no claims at all.
    assert.equal(authz.decide(input(null, '10.0.0.1', PARAMS)).reason, 'policy_error');
  });

  it('a claim of the wrong type is a policy_error, not a skipped policy', () => {
    for (const tenant of [42, true, ['acme'], { name: 'acme' }, null]) {
      const decision = authz.decide(input(jwt('alice', { tenant, level: 1 }), '10.0.0.1', PARAMS));
      assert.equal(decision.reason, 'policy_error', JSON.stringify(tenant));
      assert.match(decision.detail, /claim tenant is not a String/);
    }
    const levels = cedarAuthz(
      '@id("low") permit (principal, action, resource) when { context.claims.level < 5 };',
    );
    assert.equal(
      levels.decide(input(jwt('a', { tenant: 'acme', level: 3 }), '10.0.0.1', PARAMS)).allow,
      true,
    );
    for (const level of ['3', 3.5, 2 ** 60, -(2 ** 60)]) {
      assert.equal(
        levels.decide(input(jwt('a', { tenant: 'acme', level }), '10.0.0.1', PARAMS)).reason,
        'policy_error',
        String(level),
      );
    }
  });

  it('the rules run first: a refused rule never reaches Cedar', () => {
    const guarded = cedarAuthz(POLICIES, [rule('api', { groups: ['staff'] })]);
    const decision = guarded.decide(input(jwt('alice', { tenant: 'acme', level: 1 }), '10.0.0.1', PARAMS));
    assert.equal(decision.reason, 'group_required');
    assert.deepEqual(decision.policies, []);
    assert.equal(
      guarded.decide(input(jwt('alice', { tenant: 'acme', level: 1, groups: ['staff'] }), '10.0.0.1', PARAMS))
        .reason,
      'policy_allowed',
    );
  });

  it('groups reach Cedar as Group parents of the principal', () => {
    const decision = authz.decide(
      input(jwt('root', { tenant: 'acme', level: 1, groups: ['ops', 'admin'] }), '10.0.0.1', PARAMS),
    );
    assert.equal(decision.allow, true);
    assert.deepEqual(decision.policies, ['admins']);
  });
});

describe('attack: smuggling a Cedar entity or extension value in a JWT claim ({"__entity": …}, {"__extn": …})', () => {
  /** Records every request the engine receives while `run` runs. */
  function spy<T>(run: () => T): { result: T; sent: unknown[] } {
    const engine = cedar() as unknown as Record<string, (call: unknown) => unknown>;
    const original = engine.statefulIsAuthorized!;
    const sent: unknown[] = [];
    engine.statefulIsAuthorized = (call: unknown) => {
      sent.push(call);
      return original(call);
    };
    try {
      return { result: run(), sent };
    } finally {
      engine.statefulIsAuthorized = original;
    }
  }

  const authz = cedarAuthz(`@id("tenant-read")
permit (principal, action, resource) when { context.claims.tenant == resource.tenantId };
@id("no-auditors")
forbid (principal, action, resource) when { context.claims has roles && context.claims.roles.contains("auditor") };
@id("admins")
permit (principal in Group::"admin", action, resource);
@id("levels")
forbid (principal, action, resource) when { context.claims.level > 9 };
`);

  const forged: [string, Record<string, unknown>][] = [
    ['an entity in a String claim', { tenant: { __entity: { type: 'Tenant', id: 'acme' } }, level: 1 }],
    ['an entity (legacy form) in a String claim', { tenant: { type: 'Tenant', id: 'acme' }, level: 1 }],
    ['an extension value in a String claim', { tenant: { __extn: { fn: 'ip', arg: '10.0.0.1' } }, level: 1 }],
    [
      'an extension value in a Long claim',
      { tenant: 'acme', level: { __extn: { fn: 'decimal', arg: '1.0' } } },
    ],
    [
      'an entity inside a Set<String> claim',
      { tenant: 'acme', level: 1, roles: [{ __entity: { type: 'Group', id: 'x' } }] },
    ],
  ];
  for (const [name, claims] of forged) {
    it(`${name}: denied as policy_error, and nothing reaches the engine`, () => {
      const { result, sent } = spy(() => authz.decide(input(jwt('mallory', claims), '10.0.0.1', PARAMS)));
      assert.equal(result.allow, false);
      assert.equal(result.reason, 'policy_error');
      assert.deepEqual(sent, []);
    });
  }

  it('the same token with plain claims does reach the engine (the spy sees requests)', () => {
    const { result, sent } = spy(() =>
      authz.decide(input(jwt('mallory', { tenant: 'acme', level: 1 }), '10.0.0.1', PARAMS)),
    );
    assert.equal(result.allow, true);
    assert.equal(sent.length, 1);
  });

  it('an entity-shaped entry in the groups claim is no group', () => {
    const { result, sent } = spy(() =>
      authz.decide(
        input(
          jwt('mallory', {
            tenant: 'globex',
            level: 1,
            groups: [{ __entity: { type: 'Group', id: 'admin' } }],
          }),
          '10.0.0.1',
          PARAMS,
        ),
      ),
    );
    assert.equal(result.allow, false);
    assert.equal(result.reason, 'policy_denied');
    assert.doesNotMatch(JSON.stringify(sent), /admin/);
  });
});
