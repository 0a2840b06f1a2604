import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Principal } from '../../../core/context.ts';
import { CedarAuthorizer, type CedarInput, DecisionCache } from './authorizer.ts';
import { loadPolicySet } from './policies.ts';
import { type ClaimDeclaration, generateSchema, type SchemaOperation } from './schema-gen.ts';
import { cedar } from './wasm.ts';

const OPERATIONS: SchemaOperation[] = [
  { operationId: 'getOrder', path: '/users/{userId}/orders/{orderId}', tags: ['orders'], anonymous: false },
  { operationId: 'deleteUser', path: '/users/{userId}', tags: ['admin'], anonymous: false },
  { operationId: 'health', path: '/health', tags: [], anonymous: true },
];
const CLAIMS: Record<string, ClaimDeclaration> = {
  tenant: { type: 'String', required: true },
  level: { type: 'Long', required: false },
  roles: { type: 'Set<String>', required: false },
};
const ENTITIES = { userId: 'User' };

function authorizers(policies: string, cache: DecisionCache | null = null) {
  const generated = generateSchema(OPERATIONS, { claims: CLAIMS, entities: ENTITIES });
  const set = loadPolicySet('/t/p.cedar', policies, generated.schema, 'f');
  const options = { apiName: 'shop', policies: set, claims: CLAIMS, entities: ENTITIES, cache };
  const of = (op: SchemaOperation) =>
    new CedarAuthorizer(options, op.operationId, generated.resources.get(op.operationId)!, op.tags);
  return { getOrder: of(OPERATIONS[0]!), deleteUser: of(OPERATIONS[1]!), health: of(OPERATIONS[2]!), set };
}

function principal(id: string, claims: Record<string, unknown>): Principal {
  return { id, kind: 'jwt', scheme: 'bearer', scopes: ['orders:read'], attributes: { claims } };
}

function input(
  p: Principal | null,
  params: Record<string, string>,
  extra: Partial<CedarInput> = {},
): CedarInput {
  return {
    principal: p,
    groups: ['staff'],
    clientIp: '10.1.2.3',
    params,
    certificate: {
      subject: { CN: 'svc-a' },
      issuer: { CN: 'ca' },
      san: { DNS: ['svc-a.internal'] },
      serialNumber: '0A',
      fingerprint256: 'AA:BB',
      validTo: '',
    },
    now: Date.parse('2026-11-22T10:00:00Z'),
    ...extra,
  };
}

/**
 * The decision Cedar makes on the full request: every context attribute, the principal with
 * every attribute and all its groups, the resource with every path parameter, the action with
 * its groups, and every policy of the file.
 */
function fullDecision(policies: string, action: string, tags: string[], i: CedarInput): string {
  const p = i.principal;
  const claims = (p?.attributes.claims ?? {}) as Record<string, unknown>;
  const resourceParams = Object.entries(i.params);
  const last = resourceParams.at(-1);
  const resourceType = action === 'getOrder' ? 'Order' : action === 'deleteUser' ? 'UserResource' : 'Api';
  const resource = { type: resourceType, id: last ? last[1] : 'shop' };
  const parts = cedar().policySetTextToParts(policies);
  assert.equal(parts.type, 'success');
  const staticPolicies: Record<string, string> = {};
  if (parts.type === 'success') {
    for (const [n, t] of parts.policies.entries()) staticPolicies[`p${n}`] = t;
  }
  const answer = cedar().isAuthorized({
    principal: p === null ? { type: 'Anonymous', id: '' } : { type: 'User', id: p.id },
    action: { type: 'Action', id: action },
    resource,
    context: {
      clientIp: { __extn: { fn: 'ip', arg: i.clientIp } },
      authenticated: p !== null,
      scopes: [...(p?.scopes ?? [])],
      claims: Object.fromEntries(Object.entries(claims).filter(([k]) => k in CLAIMS)) as never,
      mtls: {
        subjectCN: 'svc-a',
        issuerCN: 'ca',
        fingerprint: 'AA:BB',
        serial: '0A',
        sanDns: ['svc-a.internal'],
        sanUri: [],
        sanEmail: [],
      },
      time: {
        now: { __extn: { fn: 'datetime', arg: new Date(i.now).toISOString() } },
        epochSeconds: Math.floor(i.now / 1000),
      },
    },
    policies: { staticPolicies },
    entities: [
      ...(p === null
        ? []
        : [
            {
              uid: { type: 'User', id: p.id },
              attrs: { id: p.id, kind: p.kind, scheme: p.scheme },
              parents: i.groups.map((g) => ({ type: 'Group', id: g })),
            },
          ]),
      {
        uid: resource,
        attrs: Object.fromEntries(
          resourceParams.map(([k, v]) => [k, k === 'userId' ? { __entity: { type: 'User', id: v } } : v]),
        ),
        parents: [],
      },
      {
        uid: { type: 'Action', id: action },
        attrs: {},
        parents: tags.map((t) => ({ type: 'Action', id: `tag:${t}` })),
      },
    ],
  });
  assert.equal(answer.type, 'success', JSON.stringify(answer));
  if (answer.type !== 'success') return 'failure';
  return answer.response.diagnostics.errors.length > 0 ? 'error' : answer.response.decision;
}

