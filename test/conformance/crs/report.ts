/** The `N passed, M failed` summary and the per-family table the conformance run prints. */
import type { TestResult } from './runner.ts';

export function summary(results: readonly TestResult[]): string {
  const passed = results.filter((r) => r.passed).length;
  const byFamily = new Map<string, { pass: number; fail: number }>();
  for (const r of results) {
    const row = byFamily.get(r.test.family) ?? { pass: 0, fail: 0 };
    if (r.passed) row.pass++;
    else row.fail++;
    byFamily.set(r.test.family, row);
  }
  const width = Math.max(...[...byFamily.keys()].map((k) => k.length), 6);
  const lines = [`${'family'.padEnd(width)}  passed  failed`];
  for (const [family, row] of [...byFamily].sort(([a], [b]) => a.localeCompare(b))) {
    lines.push(`${family.padEnd(width)}  ${String(row.pass).padStart(6)}  ${String(row.fail).padStart(6)}`);
  }
  const pct = results.length === 0 ? 0 : (100 * passed) / results.length;
  lines.push(`${passed} passed, ${results.length - passed} failed of ${results.length} (${pct.toFixed(2)}%)`);
  return lines.join('\n');
}
