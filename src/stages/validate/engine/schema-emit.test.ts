import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createAjvPair } from './ajv.ts';
import { fieldErrors } from './field-errors.ts';
import { EmitError, emitSchema } from './schema-emit.ts';

type Json = Record<string, unknown>;

/** A document with `components.schemas` = `schemas`; compile `schema` as a request body would be. */
function validator(version: '3.0' | '3.1', schemas: Json, schema: unknown, strict: boolean) {
  const root = { openapi: version === '3.0' ? '3.0.3' : '3.1.0', components: { schemas } };
  const { schema: emitted } = emitSchema({ root, version }, schema, ['x'], { strict });
  const ajv = createAjvPair(version, () => {}).full;
  assert.equal(ajv.validateSchema(emitted), true, JSON.stringify(ajv.errors));
  const validate = ajv.compile(emitted);
  return (value: unknown) =>
    validate(value) ? [] : fieldErrors('body', validate.errors ?? []).map((e) => `${e.path} ${e.rule}`);
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });

const Base = {
  type: 'object',
  required: ['id'],
  properties: { id: { type: 'integer' }, name: { type: 'string' } },
};
const Extra = { type: 'object', properties: { qty: { type: 'integer', maximum: 10 } } };
const Composed = { allOf: [ref('Base'), ref('Extra'), { properties: { note: { type: 'string' } } }] };

for (const version of ['3.0', '3.1'] as const) {
  describe(`strict mode, OpenAPI ${version}`, () => {
    const schemas = { Base, Extra, Composed };

    it('refuses an undeclared property where additionalProperties is left open', () => {
      const check = validator(version, schemas, ref('Base'), true);
      assert.deepEqual(check({ id: 1, name: 'a' }), []);
      assert.deepEqual(check({ id: 1, isAdmin: true }), ['body/isAdmin undeclared']);
    });

    it('without strict, the same property passes (the document leaves it open)', () => {
      assert.deepEqual(validator(version, schemas, ref('Base'), false)({ id: 1, isAdmin: true }), []);
    });

    it('allOf: properties of every branch are merged, so a valid composed object passes', () => {
      const check = validator(version, schemas, ref('Composed'), true);
      assert.deepEqual(check({ id: 1, name: 'a', qty: 2, note: 'n' }), []);
      assert.deepEqual(check({ id: 1, qty: 2, isAdmin: true }), ['body/isAdmin undeclared']);
      // Each branch still validates its own properties.
      assert.deepEqual(check({ id: 1, qty: 11 }), ['body/qty maximum']);
      assert.deepEqual(check({ qty: 1 }), ['body/id required']);
    });

    it('nested objects and array items are closed too', () => {
      const order = {
        type: 'object',
        properties: { items: { type: 'array', items: ref('Extra') }, customer: ref('Base') },
      };
      const check = validator(version, { ...schemas, Order: order }, ref('Order'), true);
      assert.deepEqual(check({ items: [{ qty: 1 }], customer: { id: 1 } }), []);
      assert.deepEqual(check({ items: [{ qty: 1, price: 0 }], customer: { id: 1, role: 'admin' } }).sort(), [
        'body/customer/role undeclared',
        'body/items/0/price undeclared',
      ]);
    });

    it('oneOf alternatives: a property of any alternative is declared; undeclared ones are refused', () => {
      const pay = {
        type: 'object',
        properties: { amount: { type: 'number' } },
        oneOf: [
          { properties: { card: { type: 'string' } }, required: ['card'] },
          { properties: { iban: { type: 'string' } }, required: ['iban'] },
        ],
      };
      const check = validator(version, { Pay: pay }, ref('Pay'), true);
      assert.deepEqual(check({ amount: 1, card: 'x' }), []);
      assert.deepEqual(check({ amount: 1, iban: 'x' }), []);
      assert.ok(check({ amount: 1, iban: 'x', refund: true }).includes('body/refund undeclared'));
    });

    it('an explicit additionalProperties (true or a schema) is a declared map and stays open', () => {
      const map = {
        type: 'object',
        properties: { a: { type: 'string' } },
        additionalProperties: { type: 'integer' },
      };
      const check = validator(version, { Map: map }, ref('Map'), true);
      assert.deepEqual(check({ a: 'x', b: 1 }), []);
      assert.deepEqual(check({ a: 'x', b: 'y' }), ['body/b type']);
      const open = validator(version, { Open: { ...Base, additionalProperties: true } }, ref('Open'), true);
      assert.deepEqual(open({ id: 1, anything: 1 }), []);
    });

    it('readOnly properties: not required in a request, and refused under strict', () => {
      const user = {
        type: 'object',
        required: ['id', 'email'],
        properties: { id: { type: 'integer', readOnly: true }, email: { type: 'string' } },
      };
      assert.deepEqual(validator(version, { User: user }, ref('User'), false)({ email: 'a' }), []);
      const strict = validator(version, { User: user }, ref('User'), true);
      assert.deepEqual(strict({ email: 'a' }), []);
      assert.deepEqual(strict({ email: 'a', id: 7 }), ['body/id readOnly']);
    });

    it('recursive schemas compile and validate at every level', () => {
      const node = {
        type: 'object',
        properties: { name: { type: 'string' }, children: { type: 'array', items: ref('Node') } },
      };
      const check = validator(version, { Node: node }, ref('Node'), true);
      assert.deepEqual(check({ name: 'a', children: [{ name: 'b', children: [{ name: 'c' }] }] }), []);
      assert.deepEqual(check({ name: 'a', children: [{ name: 'b', children: [{ x: 1 }] }] }), [
        'body/children/0/children/0/x undeclared',
      ]);
    });
  });
}

