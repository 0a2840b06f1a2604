import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  type ClaimDeclaration,
  entityTypeProblem,
  generateSchema,
  resourceShape,
  type SchemaOperation,
} from './schema-gen.ts';
import { cedar, type SchemaJson } from './wasm.ts';

/**
 * The generated schema is what a policy author writes against: these tests check the names a
 * policy can use (resource types, actions, tag groups, principal types, attributes, claims) by
 * asking Cedar's own validator whether policies that use them are accepted.
 */

function op(operationId: string, path: string, more: Partial<SchemaOperation> = {}): SchemaOperation {
  return { operationId, path, tags: [], anonymous: false, ...more };
}

const NO_OPTIONS = { claims: {}, entities: {} };

/** Cedar's strict-mode validation of `policies` (one text) against `schema`. */
function validation(schema: SchemaJson<string>, policies: string): { errors: string[]; warnings: string[] } {
  const answer = cedar().validate({
    schema,
    policies: { staticPolicies: policies },
    validationSettings: { mode: 'strict' },
  });
  if (answer.type === 'failure')
    return { errors: answer.errors.map((e) => `failure: ${e.message}`), warnings: [] };
  return {
    errors: answer.validationErrors.map((v) => v.error.message),
    warnings: answer.validationWarnings.map((v) => v.error.message),
  };
}

function validationErrors(schema: SchemaJson<string>, policies: string): string[] {
  return validation(schema, policies).errors;
}

/** Validates without errors or warnings. */
function assertValid(schema: SchemaJson<string>, policies: string): void {
  assert.deepEqual(validation(schema, policies), { errors: [], warnings: [] }, policies);
}

/** Validates, but Cedar warns that the policy can never apply (a finding of `rampart check`). */
function assertImpossible(schema: SchemaJson<string>, policies: string): void {
  const { errors, warnings } = validation(schema, policies);
  assert.deepEqual(errors, [], policies);
  assert.ok(
    warnings.some((w) => /impossible|unable to find an applicable action/.test(w)),
    `expected an impossible-policy warning for ${policies}: ${JSON.stringify(warnings)}`,
  );
}

function assertInvalid(schema: SchemaJson<string>, policies: string, message: RegExp): void {
  const errors = validationErrors(schema, policies);
  assert.ok(errors.length > 0, `expected a validation error for: ${policies}`);
  assert.ok(
    errors.some((e) => message.test(e)),
    `no error matching ${message} in ${JSON.stringify(errors)}`,
  );
}

describe('resource type derivation', () => {
  const cases: [path: string, type: string, idParam: string | null][] = [
    ['/orders/{orderId}', 'Order', 'orderId'],
    ['/tenants/{tenant_id}', 'Tenant', 'tenant_id'],
    ['/devices/{deviceID}', 'Device', 'deviceID'],
    ['/orders/{id}', 'Orders', 'id'],
    ['/line-items/{id}', 'LineItems', 'id'],
    ['/health', 'Api', null],
    ['/', 'Api', null],
    ['/users/{userId}', 'UserResource', 'userId'],
    ['/groups/{groupId}', 'GroupResource', 'groupId'],
    ['/anonymous/{anonymousId}', 'AnonymousResource', 'anonymousId'],
    // The last path parameter names the resource; earlier ones are only attributes.
    ['/users/{userId}/orders/{orderId}', 'Order', 'orderId'],
    ['/orders/{orderId}/lines', 'Order', 'orderId'],
    ['/shipping_addresses/{shipping_address_id}', 'ShippingAddress', 'shipping_address_id'],
  ];
  for (const [path, type, idParam] of cases) {
    it(`${path} → ${type}`, () => {
      const shape = resourceShape(path, 'Api');
      assert.equal(shape.type, type);
      assert.equal(shape.idParam, idParam);
    });
  }

  it('lists every path parameter, in path order', () => {
    assert.deepEqual(resourceShape('/tenants/{tenantId}/users/{userId}/orders/{orderId}', 'Api').params, [
      'tenantId',
      'userId',
      'orderId',
    ]);
  });

  it('a `resource:` override replaces the derived type, and the id is still the last parameter', () => {
    const shape = resourceShape('/users/{userId}/orders/{id}', 'Api', 'Purchase');
    assert.equal(shape.type, 'Purchase');
    assert.equal(shape.idParam, 'id');
    const generated = generateSchema(
      [op('getPurchase', '/users/{userId}/orders/{id}', { resourceType: 'Purchase' })],
      NO_OPTIONS,
    );
    assert.equal(generated.resources.get('getPurchase')!.type, 'Purchase');
    assertValid(
      generated.schema,
      'permit (principal, action == Action::"getPurchase", resource is Purchase) when { resource.id == "o-1" };',
    );
    assertInvalid(
      generated.schema,
      'permit (principal, action == Action::"getPurchase", resource is Orders);',
      /Orders/,
    );
  });

  it('a name that cannot be a resource type is refused with a reason', () => {
    assert.equal(entityTypeProblem('Order', 'resource'), null);
    assert.match(entityTypeProblem('User', 'resource')!, /principals or groups/);
    assert.match(entityTypeProblem('Action', 'resource')!, /actions/);
    assert.match(entityTypeProblem('permit', 'resource')!, /keyword/);
    assert.match(entityTypeProblem('my-type', 'resource')!, /not a Cedar identifier/);
    // `User` may be the target of an entity reference (`userId: User`), not a resource type.
    assert.equal(entityTypeProblem('User', 'reference'), null);
  });

  it('operations of one resource type share it: `resource is Order` validates for both', () => {
    const { schema, resources } = generateSchema(
      [op('getOrder', '/orders/{orderId}'), op('cancelOrder', '/orders/{orderId}/cancel', { tags: [] })],
      NO_OPTIONS,
    );
    assert.equal(resources.get('getOrder')!.type, 'Order');
    assert.equal(resources.get('cancelOrder')!.type, 'Order');
    assertValid(
      schema,
      'permit (principal, action in [Action::"getOrder", Action::"cancelOrder"], resource is Order) when { resource.orderId like "o-*" };',
    );
  });

  it('an operation without path parameters has the resource Api (no attributes)', () => {
    const { schema } = generateSchema([op('health', '/health')], NO_OPTIONS);
    assertValid(schema, 'permit (principal, action == Action::"health", resource is Api);');
    assertInvalid(
      schema,
      'permit (principal, action == Action::"health", resource) when { resource.id == "x" };',
      /attribute `id`/,
    );
  });
});

