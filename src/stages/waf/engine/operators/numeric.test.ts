import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperator } from './index.ts';
import { parseInteger } from './numeric.ts';
import { ENV, FakeTx, vectors } from './vectors.test-helper.ts';

test('integers are read as std::stoi reads them', () => {
  assert.equal(parseInteger('42'), 42);
  assert.equal(parseInteger('  -7'), -7);
  assert.equal(parseInteger('+3'), 3);
  assert.equal(parseInteger('12abc'), 12);
  assert.equal(parseInteger('abc'), 0);
  assert.equal(parseInteger(''), 0);
  assert.equal(parseInteger('1.9'), 1);
  assert.equal(parseInteger('99999999999'), 0);
  assert.equal(parseInteger('2147483647'), 2147483647);
});

vectors('eq', '0', [
  ['0', true],
  ['', true],
  ['abc', true],
  ['1', false],
]);
vectors('eq', '100', [
  ['100', true],
  ['100x', true],
  ['0100', true],
  ['99', false],
]);
vectors('ge', '5', [
  ['5', true],
  ['6', true],
  ['4', false],
  ['-5', false],
]);
vectors('gt', '5', [
  ['6', true],
  ['5', false],
]);
vectors('le', '5', [
  ['5', true],
  ['x', true],
  ['6', false],
]);
vectors('lt', '5', [
  ['4', true],
  ['5', false],
]);

test('numeric operators expand macros on the parameter side', () => {
  const op = createOperator('ge', '%{tx.inbound_anomaly_score_threshold}', ENV);
  assert.equal(op.match('5', new FakeTx({ 'tx.inbound_anomaly_score_threshold': '5' })), true);
  assert.equal(op.match('4', new FakeTx({ 'tx.inbound_anomaly_score_threshold': '5' })), false);
  assert.equal(op.match('0', new FakeTx({})), true, 'an unset variable is 0');
});
