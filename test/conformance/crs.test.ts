/**
 * The OWASP CRS v4.28.0 regression suite (go-ftw YAML), run in-process against the engine
 * with the suite's setup: detection only, paranoia 4, crs-setup.conf.example. Every test
 * passes except those listed in crs-overrides.yaml with their reason, and every listed test
 * still fails, so the list cannot go stale.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { readOverrides } from './crs/overrides.ts';
import { summary } from './crs/report.ts';
import { loadSuite, loadSuiteRuleSet, runTests } from './crs/runner.ts';

const overrides = readOverrides(join(import.meta.dirname, 'crs-overrides.yaml'));

test('CRS v4.28.0 regression suite', () => {
  const rs = loadSuiteRuleSet();
  const tests = loadSuite();
  const results = runTests(rs, tests);
  console.log(summary(results));
  const names = new Set(tests.map((t) => t.name));
  const unknown = [...overrides.keys()].filter((n) => !names.has(n));
  assert.deepEqual(unknown, [], 'crs-overrides.yaml lists tests the suite does not have');
  const unexpected = results
    .filter((r) => !r.passed && !overrides.has(r.test.name))
    .map((r) => `${r.test.name}: ${r.reason.slice(0, 300)}`);
  assert.deepEqual(unexpected, [], 'tests failed that crs-overrides.yaml does not list');
  const stale = results.filter((r) => r.passed && overrides.has(r.test.name)).map((r) => r.test.name);
  assert.deepEqual(stale, [], 'tests pass now: remove them from crs-overrides.yaml');
});
