/** Reads crs-overrides.yaml: the tests expected to fail, each with its reason. */
import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

export interface Override {
  /** `<rule_id>-<test_id>` */
  readonly test: string;
  readonly reason: string;
}

export function readOverrides(file: string): Map<string, string> {
  const doc = parse(readFileSync(file, 'utf8')) as { overrides?: Override[] } | null;
  const out = new Map<string, string>();
  for (const o of doc?.overrides ?? []) {
    if (typeof o.test !== 'string' || typeof o.reason !== 'string' || o.reason.trim() === '') {
      throw new Error(`${file}: every override needs a test name and a reason (${JSON.stringify(o)})`);
    }
    if (out.has(o.test)) throw new Error(`${file}: ${o.test} is listed twice`);
    out.set(o.test, o.reason);
  }
  return out;
}
