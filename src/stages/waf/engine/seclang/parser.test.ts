import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseActionList } from './actions-parse.ts';
import { lex, SecLangError } from './lexer.ts';
import { parseDirective, parseOperator } from './parser.ts';

const one = (text: string) => {
  const [d] = lex(text, 'f.conf');
  if (d === undefined) throw new Error('no directive');
  return parseDirective(d);
};

test('SecRule: targets, operator and actions', () => {
  const s = one(`SecRule ARGS|!ARGS:foo|&TX:x "!@eq 0" "id:5,phase:1,msg:'a, b',t:none,t:lowercase"`);
  assert.equal(s.kind, 'rule');
  if (s.kind !== 'rule') return;
  assert.deepEqual(
    s.variables.map((v) => [v.name, v.exclude, v.count, v.selector.kind]),
    [
      ['ARGS', false, false, 'all'],
      ['ARGS', true, false, 'exact'],
      ['TX', false, true, 'exact'],
    ],
  );
  assert.deepEqual(s.operator, { name: 'eq', param: '0', negated: true });
  assert.deepEqual(
    s.actions.map((a) => `${a.name}=${a.value}`),
    ['id=5', 'phase=1', 'msg=a, b', 't=none', 't=lowercase'],
  );
});

test('a bare regex is an implicit @rx; operator names are case-insensitive', () => {
  assert.deepEqual(parseOperator('^foo$'), { name: 'rx', param: '^foo$', negated: false });
  assert.deepEqual(parseOperator('@pmFromFile a.data'), {
    name: 'pmfromfile',
    param: 'a.data',
    negated: false,
  });
  assert.deepEqual(parseOperator('@unconditionalMatch'), {
    name: 'unconditionalmatch',
    param: '',
    negated: false,
  });
});

test('quoted action values keep commas and escaped quotes', () => {
  assert.deepEqual(parseActionList(`setvar:'tx.a=+%{tx.b}',logdata:'it\\'s, here', nolog`), [
    { name: 'setvar', value: 'tx.a=+%{tx.b}' },
    { name: 'logdata', value: "it's, here" },
    { name: 'nolog', value: '' },
  ]);
});

test('unknown directives and variables are located load errors', () => {
  assert.throws(
    () => one('SecFoo On'),
    (e: unknown) => e instanceof SecLangError && /unknown directive SecFoo/.test(e.message) && e.line === 1,
  );
  assert.throws(() => one('SecRule NOPE "@rx a" "id:1"'), /f\.conf:1: SecRule: unknown variable NOPE/);
  assert.throws(() => one('SecRule ARGS "@rx a" "id:1" extra'), /takes 2 to 3 argument/);
});

test('engine directives are returned as settings, and removal ranges parse', () => {
  const s = one('SecRequestBodyLimit 13107200');
  assert.deepEqual(s.kind === 'setting' && [s.name, s.value], ['SecRequestBodyLimit', '13107200']);
  const r = one('SecRuleRemoveById 920100 942100-942199');
  assert.deepEqual(r.kind === 'removeById' && r.ranges, [
    { from: 920100, to: 920100 },
    { from: 942100, to: 942199 },
  ]);
});

test('regex and XPath keys', () => {
  const s = one('SecRule REQUEST_COOKIES:/^(?:a|b)$/|XML:/*|XML://@* "@rx x" "id:1"');
  if (s.kind !== 'rule') throw new Error('not a rule');
  const [c, x1, x2] = s.variables;
  assert.equal(c?.selector.kind, 'regex');
  assert.equal(c?.selector.kind === 'regex' && c.selector.regex.test('B'), true);
  assert.deepEqual(
    [x1?.selector, x2?.selector].map((k) => k?.kind === 'exact' && k.key),
    ['/*', '//@*'],
  );
});