describe('the pruned request decides as the full one', () => {
  // Policies that read every kind of thing the request builder may leave out.
  const POLICIES = [
    'permit (principal, action == Action::"getOrder", resource) when { resource.userId == principal };',
    'permit (principal in Group::"admin", action in Action::"tag:admin", resource);',
    'forbid (principal, action in Action::"tag:admin", resource) unless { principal in Group::"admin" };',
    'permit (principal is Anonymous, action == Action::"health", resource);',
    'forbid (principal, action, resource) when { context.claims has level && context.claims.level > 3 };',
    'forbid (principal is User, action == Action::"getOrder", resource) unless { context.claims.tenant like "t-*" };',
    'permit (principal, action == Action::"deleteUser", resource) when { context has mtls && context.mtls has subjectCN && context.mtls.subjectCN == "svc-a" && context.clientIp.isInRange(ip("10.0.0.0/8")) };',
    'forbid (principal, action == Action::"deleteUser", resource) when { context.time.epochSeconds < 0 };',
    'permit (principal, action in [Action::"getOrder"], resource) when { context.scopes.contains("orders:all") && context.claims.tenant == "t-9" };',
  ].join('\n');
  const { getOrder, deleteUser, health } = authorizers(POLICIES);
  const alice = principal('alice', { tenant: 't-1' });
  const cases: [string, CedarAuthorizer, string, string[], CedarInput][] = [
    ['owner reads', getOrder, 'getOrder', ['orders'], input(alice, { userId: 'alice', orderId: 'o1' })],
    ['not the owner', getOrder, 'getOrder', ['orders'], input(alice, { userId: 'bob', orderId: 'o1' })],
    [
      'bad tenant',
      getOrder,
      'getOrder',
      ['orders'],
      input(principal('alice', { tenant: 'x' }), { userId: 'alice', orderId: 'o1' }),
    ],
    [
      'high level',
      getOrder,
      'getOrder',
      ['orders'],
      input(principal('alice', { tenant: 't-1', level: 5 }), { userId: 'alice', orderId: 'o1' }),
    ],
    [
      'scope and tenant',
      getOrder,
      'getOrder',
      ['orders'],
      input(
        { ...principal('bob', { tenant: 't-9' }), scopes: ['orders:all'] },
        { userId: 'alice', orderId: 'o1' },
      ),
    ],
    [
      'tenant without the scope',
      getOrder,
      'getOrder',
      ['orders'],
      input(principal('bob', { tenant: 't-9' }), { userId: 'alice', orderId: 'o1' }),
    ],
    [
      'admin deletes',
      deleteUser,
      'deleteUser',
      ['admin'],
      input(alice, { userId: 'bob' }, { groups: ['admin'] }),
    ],
    ['non-admin service deletes', deleteUser, 'deleteUser', ['admin'], input(alice, { userId: 'bob' })],
    [
      'service outside network',
      deleteUser,
      'deleteUser',
      ['admin'],
      input(alice, { userId: 'bob' }, { clientIp: '192.168.0.1', groups: ['admin'] }),
    ],
    ['anonymous health', health, 'health', [], input(null, {})],
    ['user health', health, 'health', [], input(alice, {})],
  ];
  for (const [name, authorizer, action, tags, i] of cases) {
    it(name, () => {
      assert.equal(authorizer.authorize(i).decision, fullDecision(POLICIES, action, tags, i));
    });
  }

  it('leaves out what no applicable policy reads', () => {
    const request = getOrder.request(input(alice, { userId: 'alice', orderId: 'o1' }));
    assert.ok(!('error' in request));
    if ('error' in request) return;
    assert.equal(request.context.mtls, undefined, 'only deleteUser policies read mtls');
    assert.equal(request.context.time, undefined, 'only a deleteUser policy reads time');
    assert.ok(request.context.claims !== undefined);
  });
});

