import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lex, SecLangError, splitArgs } from './lexer.ts';

test('joins continuation lines and reports the first physical line', () => {
  const ds = lex(
    '# comment\n\nSecRule ARGS "@rx a" \\\n    "id:1,\\\n    phase:2"\nSecMarker END\n',
    'x.conf',
  );
  assert.equal(ds.length, 2);
  assert.deepEqual(ds[0], {
    name: 'SecRule',
    args: ['ARGS', '@rx a', 'id:1,    phase:2'],
    file: 'x.conf',
    line: 3,
  });
  assert.deepEqual(ds[1], { name: 'SecMarker', args: ['END'], file: 'x.conf', line: 6 });
});

test('keeps backslashes in quoted arguments except before a quote or a backslash', () => {
  assert.deepEqual(splitArgs('SecRule ARGS "@rx \\d+\\"x\\\\y" \'a b\'', 'f', 1), [
    'SecRule',
    'ARGS',
    '@rx \\d+"x\\y',
    'a b',
  ]);
});

test('an unterminated quote is a located error', () => {
  assert.throws(
    () => lex('\nSecRule ARGS "@rx a', 'rules.conf'),
    (e: unknown) =>
      e instanceof SecLangError && e.file === 'rules.conf' && e.line === 2 && /unterminated/.test(e.message),
  );
});

test('CRLF line endings are handled', () => {
  const ds = lex('SecMarker A\r\nSecMarker \\\r\n B\r\n', 'f');
  assert.deepEqual(
    ds.map((d) => d.args),
    [['A'], ['B']],
  );
});
