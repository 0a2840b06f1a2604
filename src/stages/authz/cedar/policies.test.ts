import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ClientCertificate, Principal } from '../../../core/context.ts';
import { CedarAuthorizer, type CedarInput, type CedarRequest } from './authorizer.ts';
import { loadPolicySet, PolicyLoadError, type PolicySet } from './policies.ts';
import { type ClaimDeclaration, generateSchema, type SchemaOperation } from './schema-gen.ts';
import { type AuthorizationAnswer, cedar, type EntityJson } from './wasm.ts';

/**
 * Loading a policy file: ids, refusals located at file:line:column (by character, as an editor
 * counts), what the policies read, and the guarantee that sending Cedar only what the policies
 * read never changes a decision.
 */

const FILE = '/etc/rampart/orders.cedar';
const FIELD = 'apis.orders.authz.cedar.policies';

const OPERATIONS: SchemaOperation[] = [
  {
    operationId: 'getOrder',
    path: '/tenants/{tenantId}/users/{userId}/orders/{orderId}',
    tags: ['orders'],
    anonymous: false,
  },
  {
    operationId: 'deleteOrder',
    path: '/tenants/{tenantId}/users/{userId}/orders/{orderId}',
    tags: ['orders', 'admin'],
    anonymous: false,
  },
  { operationId: 'listPublic', path: '/public', tags: ['public'], anonymous: true },
];
const CLAIMS: Record<string, ClaimDeclaration> = {
  tenant: { type: 'String', required: true },
  email: { type: 'String', required: false },
  level: { type: 'Long', required: true },
  roles: { type: 'Set<String>', required: false },
};
const ENTITIES = { userId: 'User' };
const GENERATED = generateSchema(OPERATIONS, { claims: CLAIMS, entities: ENTITIES });

function load(text: string, file = FILE): PolicySet {
  return loadPolicySet(file, text, GENERATED.schema, FIELD);
}

function refusal(text: string): PolicyLoadError {
  try {
    load(text);
  } catch (err) {
    assert.ok(err instanceof PolicyLoadError, String(err));
    return err;
  }
  assert.fail('the policies should have been refused');
}

/** 1-based line and column (in characters) of the first occurrence of `needle` in `text`. */
function positionOf(text: string, needle: string, from = 0): { line: number; column: number } {
  const at = text.indexOf(needle, from);
  assert.ok(at >= 0, `${needle} not in the text`);
  const before = text.slice(0, at).split('\n');
  return { line: before.length, column: before.at(-1)!.length + 1 };
}

describe('policy ids', () => {
  it('an @id annotation names the policy; others are named <file basename>:<line>', () => {
    const text = [
      '// Orders',
      'permit (principal, action == Action::"getOrder", resource);',
      '',
      '@id("admins-delete")',
      'permit (principal in Group::"admin", action == Action::"deleteOrder", resource);',
      '',
      '@advice("no id here")',
      'forbid (principal, action, resource)',
      'when { context.claims.level < 0 };',
    ].join('\n');
    assert.deepEqual(load(text).ids, ['orders.cedar:2', 'admins-delete', 'orders.cedar:7']);
  });

  it('two policies with the same @id are refused at the second, naming the first', () => {
    const text = `@id("readers")
permit (principal, action == Action::"getOrder", resource);

@id("readers")
permit (principal, action == Action::"listPublic", resource);
`;
    const err = refusal(text);
    assert.match(err.problems[0]!.message, /"readers" is used twice \(also at line 1\)/);
    assert.equal(err.problems[0]!.location.file, FILE);
    assert.equal(err.problems[0]!.location.line, 4);
    assert.equal(err.problems[0]!.field, FIELD);
  });

  it('an @id equal to the generated id of another policy is refused too', () => {
    const err = refusal(
      'permit (principal, action == Action::"getOrder", resource);\n@id("orders.cedar:1") permit (principal, action == Action::"listPublic", resource);\n',
    );
    assert.match(err.problems[0]!.message, /"orders\.cedar:1" is used twice/);
    assert.equal(err.problems[0]!.location.line, 2);
  });

  it('a commented-out copy of a policy above it does not take its line', () => {
    const live = 'permit (principal, action == Action::"getOrder", resource);';
    const set = load(`// was: ${live}\n${live}\n`);
    assert.deepEqual(set.ids, ['orders.cedar:2']);
  });
});