describe('the decision cache', () => {
  const POLICIES =
    'permit (principal, action == Action::"getOrder", resource) when { resource.userId == principal };\n';

  it('answers a repeated request from the cache, with the decision Cedar made', () => {
    const cache = new DecisionCache(100);
    const { getOrder } = authorizers(POLICIES, cache);
    const alice = principal('alice', { tenant: 't' });
    const first = getOrder.authorize(input(alice, { userId: 'alice', orderId: 'o1' }));
    const again = getOrder.authorize(input(alice, { userId: 'alice', orderId: 'o1' }));
    assert.equal(first.decision, 'allow');
    assert.deepEqual(again, first);
    assert.equal(cache.hits, 1);
    // Another resource is another key: its own decision.
    assert.equal(getOrder.authorize(input(alice, { userId: 'bob', orderId: 'o1' })).decision, 'deny');
    assert.equal(cache.misses, 2);
  });

  it('is never used for policies that read the time', () => {
    const cache = new DecisionCache(100);
    const { getOrder } = authorizers(
      'permit (principal, action == Action::"getOrder", resource) when { context.time.epochSeconds < 1800000000 };\n',
      cache,
    );
    const alice = principal('alice', { tenant: 't' });
    const before = getOrder.authorize(
      input(alice, { userId: 'a', orderId: 'o' }, { now: 1_700_000_000_000 }),
    );
    const after = getOrder.authorize(input(alice, { userId: 'a', orderId: 'o' }, { now: 1_900_000_000_000 }));
    assert.equal(before.decision, 'allow');
    assert.equal(after.decision, 'deny');
    assert.equal(cache.size, 0);
  });

  it('holds at most its size, dropping the least recently used', () => {
    const cache = new DecisionCache(2);
    const { getOrder } = authorizers(POLICIES, cache);
    const alice = principal('alice', { tenant: 't' });
    for (const id of ['o1', 'o2', 'o1', 'o3'])
      getOrder.authorize(input(alice, { userId: 'alice', orderId: id }));
    assert.equal(cache.size, 2);
    const hits = cache.hits;
    getOrder.authorize(input(alice, { userId: 'alice', orderId: 'o1' }));
    assert.equal(cache.hits, hits + 1, 'o1 was used recently and kept');
    getOrder.authorize(input(alice, { userId: 'alice', orderId: 'o2' }));
    assert.equal(cache.hits, hits + 1, 'o2 was the least recently used and dropped');
  });

  it('is bounded in bytes, and does not keep requests with very long path parameters', () => {
    const cache = new DecisionCache(1000, 4096);
    const { getOrder } = authorizers(POLICIES, cache);
    const alice = principal('alice', { tenant: 't' });
    getOrder.authorize(input(alice, { userId: 'alice', orderId: 'x'.repeat(3000) }));
    assert.equal(cache.size, 0, 'a key over 2048 characters is not cached');
    for (let i = 0; i < 100; i++) getOrder.authorize(input(alice, { userId: 'alice', orderId: `o${i}` }));
    assert.ok(cache.bytes <= 4096, `${cache.bytes} bytes`);
    assert.ok(cache.size > 0 && cache.size < 100, `${cache.size} entries`);
  });
});
