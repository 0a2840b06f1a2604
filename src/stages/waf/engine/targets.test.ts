import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Collection } from './collection.ts';
import type { Rule } from './rule.ts';
import { resolveTargets, type TargetSource } from './targets.ts';
import { parseVariables } from './variables.ts';

function source(): TargetSource {
  const args = new Collection('ARGS');
  args.add('q', 'a');
  args.add('utm_source', 'b');
  args.add('Q', 'c');
  const cookies = new Collection('REQUEST_COOKIES');
  cookies.add('__utma', '1');
  cookies.add('sid', '2');
  return {
    scalars: new Map([['REQUEST_URI', '/x']]),
    collections: new Map([
      ['ARGS', args],
      ['REQUEST_COOKIES', cookies],
    ]),
  };
}

const rule = (targets: string) => ({ variables: parseVariables(targets) }) as unknown as Rule;
const resolve = (targets: string, removals = '') =>
  resolveTargets(rule(targets), source(), removals === '' ? [] : parseVariables(removals)).map(
    (t) => `${t.name}=${t.value}`,
  );

test('collections, exact keys (case-insensitive), regex keys and scalars', () => {
  assert.deepEqual(resolve('ARGS:q|REQUEST_COOKIES:/^__utm/|REQUEST_URI'), [
    'ARGS:q=a',
    'ARGS:Q=c',
    'REQUEST_COOKIES:__utma=1',
    'REQUEST_URI=/x',
  ]);
});

test('counting sees exclusions; a missing collection counts 0', () => {
  assert.deepEqual(resolve('&ARGS|&ARGS:q|&ARGS_POST|&REQUEST_URI'), [
    '&ARGS=3',
    '&ARGS:q=2',
    '&ARGS_POST=0',
    '&REQUEST_URI=1',
  ]);
  assert.deepEqual(resolve('&ARGS|!ARGS:/^utm_/'), ['&ARGS=2']);
});

test('run-time removals act like exclusions, a whole scalar included', () => {
  assert.deepEqual(resolve('ARGS|REQUEST_URI', 'ARGS:/^utm_/|REQUEST_URI'), ['ARGS:q=a', 'ARGS:Q=c']);
  // An exclusion names one collection: ARGS:q does not exclude REQUEST_COOKIES:q.
  assert.deepEqual(resolve('REQUEST_COOKIES|!ARGS:sid'), [
    'REQUEST_COOKIES:__utma=1',
    'REQUEST_COOKIES:sid=2',
  ]);
});