describe('refusals are located in the policy file', () => {
  it('a parse error at file:line:column', () => {
    const text = `permit (principal, action == Action::"getOrder", resource);
permit (principal, action, resource) when { context.claims.tenant == };
`;
    const err = refusal(text);
    const problem = err.problems[0]!;
    assert.equal(problem.location.file, FILE);
    assert.deepEqual(
      { line: problem.location.line, column: problem.location.column },
      positionOf(text, '};', text.indexOf('\n')),
    );
    assert.match(problem.message, /unexpected token/);
    assert.equal(problem.field, FIELD);
  });

  it('a parse error after multi-byte characters is located by character', () => {
    const text =
      '// Zugriffsregeln für Bestellungen — 注文 🚚\npermit (principal, action, resource) when { "ü" == "ß" && };\n';
    const problem = refusal(text).problems[0]!;
    assert.deepEqual(
      { line: problem.location.line, column: problem.location.column },
      positionOf(text, '};'),
    );
  });

  it('a validation error inside the third of several policies, after multi-byte text, points into that policy', () => {
    const text = `// Règles d'accès — équipe 日本 🚀
@id("owner")
permit (principal, action == Action::"getOrder", resource)
when { resource.userId == principal && context.claims.tenant == "café" };

@id("tenant")
forbid (principal, action, resource is Order)
unless { context.claims.tenant == resource.tenantId };

@id("typo")
permit (principal, action == Action::"getOrder", resource)
when { "naïve ☕" != "" && resource.ownerId == principal };
`;
    const err = refusal(text);
    assert.ok(err.problems.length >= 1);
    for (const problem of err.problems) {
      assert.equal(problem.location.file, FILE);
      assert.deepEqual(
        { line: problem.location.line, column: problem.location.column },
        positionOf(text, 'resource.ownerId'),
        problem.message,
      );
      assert.match(problem.message, /^policy typo: .*ownerId/);
    }
  });

  it('an unknown action and a type mismatch are validation errors', () => {
    const unknownAction = refusal('permit (principal, action == Action::"getInvoice", resource);\n');
    assert.match(unknownAction.problems[0]!.message, /getInvoice/);
    const text =
      'permit (principal, action == Action::"getOrder", resource)\nwhen { context.claims.level == "3" };\n';
    const mismatch = refusal(text);
    assert.equal(mismatch.problems[0]!.location.line, 2);
    assert.match(mismatch.problems[0]!.message, /type/i);
  });

  it('a template (with a ?principal slot) is refused', () => {
    const text =
      'permit (principal, action == Action::"getOrder", resource);\n\npermit (principal == ?principal, action, resource);\n';
    const problem = refusal(text).problems[0]!;
    assert.match(problem.message, /templates .* not supported/);
    assert.equal(problem.location.line, 3);
  });

  it('an empty file, or one with only comments, is refused: it would deny everything', () => {
    for (const text of ['', '\n\n', '// TODO: write the policies\n']) {
      const problem = refusal(text).problems[0]!;
      assert.match(problem.message, /no policy/);
      assert.equal(problem.location.file, FILE);
    }
  });
});

