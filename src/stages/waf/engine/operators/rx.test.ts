import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperator } from './index.ts';
import { ENV, FakeTx, rejects, vectors } from './vectors.test-helper.ts';

vectors('rx', '(?i)<script[^>]*>', [
  ['<SCRIPT src=x>', true],
  ['<scrip>', false],
  ['', false],
]);
vectors('rx', '^\\d+$', [
  ['12345', true],
  ['12a45', false],
  ['123\n', false],
]);
vectors('rx', 'a.c', [['a\nc', true]]);
rejects('rx', '(unclosed', /invalid regex/);
rejects('rx', '(a)\\1', /backreference/);

test('@rx with capture puts groups 0..9 in TX', () => {
  const op = createOperator('rx', '(\\w+)=(\\d+)(x)?', ENV);
  const tx = new FakeTx({}, true);
  assert.equal(op.match('id=42;', tx), true);
  assert.deepEqual(tx.captures, ['id=42', 'id', '42', '']);
});

test('@rx without capture leaves TX alone', () => {
  const tx = new FakeTx({}, false);
  assert.equal(createOperator('rx', '(a)', ENV).match('a', tx), true);
  assert.equal(tx.captures, undefined);
});

test('@rx expands macros per call', () => {
  const op = createOperator('rx', '^%{tx.allowed}$', ENV);
  assert.equal(op.match('GET', new FakeTx({ 'tx.allowed': '(?:GET|HEAD)' })), true);
  assert.equal(op.match('POST', new FakeTx({ 'tx.allowed': '(?:GET|HEAD)' })), false);
  assert.equal(op.match('POST', new FakeTx({ 'tx.allowed': 'POST' })), true);
});

test('@rx with a macro that expands to a bad regex throws at match time (the engine denies)', () => {
  const op = createOperator('rx', '%{tx.re}', ENV);
  assert.throws(() => op.match('x', new FakeTx({ 'tx.re': '(' })), /invalid regex/);
});
