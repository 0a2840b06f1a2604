/**
 * Runs the CRS go-ftw regression suite in-process: one rule set (CRS with the suite's setup),
 * one transaction per stage through phases 1–5, with a `/reflect` backend like go-ftw's
 * albedo. The "error log" a stage produces is one ModSecurity-style line per logged rule,
 * which `expect_ids`, `no_expect_ids` and `match_regex` are checked against.
 */
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadRuleSet, type RuleSet, type Transaction } from '../../../src/stages/waf/engine/index.ts';
import { frame, rejects } from './front-door.ts';
import { type FtwStage, type FtwTest, readFtwTests } from './ftw.ts';
import { buildRequest } from './request.ts';

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../..');
/** CRS lives beside the repository (`../shared/crs/v4.28.0`), never inside it. */
export const CRS_DIR = resolve(repoRoot, '../shared/crs/v4.28.0');
export const TESTS_DIR = join(CRS_DIR, 'tests/regression/tests');

/**
 * The suite's documented setup (tests/regression/README.md): detection only, every paranoia
 * level evaluated, and the limits the tests were written against.
 */
export const SUITE_SETUP = `
SecAction "id:900005,phase:1,nolog,pass,\\
  ctl:ruleEngine=DetectionOnly,\\
  ctl:ruleRemoveById=910000,\\
  setvar:tx.blocking_paranoia_level=4,\\
  setvar:tx.detection_paranoia_level=4,\\
  setvar:tx.crs_validate_utf8_encoding=1,\\
  setvar:tx.arg_name_length=100,\\
  setvar:tx.arg_length=400,\\
  setvar:tx.total_arg_length=64000,\\
  setvar:tx.max_num_args=255,\\
  setvar:tx.max_file_size=64100,\\
  setvar:tx.combined_file_sizes=65535"
`;

export function loadSuiteRuleSet(): RuleSet {
  return loadRuleSet({
    crsDir: CRS_DIR,
    before: [{ file: join(repoRoot, 'test/conformance/crs/suite-setup.conf'), text: SUITE_SETUP }],
  });
}

export interface TestResult {
  readonly test: FtwTest;
  readonly passed: boolean;
  /** Why it failed (first failing assertion). */
  readonly reason: string;
  readonly ids: readonly number[];
}

export function runTests(rs: RuleSet, tests: readonly FtwTest[]): TestResult[] {
  return tests.map((t) => runTest(rs, t));
}

export function runTest(rs: RuleSet, test: FtwTest): TestResult {
  const ids: number[] = [];
  for (const stage of test.stages) {
    let out: StageResult;
    try {
      out = runStage(rs, stage);
    } catch (err) {
      return { test, passed: false, reason: `engine error: ${(err as Error).stack ?? err}`, ids };
    }
    ids.push(...out.ids);
    const reason = check(stage, out);
    if (reason !== undefined) return { test, passed: false, reason, ids };
  }
  return { test, passed: true, reason: '', ids };
}

interface StageResult {
  readonly ids: number[];
  readonly log: string;
  readonly status: number;
  /** The client could not read the response (go-ftw's `expect_error`). */
  readonly error: boolean;
}

function runStage(rs: RuleSet, stage: FtwStage): StageResult {
  const built = buildRequest(stage.input);
  if (rejects(built) !== undefined) return { ids: [], log: '', status: 400, error: false };
  const { request, body } = frame(built);
  const tx = rs.newTransaction(request);
  tx.processRequestHeaders();
  tx.processRequestBody(body);
  const res = reflect(request.uri, body);
  tx.processResponseHeaders({ status: res.status, protocol: 'HTTP/1.1', headers: res.headers });
  tx.processResponseBody(res.body);
  tx.processLogging();
  if (tx.error !== undefined)
    throw new Error(`rule ${tx.error.ruleId} (phase ${tx.error.phase}): ${tx.error.message}`);
  // An HTTP/0.9 response has no status line: go-ftw reports it as an error.
  const error = request.protocol === 'HTTP/0.9' && built.request.protocol === '';
  return { ids: loggedIds(tx), log: errorLog(tx), status: tx.interruption?.status ?? res.status, error };
}

