import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createOperator, type OperatorTx } from '../../src/stages/waf/engine/operators/index.ts';

/**
 * Regular-expression denial of service against the WAF (CWE-1333): a request value built so
 * that a backtracking engine explores exponentially or quadratically many paths — here against
 * patterns of the shapes CRS uses — must not hold the gateway. regex.ts runs long inputs on
 * V8's linear-time engine (or a linear superset first); each case must finish well within the
 * test's timeout, where plain backtracking took seconds to minutes (docs/concepts/waf-regex.md).
 */

const tx: OperatorTx = { expand: (t) => t, setCaptures: () => {}, capture: false };
const env = { dir: '.', file: 'redos.conf', line: 1 };

const CASES: [pattern: string, input: string][] = [
  // Quadratic: each start position rescans the run of digits (16 s on 64 KiB with irregexp).
  ['(\\d+)-(\\d+)', '0'.repeat(64 * 1024)],
  // Exponential nesting.
  ['^(a+)+$', `${'a'.repeat(64 * 1024)}!`],
  // Alternation with overlap, as in CRS command-injection patterns.
  ['(?:\\s|x)*\\s*;', '\n'.repeat(64 * 1024)],
  // A large counted repeat the linear engine refuses (the superset path).
  ['(?:a{1,255}b){2}', 'a'.repeat(64 * 1024)],
];

describe('WAF regex denial of service', () => {
  for (const [pattern, input] of CASES) {
    it(`@rx ${pattern} on ${input.length} hostile bytes finishes`, { timeout: 5_000 }, () => {
      const op = createOperator('rx', pattern, env);
      assert.equal(typeof op.match(input, tx), 'boolean');
    });
  }
});
