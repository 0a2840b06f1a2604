import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import { CRS_TESTS, type CrsCase, loadCases, sqliTransform, xssTransform } from './crs-inputs.test-helper.ts';
import { detectSQLi } from './sqli/index.ts';
import { detectXSS } from './xss/index.ts';

/**
 * The CRS regression tests of the rules that call the detectors, run on the detectors alone:
 * each rule's targets (from its SecRule line) and transformations, approximated by
 * crs-inputs.test-helper.ts. The full engine runs the same tests in test/conformance.
 */

interface DetectorRule {
  readonly id: number;
  readonly file: string;
  readonly targets: (c: CrsCase) => string[];
  readonly detect: (value: string) => boolean;
}

const sqli = (v: string) => detectSQLi(sqliTransform(v)).match;
const xss = (v: string) => detectXSS(xssTransform(v));
const header = (c: CrsCase, name: string) => c.headers[name] ?? '';

const RULES: readonly DetectorRule[] = [
  {
    id: 942100,
    file: 'REQUEST-942-APPLICATION-ATTACK-SQLI/942100.yaml',
    targets: (c) => [...c.args, ...c.cookies, header(c, 'user-agent'), header(c, 'referer')],
    detect: sqli,
  },
  {
    id: 942101,
    file: 'REQUEST-942-APPLICATION-ATTACK-SQLI/942101.yaml',
    targets: (c) => [c.basename, c.filename],
    detect: sqli,
  },
  {
    id: 941100,
    file: 'REQUEST-941-APPLICATION-ATTACK-XSS/941100.yaml',
    targets: (c) => [...c.args, ...c.cookies, header(c, 'user-agent')],
    detect: xss,
  },
  {
    id: 941101,
    file: 'REQUEST-941-APPLICATION-ATTACK-XSS/941101.yaml',
    targets: (c) => [c.filename, header(c, 'referer')],
    detect: xss,
  },
];

function fires(rule: DetectorRule, c: CrsCase): boolean {
  return rule.targets(c).some((v) => v !== '' && rule.detect(v));
}

/**
 * Negative tests of other rules on which a detector fires, each checked by hand: real
 * injections, or markup a detector flags on purpose, that those tests use to show a
 * different rule stays quiet.
 */
const KNOWN_HITS: Readonly<Record<number, readonly string[]>> = {
  942100: [
    '942120-30', // `user'collate foo--`: breakout, operator, comment
    '942350-9', // `/*';INSERT INTO category(id) VALUES (3)-- -*/`: a stacked INSERT
    '942360-29', // `||(SELECT(DBMS_LDAP.INIT(…)))FROM(DUAL))`: Oracle out-of-band subquery
    '942360-30', // `'||(select(pg_sleep(15))where(true))||'`: time-based blind
    '942360-31', // `UNION ALL SELECT NULL,NULL,CONCAT(…)-- sqCV`: sqlmap UNION probe
    '942520-17', // `x'~email--`: breakout, operator, comment
    '942521-15', // `\'lol' or '1`: tautology
    '942522-5', // `'or'1`: tautology
  ],
  942101: [],
  // `<?xml version="1.0"?><svg></svg>`: a PHP-injection negative; an SVG root is flagged.
  941100: ['933100-64'],
  // `Referer: …?input=<script xmlns=…>`: 941100 does not read the Referer; 941101 (PL2) does.
  941101: ['941100-5'],
};

// The CRS copy lives beside the project (../shared/crs); in CI its absence is a failure.
const skip = !existsSync(CRS_TESTS) && process.env.CI !== 'true' && `CRS tests not found at ${CRS_TESTS}`;

describe('detectors on the CRS regression tests', { skip }, () => {
  for (const rule of RULES) {
    it(`${rule.id}: every expect_ids test fires and every no_expect_ids test does not`, () => {
      const failed = loadCases(rule.file)
        .filter((c) =>
          c.expect.includes(rule.id) ? !fires(rule, c) : c.noExpect.includes(rule.id) && fires(rule, c),
        )
        .map((c) => c.id);
      assert.deepEqual(failed, []);
    });
  }

  it('stays quiet on the negative tests of the whole suite, but for known injections', () => {
    const negatives = loadCases().filter((c) => c.expect.length === 0 && c.noExpect.length > 0);
    assert.ok(negatives.length > 500);
    for (const rule of RULES) {
      const hits = negatives.filter((c) => fires(rule, c)).map((c) => c.id);
      assert.deepEqual(hits, KNOWN_HITS[rule.id], `rule ${rule.id}`);
    }
  });
});
