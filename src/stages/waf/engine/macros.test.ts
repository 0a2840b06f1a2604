import assert from 'node:assert/strict';
import { test } from 'node:test';
import { expandMacros } from './macros.ts';

test('macros resolve variable and collection.key; unknown ones are empty', () => {
  const lookup = (name: string, key: string | undefined) =>
    name === 'TX' && key === 'a' ? '5' : name === 'MATCHED_VAR' ? 'm' : undefined;
  assert.equal(expandMacros('x=%{tx.a} %{MATCHED_VAR} [%{tx.none}]', lookup), 'x=5 m []');
  assert.equal(expandMacros('no macro', lookup), 'no macro');
});
