import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperator } from './index.ts';
import { pmPhrases } from './pm.ts';
import { ENV, FakeTx, rejects, vectors } from './vectors.test-helper.ts';

vectors('pm', 'gzip compress deflate br zstd', [
  ['GZIP', true],
  ['x-Compress-y', true],
  ['identity', false],
  ['', false],
  ['b r', false],
]);
vectors('pm', 'document.cookie .innerhtml <!-- <![cdata[', [
  ['x=document.COOKIE', true],
  ['el.innerHTML=1', true],
  ['<![CDATA[ x', true],
  ['documentXcookie', false],
]);
// Overlapping phrases: the automaton must follow failure links (`she` inside `ushers`).
vectors('pm', 'he she his hers', [
  ['ushers', true],
  ['ahis', true],
  ['hxe', false],
]);
vectors('pm', 'abcd bc', [['abc', true]]);
vectors('pm', '|3C 73|cript', [
  ['<script', true],
  ['script', false],
]);
vectors('pm', '( )', [
  ['f(x', true],
  ['fx', false],
]);
rejects('pm', '   ', /no phrases/);
rejects('pm', '|3C', /unterminated/);

test('@pm splits on any whitespace', () => {
  assert.deepEqual(pmPhrases('a  b\tc'), ['a', 'b', 'c']);
});

test('@pm with capture puts the phrase found in TX:0', () => {
  const tx = new FakeTx({}, true);
  assert.equal(createOperator('pm', 'foo bar', ENV).match('xxBARxx', tx), true);
  assert.deepEqual(tx.captures, ['bar']);
});

test('@pm matches bytes above 0x7F as themselves', () => {
  const op = createOperator('pm', '\xc3\xa9t\xc3\xa9', ENV);
  assert.equal(op.match('l\xc3\xa9t\xc3\xa9', new FakeTx()), true);
  assert.equal(op.match('l\xc3\x89t\xc3\x89', new FakeTx()), false);
});
