import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Collection } from './collection.ts';
import { exactKey, formatVariable, keyMatches, parseVariables } from './variables.ts';

test('target lists round-trip through formatVariable', () => {
  const text = 'ARGS|!ARGS:foo|&TX:x|REQUEST_COOKIES:/^__utm/|XML:/*|MATCHED_VARS';
  assert.equal(parseVariables(text).map(formatVariable).join('|'), text);
});

test('bad targets are errors', () => {
  assert.throws(() => parseVariables('NOPE'), /unknown variable NOPE/);
  assert.throws(() => parseVariables('REQUEST_URI:x'), /takes no key/);
  assert.throws(() => parseVariables('!ARGS'), /needs a key/);
  assert.throws(() => parseVariables('ARGS:/abc'), /unterminated regex/);
  assert.throws(() => parseVariables('XML://book/title'), /XPath expressions \/\* \(text\) and \/\/@\*/);
});

test('keys compare case-insensitively; a collection keeps repeated keys in order', () => {
  assert.equal(keyMatches(exactKey('Content-Type'), 'content-type'), true);
  const c = new Collection('ARGS');
  c.add('A', '1');
  c.add('a', '2');
  c.add('b', '3');
  assert.deepEqual(
    c.select(exactKey('a')).map((e) => e.value),
    ['1', '2'],
  );
  c.set('A', '9');
  assert.deepEqual(
    c.entries.map((e) => `${e.key}=${e.value}`),
    ['b=3', 'A=9'],
  );
  assert.equal(c.entries[1]?.name, 'ARGS:A');
  c.delete('b');
  assert.equal(c.size, 1);
});
