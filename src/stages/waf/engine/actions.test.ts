import assert from 'node:assert/strict';
import { test } from 'node:test';
import { applyAction, emptyActionSet, parseCtl, parseSetVar } from './actions.ts';

test('setvar forms', () => {
  assert.deepEqual(parseSetVar('tx.a=+%{tx.b}'), { op: 'add', collection: 'TX', key: 'a', value: '%{tx.b}' });
  assert.deepEqual(parseSetVar('tx.a=-1'), { op: 'sub', collection: 'TX', key: 'a', value: '1' });
  assert.deepEqual(parseSetVar('!tx.a'), { op: 'delete', collection: 'TX', key: 'a' });
  assert.deepEqual(parseSetVar('tx.a'), { op: 'set', collection: 'TX', key: 'a', value: '1' });
  assert.throws(() => parseSetVar('args.a=1'), /not writable/);
  assert.throws(() => parseSetVar('nodot'), /collection\.key/);
});

test('ctl options', () => {
  assert.deepEqual(parseCtl('ruleEngine=DetectionOnly'), { option: 'ruleEngine', mode: 'DetectionOnly' });
  assert.deepEqual(parseCtl('ruleRemoveById=920100-920200'), {
    option: 'ruleRemoveById',
    ranges: [{ from: 920100, to: 920200 }],
  });
  const t = parseCtl('ruleRemoveTargetByTag=xss-perf-disable;REQUEST_FILENAME');
  assert.equal(t.option === 'ruleRemoveTargetByTag' && t.variables[0]?.name, 'REQUEST_FILENAME');
  assert.deepEqual(parseCtl('requestBodyProcessor=json'), {
    option: 'requestBodyProcessor',
    processor: 'JSON',
  });
  assert.throws(() => parseCtl('requestBodyProcessor=YAML'), /bad ctl:requestBodyProcessor/);
  assert.throws(() => parseCtl('nosuch=1'), /unknown ctl option nosuch/);
  assert.throws(() => parseCtl('ruleRemoveTargetById=1'), /expected what;TARGET/);
});

test('actions fill the set; bad values are errors', () => {
  const s = emptyActionSet();
  for (const [name, value] of [
    ['id', '942100'],
    ['phase', 'request'],
    ['severity', '2'],
    ['nolog', ''],
    ['t', 'lowercase'],
  ] as const)
    applyAction(s, { name, value });
  assert.deepEqual(
    [s.id, s.phase, s.severity, s.log, s.transformations],
    [942100, 2, 'CRITICAL', false, ['lowercase']],
  );
  assert.throws(() => applyAction(s, { name: 'phase', value: '9' }), /bad phase/);
  assert.throws(() => applyAction(s, { name: 'id', value: 'x' }), /bad id/);
  assert.throws(() => applyAction(s, { name: 'severity', value: 'LOUD' }), /bad severity/);
});
