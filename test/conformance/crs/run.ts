/**
 * Development entry point: `node --experimental-strip-types test/conformance/crs/run.ts [filter...]`
 * runs the tests whose name (`942100-3`), rule id or family contains a filter, printing each
 * failure with its reason and the summary table.
 */
import { summary } from './report.ts';
import { loadSuite, loadSuiteRuleSet, runTests } from './runner.ts';

const filters = process.argv.slice(2);
const t0 = performance.now();
const rs = loadSuiteRuleSet();
const t1 = performance.now();
const tests = loadSuite().filter(
  (t) =>
    filters.length === 0 ||
    filters.some((f) => t.name === f || t.name.startsWith(`${f}-`) || t.family.includes(f)),
);
const results = runTests(rs, tests);
const t2 = performance.now();
for (const r of results)
  if (!r.passed)
    console.log(
      `FAIL ${r.test.name} [${r.test.family}] ${r.test.desc.split('\n')[0]?.slice(0, 80)}\n     ${r.reason.slice(0, 600)}`,
    );
console.log(summary(results));
console.log(`load ${(t1 - t0).toFixed(0)} ms, ${rs.ruleCount} rules; run ${(t2 - t1).toFixed(0)} ms`);
