/**
 * Reads the go-ftw regression suite (https://github.com/coreruleset/ftw-tests-schema): one
 * YAML file per rule, each test a list of stages with an `input` request and an `output`
 * expectation.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { parse } from 'yaml';

export interface FtwInput {
  readonly dest_addr?: string;
  readonly port?: number;
  readonly method?: string;
  readonly uri?: string;
  readonly version?: string;
  readonly headers?: Readonly<Record<string, string | number>>;
  readonly data?: string;
  readonly encoded_request?: string;
  readonly autocomplete_headers?: boolean;
}

export interface FtwOutput {
  readonly status?: number | readonly number[];
  readonly expect_error?: boolean;
  readonly log?: {
    readonly expect_ids?: readonly number[];
    readonly no_expect_ids?: readonly number[];
    readonly match_regex?: string;
    readonly no_match_regex?: string;
  };
}

export interface FtwStage {
  readonly input: FtwInput;
  readonly output: FtwOutput;
}

export interface FtwTest {
  /** `<rule_id>-<test_id>`, as go-ftw and the override files name tests. */
  readonly name: string;
  readonly ruleId: number;
  readonly testId: number;
  /** The rule file family (`REQUEST-942-APPLICATION-ATTACK-SQLI`). */
  readonly family: string;
  readonly desc: string;
  readonly stages: readonly FtwStage[];
}

interface FtwFile {
  readonly rule_id: number;
  readonly tests: readonly { test_id: number; desc?: string; stages: FtwStage[] }[];
}

/**
 * Every test under `testsDir/<family>/*.yaml` (and `*.yml`: 999999.yml holds the common
 * false-positive cases of REQUEST-999), in directory order.
 */
export function readFtwTests(testsDir: string): FtwTest[] {
  const out: FtwTest[] = [];
  for (const family of readdirSync(testsDir).sort()) {
    for (const f of readdirSync(join(testsDir, family)).sort()) {
      if (!f.endsWith('.yaml') && !f.endsWith('.yml')) continue;
      const doc = parse(readFileSync(join(testsDir, family, f), 'utf8')) as FtwFile | null;
      // A file may be all comments (920539.yaml exists only to satisfy the CRS linter).
      if (doc === null || !Array.isArray(doc.tests)) continue;
      const ruleId = doc.rule_id ?? Number(basename(f).replace(/\.ya?ml$/, ''));
      for (const t of doc.tests) {
        out.push({
          name: `${ruleId}-${t.test_id}`,
          ruleId,
          testId: t.test_id,
          family,
          desc: t.desc ?? '',
          stages: t.stages,
        });
      }
    }
  }
  return out;
}