describe('what the policies read', () => {
  it('names: attributes read with `.`, tested with `has`, and record literal keys', () => {
    const { usage } = load(
      'permit (principal, action == Action::"getOrder", resource) when { context.claims has email && resource.orderId == "o" && {level: 1}.level == 1 };',
    );
    for (const name of ['claims', 'email', 'orderId', 'level']) assert.ok(usage.names.has(name), name);
    assert.ok(!usage.names.has('tenant'));
    assert.ok(!usage.names.has('clientIp'));
    assert.equal(usage.wholeContext, false);
    assert.deepEqual([...usage.wholeRecords], []);
    assert.equal(usage.hierarchy, false);
  });

  it('wholeRecords: a context record used as a value', () => {
    const { usage } = load(
      'forbid (principal, action, resource) when { context has mtls && context.mtls == context.mtls && context.time.now == context.time.now };',
    );
    assert.deepEqual([...usage.wholeRecords], ['mtls']);
    assert.ok(usage.names.has('now'));
    assert.equal(usage.wholeContext, false);
  });

  it('wholeContext: `context` used as a value', () => {
    const { usage } = load('forbid (principal, action, resource) when { context == context };');
    assert.equal(usage.wholeContext, true);
    const { usage: attributeOnly } = load('forbid (principal, action, resource) when { context has mtls };');
    assert.equal(attributeOnly.wholeContext, false);
  });

  it('hierarchy: `in` in a principal scope or a condition; actionGroups: `in` on actions', () => {
    const scope = load('permit (principal in Group::"admin", action == Action::"getOrder", resource);').usage;
    assert.equal(scope.hierarchy, true);
    const condition = load(
      'permit (principal, action == Action::"getOrder", resource) when { principal in Group::"staff" };',
    ).usage;
    assert.equal(condition.hierarchy, true);
    const actions = load('permit (principal, action in Action::"tag:admin", resource);').usage;
    assert.equal(actions.hierarchy, false);
    assert.equal(actions.actionGroups, true);
    const none = load('permit (principal, action == Action::"getOrder", resource);').usage;
    assert.equal(none.hierarchy, false);
    assert.equal(none.actionGroups, false);
  });

  it("an action's slice holds the policies whose action scope admits it, directly or through a tag", () => {
    const set =
      load(`@id("all") permit (principal is User, action, resource) when { principal.kind == "jwt" };
@id("get") permit (principal, action == Action::"getOrder", resource);
@id("admin-tag") forbid (principal, action in Action::"tag:admin", resource) unless { principal in Group::"admin" };
@id("list") permit (principal, action in [Action::"listPublic", Action::"deleteOrder"], resource);
`);
    assert.deepEqual(set.slice('getOrder', ['tag:orders']).ids, ['all', 'get']);
    assert.deepEqual(set.slice('deleteOrder', ['tag:orders', 'tag:admin']).ids, ['all', 'admin-tag', 'list']);
    assert.deepEqual(set.slice('listPublic', ['tag:public']).ids, ['all', 'list']);
    assert.equal(set.slice('getOrder', ['tag:orders']).usage.hierarchy, false);
    assert.equal(set.slice('deleteOrder', ['tag:orders', 'tag:admin']).usage.hierarchy, true);
  });
});