describe('actions and tags', () => {
  const ops = [
    op('listOrders', '/orders', { tags: ['orders'] }),
    op('deleteOrder', '/orders/{orderId}', { tags: ['orders', 'admin'] }),
    op('health', '/health'),
  ];
  const { schema } = generateSchema(ops, NO_OPTIONS);

  it('one action per operationId; an unknown action does not validate', () => {
    assertValid(schema, 'permit (principal, action == Action::"deleteOrder", resource);');
    assertInvalid(schema, 'permit (principal, action == Action::"getOrder", resource);', /getOrder/);
  });

  it('each tag is an action group the tagged actions are in', () => {
    assertValid(schema, 'forbid (principal, action in Action::"tag:admin", resource is Order);');
    assertValid(schema, 'permit (principal, action in [Action::"tag:orders", Action::"health"], resource);');
    // Only deleteOrder is tagged admin, and its resource is an Order, not the Api.
    assertImpossible(schema, 'permit (principal, action in Action::"tag:admin", resource is Api);');
    assertInvalid(schema, 'permit (principal, action in Action::"tag:billing", resource);', /tag:billing/);
  });

  it('an operationId that clashes with a tag group is refused', () => {
    assert.throws(
      () =>
        generateSchema(
          [op('tag:orders', '/a'), op('listOrders', '/orders', { tags: ['orders'] })],
          NO_OPTIONS,
        ),
      /clashes with the action group of tag "orders"/,
    );
  });
});

describe('principals', () => {
  const { schema } = generateSchema(
    [op('listPublic', '/public', { anonymous: true }), op('getOrder', '/orders/{orderId}')],
    NO_OPTIONS,
  );

  it('an operation that admits anonymous callers admits Anonymous; one that requires credentials does not', () => {
    assertValid(schema, 'permit (principal is Anonymous, action == Action::"listPublic", resource);');
    assertImpossible(schema, 'permit (principal is Anonymous, action == Action::"getOrder", resource);');
  });

  it('User has id, kind and scheme, and is a member of Group', () => {
    assertValid(
      schema,
      'permit (principal in Group::"staff", action == Action::"getOrder", resource) when { principal.kind == "jwt" && principal.id != "" && principal.scheme == "oauth" };',
    );
    assertInvalid(
      schema,
      'permit (principal, action == Action::"getOrder", resource) when { principal.email == "a@b" };',
      /attribute `email`/,
    );
  });
});

