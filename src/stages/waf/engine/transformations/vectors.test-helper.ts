import assert from 'node:assert/strict';
import { test } from 'node:test';
import { getTransformation } from './index.ts';

/** Runs `[input, expected]` byte-string vectors through the registered transformation `name`. */
export function vectors(name: string, cases: ReadonlyArray<readonly [string, string]>): void {
  for (const [input, expected] of cases) {
    test(`t:${name} ${JSON.stringify(input).slice(0, 60)}`, () => {
      const t = getTransformation(name);
      assert.ok(t, `t:${name} is registered`);
      assert.equal(t(input), expected);
    });
  }
}