describe('pruning the request never changes a decision', () => {
  const alice: Principal = {
    id: 'alice',
    kind: 'jwt',
    scheme: 'oauth',
    scopes: ['orders:read'],
    attributes: {
      claims: {
        sub: 'alice',
        tenant: 'acme',
        email: 'alice@example.com',
        level: 3,
        roles: ['buyer'],
        groups: ['staff'],
      },
    },
  };
  const admin: Principal = {
    id: 'root',
    kind: 'jwt',
    scheme: 'oauth',
    scopes: [],
    attributes: { claims: { tenant: 'globex', level: 9, groups: ['admin', 'staff'] } },
  };
  // No claims at all: every required claim a policy reads is an evaluation error.
  const service: Principal = { id: 'svc-a', kind: 'mtls', scheme: 'mtls', scopes: [], attributes: {} };
  const cert: ClientCertificate = {
    subject: { CN: 'svc-a' },
    issuer: { CN: 'Test CA' },
    san: { DNS: ['svc-a.internal'], URI: ['spiffe://example.test/svc-a'], email: [] },
    serialNumber: '0A1B',
    fingerprint256: 'AB:CD',
    validTo: 'Jan  1 00:00:00 2030 GMT',
  };
  const principals: [Principal | null, string[]][] = [
    [alice, ['staff']],
    [admin, ['admin', 'staff']],
    [service, []],
    [null, []],
  ];
  const paramSets: Record<string, string>[] = [
    { tenantId: 'acme', userId: 'alice', orderId: 'o-1' },
    { tenantId: 'globex', userId: 'bob', orderId: 'o-2' },
  ];
  const ips = ['10.1.2.3', '192.0.2.7', '2001:db8::5'];
  const NOW = Date.parse('2026-11-22T10:00:00Z');

  /** Everything the spec says a request carries, whatever the policies read. */
  function fullRequest(operationId: string, input: CedarInput): CedarRequest {
    const spec = OPERATIONS.find((o) => o.operationId === operationId)!;
    const shape = GENERATED.resources.get(operationId)!;
    const p = input.principal;
    const principal = p === null ? { type: 'Anonymous', id: '' } : { type: 'User', id: p.id };
    const entities: EntityJson[] = [
      {
        uid: { type: 'Action', id: operationId },
        attrs: {},
        parents: spec.tags.map((t) => ({ type: 'Action', id: `tag:${t}` })),
      },
    ];
    if (p !== null) {
      entities.push({
        uid: principal,
        attrs: { id: p.id, kind: p.kind, scheme: p.scheme },
        parents: input.groups.map((g) => ({ type: 'Group', id: g })),
      });
    }
    const resource =
      shape.idParam === null
        ? { type: 'Api', id: 'orders' }
        : { type: shape.type, id: input.params[shape.idParam]! };
    if (shape.params.length > 0) {
      const attrs: Record<string, unknown> = {};
      for (const name of shape.params) {
        const ref = (ENTITIES as Record<string, string>)[name];
        attrs[name] = ref ? { __entity: { type: ref, id: input.params[name]! } } : input.params[name]!;
      }
      entities.push({ uid: resource, attrs: attrs as EntityJson['attrs'], parents: [] });
    }
    const source = (p?.kind === 'jwt' ? (p.attributes.claims as Record<string, unknown>) : null) ?? {};
    const claims: Record<string, unknown> = {};
    for (const name of Object.keys(CLAIMS)) if (name in source) claims[name] = source[name];
    const context: Record<string, unknown> = {
      clientIp: { __extn: { fn: 'ip', arg: input.clientIp } },
      authenticated: p !== null,
      scopes: p === null ? [] : [...p.scopes],
      claims,
      time: {
        now: { __extn: { fn: 'datetime', arg: new Date(input.now).toISOString() } },
        epochSeconds: Math.floor(input.now / 1000),
      },
    };
    const c = input.certificate;
    if (c !== null) {
      context.mtls = {
        subjectCN: c.subject.CN!,
        issuerCN: c.issuer.CN!,
        fingerprint: c.fingerprint256,
        serial: c.serialNumber,
        sanDns: [...(c.san.DNS ?? [])],
        sanUri: [...(c.san.URI ?? [])],
        sanEmail: [...(c.san.email ?? [])],
      };
    }
    return {
      principal,
      action: { type: 'Action', id: operationId },
      resource,
      context: context as CedarRequest['context'],
      entities,
    };
  }

  type Outcome = { decision: string; reasons: string[]; errors: string[] };

  function evaluate(request: CedarRequest, policies: Record<string, string>): Outcome {
    const answer: AuthorizationAnswer = cedar().isAuthorized({
      ...request,
      policies: { staticPolicies: policies },
    });
    assert.equal(answer.type, 'success', JSON.stringify(answer));
    if (answer.type !== 'success') throw new Error('unreachable');
    const { decision, diagnostics } = answer.response;
    return {
      decision,
      reasons: [...diagnostics.reason].sort(),
      errors: diagnostics.errors.map((e) => e.policyId).sort(),
    };
  }

  const POLICIES: Record<string, string> = {
    owner:
      'permit (principal, action == Action::"getOrder", resource) when { resource.userId == principal };',
    adminGroup: 'permit (principal in Group::"admin", action in Action::"tag:admin", resource);',
    adminCondition:
      'permit (principal, action, resource) when { action in Action::"tag:admin" && principal in Group::"admin" };',
    tenant:
      'forbid (principal, action in Action::"tag:orders", resource) unless { context.claims.tenant == resource.tenantId };',
    network:
      'permit (principal, action == Action::"getOrder", resource) when { context.clientIp.isInRange(ip("10.0.0.0/8")) && context.scopes.contains("orders:read") };',
    mtls: 'forbid (principal, action, resource) when { context has mtls && context.mtls.sanUri.contains("spiffe://example.test/svc-a") };',
    optionalClaim:
      'permit (principal, action, resource) when { context.claims has email && context.claims.email like "*@example.com" };',
    principalAttrs:
      'permit (principal is User, action, resource) when { principal.kind == "jwt" && principal.id == "root" };',
    time: 'forbid (principal, action, resource) when { context.time.now < datetime("2026-01-01") || context.time.epochSeconds < 0 };',
    wholeRecord:
      'permit (principal, action == Action::"listPublic", resource) when { context.claims == context.claims && context.time == context.time };',
    wholeContext: 'permit (principal, action == Action::"listPublic", resource) when { context == context };',
    anonymous: 'permit (principal is Anonymous, action == Action::"listPublic", resource is Api);',
    overflow: 'forbid (principal, action, resource) when { context.claims.level * 9223372036854775807 > 0 };',
  };
  const SETS: Record<string, string[]> = {
    ...Object.fromEntries(Object.keys(POLICIES).map((k) => [k, [k]])),
    'owner+tenant': ['owner', 'tenant'],
    'adminGroup+tenant+mtls': ['adminGroup', 'tenant', 'mtls'],
    'network+time+optionalClaim': ['network', 'time', 'optionalClaim'],
    // The overflow forbid errors for every caller with claims: it would make every decision an error.
    'all but overflow': Object.keys(POLICIES).filter((k) => k !== 'overflow'),
  };

  for (const [name, members] of Object.entries(SETS)) {
    it(`${name}: the same decision, reasons and errors with the pruned request as with the full one`, () => {
      const text = members.map((m) => `@id("${m}")\n${POLICIES[m]}`).join('\n');
      const set = load(text);
      const byId = Object.fromEntries(members.map((m) => [m, POLICIES[m]!]));
      const decisions = new Set<string>();
      let compared = 0;
      for (const spec of OPERATIONS) {
        const authorizer = new CedarAuthorizer(
          { apiName: 'orders', policies: set, claims: CLAIMS, entities: ENTITIES, cache: null },
          spec.operationId,
          GENERATED.resources.get(spec.operationId)!,
          spec.tags,
        );
        for (const [principal, groups] of principals) {
          for (const params of spec.path.includes('{') ? paramSets : [{}]) {
            for (const clientIp of ips) {
              for (const certificate of [null, cert]) {
                const input: CedarInput = { principal, groups, clientIp, params, certificate, now: NOW };
                const pruned = authorizer.request(input);
                assert.ok(!('error' in pruned), JSON.stringify(pruned));
                if ('error' in pruned) continue;
                const full = evaluate(fullRequest(spec.operationId, input), byId);
                const label = `${spec.operationId} ${principal?.id ?? 'anonymous'} ${JSON.stringify(params)} ${clientIp} cert=${certificate !== null}`;
                assert.deepEqual(evaluate(pruned, byId), full, label);
                // And what the stage decides (only the slice of the action, pruned request).
                const verdict = authorizer.authorize(input);
                const expected = full.errors.length > 0 ? 'error' : full.decision;
                assert.equal(verdict.decision, expected, label);
                assert.deepEqual(
                  [...verdict.policies].sort(),
                  full.errors.length > 0 ? full.errors : full.reasons,
                  label,
                );
                decisions.add(expected);
                compared++;
              }
            }
          }
        }
      }
      assert.ok(compared > 0);
      // A set of several policies decides differently for different requests (or the comparison proves little).
      if (members.length > 1) assert.ok(decisions.size >= 2, [...decisions].join());
    });
  }

  it('the pruned request really is smaller: a policy reading one claim sends only that claim', () => {
    const set = load(`@id("t")\n${POLICIES.tenant}`);
    const authorizer = new CedarAuthorizer(
      { apiName: 'orders', policies: set, claims: CLAIMS, entities: ENTITIES, cache: null },
      'getOrder',
      GENERATED.resources.get('getOrder')!,
      ['orders'],
    );
    const request = authorizer.request({
      principal: alice,
      groups: ['staff'],
      clientIp: '10.1.2.3',
      params: paramSets[0]!,
      certificate: cert,
      now: NOW,
    });
    assert.ok(!('error' in request));
    if ('error' in request) return;
    assert.deepEqual(request.context, { claims: { tenant: 'acme' } });
  });
});
