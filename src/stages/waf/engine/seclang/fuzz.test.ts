/** The SecLang front end fails on bad input only with a located SecLangError, never a crash. */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { lex, SecLangError } from './lexer.ts';
import { parseDirective } from './parser.ts';

test('random directive text yields directives or a SecLangError', () => {
  const parts = [
    'SecRule',
    'SecAction',
    ' ',
    '"',
    "'",
    '\\',
    '\n',
    'ARGS',
    '|',
    '!',
    '&',
    ':',
    '/',
    '@rx',
    'id:1',
    ',',
    'phase:2',
    "msg:'",
    'chain',
    '#',
    'x',
  ];
  let s = 12345;
  const next = () => {
    s = (s * 1103515245 + 12345) & 0x7fffffff;
    return s;
  };
  for (let i = 0; i < 3000; i++) {
    let text = '';
    const n = next() % 30;
    for (let j = 0; j < n; j++) text += parts[next() % parts.length];
    try {
      for (const d of lex(text, 'f.conf')) parseDirective(d);
    } catch (err) {
      assert.ok(err instanceof SecLangError, `${JSON.stringify(text)}: ${(err as Error).stack}`);
      assert.match(err.message, /^f\.conf:\d+: /);
    }
  }
});
