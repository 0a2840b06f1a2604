import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperator } from './index.ts';
import { ENV, FakeTx, vectors } from './vectors.test-helper.ts';

vectors('streq', 'POST', [
  ['POST', true],
  ['post', false],
  ['POST ', false],
]);
vectors('contains', 'ab', [
  ['xaby', true],
  ['AB', false],
]);
vectors('beginsWith', '/api', [
  ['/api/x', true],
  ['/ap', false],
]);
vectors('endsWith', '.php', [
  ['a.php', true],
  ['a.php5', false],
]);
vectors('within', 'GET HEAD POST OPTIONS', [
  ['GET', true],
  ['HEAD', true],
  ['PUT', false],
  ['T HE', true],
]);
vectors('strmatch', 'WebZIP', [
  ['Mozilla WebZIP/1.0', true],
  ['webzip', false],
]);
vectors('containsWord', 'select', [
  ['select', true],
  ['1 select 2', true],
  ['1select2', true],
  ['(select)', true],
  ['selection', false],
  ['preselect', false],
  ['xselect select', true],
]);

test('@within expands a CRS allow-list macro', () => {
  const op = createOperator('within', '%{tx.allowed_methods}', ENV);
  const tx = new FakeTx({ 'tx.allowed_methods': 'GET HEAD POST OPTIONS' });
  assert.equal(op.match('POST', tx), true);
  assert.equal(op.match('DELETE', tx), false);
});

test('@streq compares with another variable through a macro', () => {
  const op = createOperator('streq', '%{TX.2}', ENV);
  assert.equal(op.match('abc', new FakeTx({ 'tx.2': 'abc' })), true);
  assert.equal(op.match('abd', new FakeTx({ 'tx.2': 'abc' })), false);
});