describe('resource attributes', () => {
  it('attributes of a type shared by operations with different parameters are optional unless every operation has them', () => {
    const { schema } = generateSchema(
      [op('getUserOrder', '/users/{userId}/orders/{orderId}'), op('getOrder', '/orders/{orderId}')],
      NO_OPTIONS,
    );
    const order = (schema['']!.entityTypes.Order as { shape: unknown }).shape as {
      attributes: Record<string, { required?: boolean }>;
    };
    assert.notEqual(order.attributes.orderId!.required, false);
    assert.equal(order.attributes.userId!.required, false);
    // So a policy must test it with `has` first.
    assertInvalid(
      schema,
      'permit (principal, action, resource is Order) when { resource.userId == "alice" };',
      /userId/,
    );
    assertValid(
      schema,
      'permit (principal, action, resource is Order) when { resource has userId && resource.userId == "alice" };',
    );
    assertValid(schema, 'permit (principal, action, resource is Order) when { resource.orderId == "o-1" };');
  });

  it('a parameter listed in `entities` is an entity reference comparable with `principal`', () => {
    const { schema } = generateSchema(
      [op('getOrder', '/tenants/{tenantId}/users/{userId}/orders/{orderId}')],
      { claims: {}, entities: { userId: 'User', tenantId: 'Tenant' } },
    );
    assertValid(
      schema,
      'permit (principal, action, resource is Order) when { resource.userId == principal && resource.tenantId == Tenant::"acme" };',
    );
    // A string parameter is not comparable with an entity, nor the reverse.
    assertInvalid(
      schema,
      'permit (principal, action, resource is Order) when { resource.orderId == principal };',
      /type/i,
    );
    assertInvalid(
      schema,
      'permit (principal, action, resource is Order) when { resource.userId == "alice" };',
      /type/i,
    );
  });

  it('without `entities`, the same parameter is a String', () => {
    const { schema } = generateSchema([op('getOrder', '/users/{userId}/orders/{orderId}')], NO_OPTIONS);
    assertValid(schema, 'permit (principal, action, resource) when { resource.userId == principal.id };');
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { resource.userId == principal };',
      /type/i,
    );
  });
});

describe('context', () => {
  const claims: Record<string, ClaimDeclaration> = {
    tenant: { type: 'String', required: true },
    email: { type: 'String', required: false },
    level: { type: 'Long', required: true },
    verified: { type: 'Boolean', required: true },
    roles: { type: 'Set<String>', required: true },
    projects: { type: 'Set<Long>', required: false },
  };
  const { schema } = generateSchema([op('getOrder', '/orders/{orderId}')], { claims, entities: {} });

  it('declared claims have their Cedar types', () => {
    assertValid(
      schema,
      `permit (principal, action, resource) when {
        context.claims.tenant like "a*" &&
        context.claims.level > 3 &&
        context.claims.verified &&
        context.claims.roles.contains("admin")
      };`,
    );
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { context.claims.level == "3" };',
      /type/i,
    );
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { context.claims.tenant > 3 };',
      /type|Long/i,
    );
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { context.claims.roles.contains(7) };',
      /type/i,
    );
  });

  it('optional claims need `has`; required claims do not', () => {
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { context.claims.email == "a@b" };',
      /email/,
    );
    assertValid(
      schema,
      'permit (principal, action, resource) when { context.claims has email && context.claims.email == "a@b" };',
    );
    assertValid(
      schema,
      'permit (principal, action, resource) when { context.claims has projects && context.claims.projects.contains(7) };',
    );
  });

  it('an undeclared claim is not visible', () => {
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { context.claims.sub == "alice" };',
      /sub/,
    );
  });

  it('clientIp is an ipaddr, time a datetime and a Long, mtls an optional record', () => {
    assertValid(
      schema,
      `permit (principal, action, resource) when {
        context.clientIp.isInRange(ip("10.0.0.0/8")) &&
        context.authenticated &&
        context.scopes.contains("orders:read") &&
        context.time.now > datetime("2026-01-01") &&
        context.time.epochSeconds > 0 &&
        context has mtls && context.mtls.fingerprint != "" && context.mtls.sanDns.contains("a.example") &&
        (context.mtls has subjectCN && context.mtls.subjectCN == "svc")
      };`,
    );
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { context.mtls.serial == "01" };',
      /mtls/,
    );
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { context has mtls && context.mtls.subjectCN == "svc" };',
      /subjectCN/,
    );
    assertInvalid(
      schema,
      'permit (principal, action, resource) when { context.clientIp == "10.0.0.1" };',
      /type/i,
    );
  });
});
