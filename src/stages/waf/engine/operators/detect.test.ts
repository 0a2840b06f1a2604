import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createOperator } from './index.ts';
import { ENV, FakeTx, rejects, vectors } from './vectors.test-helper.ts';

vectors('detectSQLi', '', [
  ["1' OR '1'='1", true],
  ['1 UNION SELECT password FROM users--', true],
  ['hello world', false],
  ['', false],
]);
vectors('detectXSS', '', [
  ['<script>alert(1)</script>', true],
  ['<img src=x onerror=alert(1)>', true],
  ['a < b and c > d', false],
  ['', false],
]);
rejects('detectSQLi', 'x', /takes no parameter/);

test('@detectSQLi with capture puts the fingerprint in TX:0', () => {
  const tx = new FakeTx({}, true);
  assert.equal(createOperator('detectSQLi', '', ENV).match("1' OR '1'='1", tx), true);
  assert.equal(tx.captures?.length, 1);
  assert.ok((tx.captures?.[0] ?? '').length > 0, 'a non-empty fingerprint');
});
