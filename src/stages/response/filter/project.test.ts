import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { compileProjector, type Json, type ProjectStats } from './project.ts';

function run(schema: unknown, value: Json): { out: Json; stats: ProjectStats } {
  const stats = { dropped: 0, masked: 0 };
  return { out: compileProjector(schema)(value, stats), stats };
}

const USER = {
  type: 'object',
  properties: { id: { type: 'string' }, name: { type: 'string' } },
};

describe('response projection (excessive data exposure)', () => {
  it('drops properties the schema does not declare, even though JSON Schema leaves them open', () => {
    const { out, stats } = run(USER, { id: 'u1', name: 'Ann', passwordHash: 'x', isAdmin: true });
    assert.deepEqual(out, { id: 'u1', name: 'Ann' });
    assert.equal(stats.dropped, 2);
  });

  it('projects nested objects and array items', () => {
    const schema = {
      type: 'object',
      properties: { users: { type: 'array', items: USER }, total: { type: 'integer' } },
    };
    const { out } = run(schema, {
      users: [
        { id: 'a', ssn: '1' },
        { id: 'b', name: 'B', token: 't' },
      ],
      total: 2,
      debug: {},
    });
    assert.deepEqual(out, { users: [{ id: 'a' }, { id: 'b', name: 'B' }], total: 2 });
  });

  it('keeps the properties of every allOf, anyOf and oneOf branch', () => {
    const schema = {
      allOf: [USER, { properties: { email: { type: 'string' } } }],
      oneOf: [
        { properties: { card: { type: 'object', properties: { last4: { type: 'string' } } } } },
        { properties: { iban: {} } },
      ],
    };
    const { out } = run(schema, {
      id: 'u',
      email: 'e',
      card: { last4: '1234', pan: '4111111111111111' },
      iban: 'DE..',
      x: 1,
    });
    assert.deepEqual(out, { id: 'u', email: 'e', card: { last4: '1234' }, iban: 'DE..' });
  });

  it('keeps what additionalProperties (a schema, or explicitly true) and patternProperties declare', () => {
    const map = { type: 'object', additionalProperties: USER };
    assert.deepEqual(run(map, { a: { id: 'a', secret: 's' } }).out, { a: { id: 'a' } });
    assert.deepEqual(run({ type: 'object', additionalProperties: true }, { any: { deep: 1 } }).out, {
      any: { deep: 1 },
    });
    const patterned = { type: 'object', patternProperties: { '^x-': { type: 'string' } } };
    assert.deepEqual(run(patterned, { 'x-trace': 't', other: 'o' }).out, { 'x-trace': 't' });
  });

  it('empties objects where no shape is declared, and keeps scalars', () => {
    assert.deepEqual(run({}, { leak: 1 }).out, {});
    assert.deepEqual(run({ type: 'array' }, [{ leak: 1 }, 2, 'three']).out, [{}, 2, 'three']);
    assert.equal(run(USER, 'just a string').out, 'just a string');
    assert.equal(run(USER, null).out, null);
  });

  it('handles recursive schemas', () => {
    const node: Record<string, unknown> = { type: 'object', properties: { name: { type: 'string' } } };
    (node.properties as Record<string, unknown>).children = { type: 'array', items: node };
    const { out } = run(node, {
      name: 'a',
      x: 1,
      children: [{ name: 'b', y: 2, children: [{ name: 'c', z: 3 }] }],
    });
    assert.deepEqual(out, { name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] });
  });

  it('handles a property declared recursively by two branches', () => {
    const a: Record<string, unknown> = { properties: { id: {} } };
    const b: Record<string, unknown> = { properties: { label: {} } };
    (a.properties as Record<string, unknown>).next = a;
    (b.properties as Record<string, unknown>).next = b;
    const { out } = run({ anyOf: [a, b] }, { id: 1, label: 'l', next: { id: 2, label: 'm', secret: 's' } });
    assert.deepEqual(out, { id: 1, label: 'l', next: { id: 2, label: 'm' } });
  });

  it('masks properties marked x-rampart-sensitive: drop, mask, last4', () => {
    const schema = {
      type: 'object',
      properties: {
        pan: { type: 'string', 'x-rampart-sensitive': 'last4' },
        cvv: { type: 'string', 'x-rampart-sensitive': 'drop' },
        dob: { type: 'string', 'x-rampart-sensitive': true },
        name: { type: 'string' },
      },
    };
    const { out, stats } = run(schema, {
      pan: '4111111111111111',
      cvv: '123',
      dob: '1990-01-01',
      name: 'Ann',
    });
    assert.deepEqual(out, { pan: '****1111', dob: '****', name: 'Ann' });
    assert.equal(stats.masked, 3);
  });

  it('projects tuples by prefixItems', () => {
    const schema = { type: 'array', prefixItems: [USER, { type: 'integer' }] };
    assert.deepEqual(run(schema, [{ id: 'a', x: 1 }, 5, { extra: 1 }]).out, [{ id: 'a' }, 5, {}]);
  });
});
