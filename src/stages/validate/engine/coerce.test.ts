import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { coerceScalar, schemaTypes } from './coerce.ts';

describe('coerceScalar: only exact canonical spellings convert', () => {
  const integer = { type: 'integer' };
  const number = { type: 'number' };
  const boolean = { type: 'boolean' };

  it('integers', () => {
    assert.equal(coerceScalar('12', integer), 12);
    assert.equal(coerceScalar('-0', integer), -0);
    assert.equal(coerceScalar('9007199254740991', integer), 9007199254740991);
    for (const s of ['12abc', '1.5', '1e3', '0x10', ' 1', '1 ', '+1', '01', '', '9007199254740993', 'NaN']) {
      assert.equal(coerceScalar(s, integer), s, `${JSON.stringify(s)} stays a string`);
    }
  });

  it('numbers: JSON number grammar, finite only', () => {
    assert.equal(coerceScalar('1.5', number), 1.5);
    assert.equal(coerceScalar('-2e-3', number), -0.002);
    assert.equal(coerceScalar('7', number), 7);
    for (const s of ['1e400', '-1e400', 'Infinity', '.5', '5.', '1,5', '0b1', '', '1_000']) {
      assert.equal(coerceScalar(s, number), s, `${JSON.stringify(s)} stays a string`);
    }
  });

  it('booleans: exactly true and false', () => {
    assert.equal(coerceScalar('true', boolean), true);
    assert.equal(coerceScalar('false', boolean), false);
    for (const s of ['TRUE', '1', 'yes', '']) assert.equal(coerceScalar(s, boolean), s);
  });

  it('a schema that admits strings keeps the string; no type keeps it too', () => {
    assert.equal(coerceScalar('12', { type: ['string', 'integer'] }), '12');
    assert.equal(coerceScalar('12', {}), '12');
  });

  it('types are found through oneOf/anyOf/allOf and 3.0 nullable', () => {
    assert.equal(coerceScalar('3', { oneOf: [{ type: 'integer' }, { type: 'boolean' }] }), 3);
    assert.equal(coerceScalar('true', { anyOf: [{ type: 'integer' }, { type: 'boolean' }] }), true);
    assert.deepEqual([...schemaTypes({ type: 'integer', nullable: true })].sort(), ['integer', 'null']);
  });

  it('recursive schemas do not loop', () => {
    const loop: Record<string, unknown> = {};
    loop.oneOf = [loop];
    assert.equal(coerceScalar('1', loop), '1');
  });
});
