import assert from 'node:assert/strict';
import { test } from 'node:test';
import { basename, parseCookies, parseUrlEncoded, splitUri, urlDecode } from './request.ts';

test('lenient percent-decoding keeps malformed escapes', () => {
  assert.equal(urlDecode('a%20b+c%zz%4'), 'a b c%zz%4');
  assert.equal(urlDecode('a+b', false), 'a+b');
  assert.equal(urlDecode('%00%ff'), '\x00\xff');
});

test('query strings and cookies split as ModSecurity does', () => {
  assert.deepEqual(parseUrlEncoded('a=1&&b&c=%3D='), [
    ['a', '1'],
    ['b', ''],
    ['c', '=='],
  ]);
  assert.deepEqual(parseCookies('a=1; b = 2;c; d=x=y'), [
    ['a', '1'],
    ['b', ' 2'],
    ['c', ''],
    ['d', 'x=y'],
  ]);
});

test('request targets: origin, absolute and asterisk forms', () => {
  assert.deepEqual(splitUri('/p/q?x=1#f'), { uri: '/p/q?x=1#f', path: '/p/q', query: 'x=1', hasQuery: true });
  assert.deepEqual(splitUri('http://h:8080/p?x'), { uri: '/p?x', path: '/p', query: 'x', hasQuery: true });
  assert.equal(splitUri('*').path, '*');
  assert.equal(basename('/a/b\\c.php'), 'c.php');
});