/** go-ftw's backend: `/reflect` answers with the status, headers and body the JSON request names. */
function reflect(uri: string, body: string): { status: number; headers: [string, string][]; body: string } {
  const plain: [string, string][] = [['Content-Type', 'text/html; charset=utf-8']];
  if (!uri.startsWith('/reflect')) return { status: 200, headers: plain, body: '' };
  try {
    const spec = JSON.parse(Buffer.from(body, 'latin1').toString('utf8')) as {
      status?: number;
      headers?: Record<string, string>;
      body?: string;
      encodedBody?: string;
    };
    const headers =
      spec.headers === undefined
        ? plain
        : Object.entries(spec.headers).map(([k, v]) => [k, String(v)] as [string, string]);
    const text =
      spec.encodedBody !== undefined
        ? Buffer.from(spec.encodedBody, 'base64').toString('latin1')
        : Buffer.from(spec.body ?? '', 'utf8').toString('latin1');
    return { status: spec.status ?? 200, headers, body: text };
  } catch {
    return { status: 200, headers: plain, body: '' };
  }
}

function loggedIds(tx: Transaction): number[] {
  return tx.matchedRules.filter((m) => m.log && m.id > 0).map((m) => m.id);
}

/** ModSecurity's log escaping: controls and non-ASCII bytes as \xHH, so one rule is one line. */
function esc(s: string): string {
  return s.replace(/[^\x20-\x7e]|["\\]/g, (c) =>
    c === '"' || c === '\\' ? `\\${c}` : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
}

/** ModSecurity's error-log line per logged rule (what go-ftw greps). */
function errorLog(tx: Transaction): string {
  return tx.matchedRules
    .filter((m) => m.log)
    .map((m) => {
      const last = m.matches.at(-1);
      const matched =
        last === undefined
          ? ''
          : `Matched against variable \`${last.name}' (Value: \`${esc(last.value.slice(0, 200))}') `;
      const tags = m.tags.map((t) => `[tag "${t}"]`).join(' ');
      return `Rampart: Warning. ${matched}[file "${m.file}"] [line "${m.line}"] [id "${m.id}"] [msg "${esc(m.msg)}"] [data "${esc(m.logdata)}"] [severity "${m.severity ?? ''}"] [ver "${m.ver ?? ''}"] ${tags}`;
    })
    .join('\n');
}

function check(stage: FtwStage, out: StageResult): string | undefined {
  const o = stage.output;
  const log = o.log;
  if (log?.expect_ids !== undefined) {
    const missing = log.expect_ids.filter((id) => !out.ids.includes(id));
    if (missing.length > 0)
      return `expected ids ${missing.join(',')} did not match (matched: ${[...new Set(out.ids)].join(',')})`;
  }
  if (log?.no_expect_ids !== undefined) {
    const present = log.no_expect_ids.filter((id) => out.ids.includes(id));
    if (present.length > 0) return `ids ${present.join(',')} matched but must not`;
  }
  if (log?.match_regex !== undefined && !new RegExp(log.match_regex, 'm').test(out.log))
    return `log does not match /${log.match_regex}/`;
  if (log?.no_match_regex !== undefined && new RegExp(log.no_match_regex, 'm').test(out.log))
    return `log matches /${log.no_match_regex}/`;
  if (o.status !== undefined && !out.error) {
    const want = Array.isArray(o.status) ? o.status : [o.status];
    if (!want.includes(out.status)) return `status ${out.status}, expected ${want.join(' or ')}`;
  }
  if (o.expect_error === true && !out.error) return 'expected the client to fail reading the response';
  return undefined;
}

export function loadSuite(): FtwTest[] {
  return readFtwTests(TESTS_DIR);
}