describe('OpenAPI 3.1 $ref siblings', () => {
  it('apply beside the target, and strict closes over the names of both', () => {
    const schema = { $ref: '#/components/schemas/Base', properties: { tag: { type: 'string' } } };
    const check = validator('3.1', { Base }, schema, true);
    assert.deepEqual(check({ id: 1, tag: 't' }), []);
    assert.deepEqual(check({ id: 1, tag: 1 }), ['body/tag type']);
    assert.deepEqual(check({ id: 1, role: 'admin' }), ['body/role undeclared']);
  });
});

describe('OpenAPI 3.0 dialect', () => {
  it('nullable admits null, in enums too, and around a $ref through allOf', () => {
    const schemas = {
      Color: { type: 'string', enum: ['red', 'blue'], nullable: true },
      Holder: {
        type: 'object',
        properties: { c: { nullable: true, allOf: [ref('Color')] }, n: { type: 'integer', nullable: true } },
      },
    };
    const check = validator('3.0', schemas, ref('Holder'), false);
    assert.deepEqual(check({ c: null, n: null }), []);
    assert.deepEqual(check({ c: 'red', n: 1 }), []);
    assert.deepEqual(check({ c: 'green' }), ['body/c enum']);
  });

  it('example, discriminator, xml and x- extensions are annotations, not load errors', () => {
    const pet = {
      type: 'object',
      discriminator: { propertyName: 'kind' },
      example: { kind: 'cat' },
      xml: { name: 'pet' },
      'x-internal': true,
      properties: { kind: { type: 'string', example: 'cat' } },
    };
    assert.deepEqual(validator('3.0', { Pet: pet }, ref('Pet'), false)({ kind: 'cat' }), []);
  });

  it('draft-04 exclusiveMaximum (boolean form) applies', () => {
    const check = validator('3.0', {}, { type: 'integer', maximum: 10, exclusiveMaximum: true }, false);
    assert.deepEqual(check(10), ['body maximum']);
    assert.deepEqual(check(9), []);
  });
});

describe('schemas that cannot be compiled stop the load', () => {
  it('an invalid pattern is reported at its own path', () => {
    const root = {
      openapi: '3.0.3',
      components: { schemas: { Bad: { properties: { a: { type: 'string', pattern: '[a-' } } } } },
    };
    assert.throws(
      () => emitSchema({ root, version: '3.0' }, ref('Bad'), ['x'], { strict: false }),
      (err: unknown) =>
        err instanceof EmitError && err.at.join('/') === 'components/schemas/Bad/properties/a/pattern',
    );
  });
});
