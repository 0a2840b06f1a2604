import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { loadRuleSet, type RequestInput, SecLangError } from './index.ts';

// CRS lives beside the repository (../shared/crs/v4.28.0 from the repo root), never inside it.
const CRS = resolve(import.meta.dirname, '../../../../../shared/crs/v4.28.0');
const SETUP = {
  file: 'setup.conf',
  text: 'SecAction "id:900000,phase:1,pass,nolog,setvar:tx.blocking_paranoia_level=1"',
};

const get = (query: string): RequestInput => ({
  method: 'GET',
  uri: `/search?${query}`,
  protocol: 'HTTP/1.1',
  headers: [
    ['Host', 'example.com'],
    ['User-Agent', 'Mozilla/5.0'],
    ['Accept', 'text/html'],
  ],
  remoteAddr: '192.0.2.1',
});

function idsFor(rs: ReturnType<typeof loadRuleSet>, req: RequestInput): number[] {
  const tx = rs.newTransaction(req);
  tx.processRequestHeaders();
  tx.processRequestBody('');
  return tx.matchedRules.filter((m) => m.log).map((m) => m.id);
}

test('CRS v4.28.0 loads with every rule compiled and blocks a SQL injection at paranoia 1', () => {
  const rs = loadRuleSet({ crsDir: CRS, before: [SETUP], ruleEngine: 'On' });
  assert.ok(rs.ruleCount > 600, `only ${rs.ruleCount} rules`);
  assert.deepEqual(idsFor(rs, get('q=shoes')), []);
  const tx = rs.newTransaction(get('q=1%27%20OR%20%271%27%3D%271'));
  tx.processRequestHeaders();
  tx.processRequestBody('');
  assert.equal(tx.interruption?.ruleId, 949110);
  assert.ok(tx.matchedRules.some((m) => m.id === 942100));
});

test('an exclusion after CRS stops one rule for one argument only', () => {
  const rs = loadRuleSet({
    crsDir: CRS,
    before: [SETUP],
    extra: [{ file: 'exclusions.conf', text: 'SecRuleUpdateTargetById 942100 "!ARGS:q"' }],
  });
  const attack = '1%27%20OR%20%271%27%3D%271';
  assert.ok(!idsFor(rs, get(`q=${attack}`)).includes(942100));
  assert.ok(idsFor(rs, get(`other=${attack}`)).includes(942100));
});

test('a CRS file that no longer parses stops the load at its file and line', () => {
  const file = join(CRS, 'rules/REQUEST-911-METHOD-ENFORCEMENT.conf');
  const text = readFileSync(file, 'latin1');
  const broken = text.replace('"!@within %{tx.allowed_methods}"', '"!@withinn %{tx.allowed_methods}"');
  assert.notEqual(broken, text);
  const line = broken.split('\n').findIndex((l) => l.includes('@withinn')) + 1;
  assert.throws(
    () => loadRuleSet({ before: [{ file, text: broken }] }),
    (e: unknown) =>
      e instanceof SecLangError &&
      e.file === file &&
      e.line === line &&
      /unknown operator @withinn/.test(e.message),
  );
});

test('per-operation exclusions, engine mode and TX values apply to one transaction only', () => {
  const rs = loadRuleSet({ crsDir: CRS, before: [SETUP], ruleEngine: 'On' });
  const attack = get('q=1%27%20OR%20%271%27%3D%271');
  const run = (opts: Parameters<typeof rs.newTransaction>[1]) => {
    const tx = rs.newTransaction(attack, opts);
    tx.processRequestHeaders();
    tx.processRequestBody('');
    return tx;
  };
  assert.equal(run({}).interruption?.ruleId, 949110);
  // The SQL injection rules stop inspecting q: nothing else scores, nothing blocks.
  const excluded = rs.compileExclusions({ targets: [{ tag: 'attack-sqli', target: 'ARGS:q' }] });
  assert.equal(run({ exclusions: excluded }).interruption, undefined);
  assert.equal(run({ exclusions: rs.compileExclusions({ tags: ['attack-sqli'] }) }).interruption, undefined);
  // Shadow mode: the same rules match, nothing is interrupted.
  const shadow = run({ ruleEngine: 'DetectionOnly' });
  assert.equal(shadow.interruption, undefined);
  assert.ok(shadow.matchedRules.some((m) => m.id === 949110));
  // A threshold above the score: detected, logged by 942100, not blocked.
  const lenient = run({ tx: { inbound_anomaly_score_threshold: 1000 } });
  assert.equal(lenient.interruption, undefined);
  assert.ok(lenient.matchedRules.some((m) => m.id === 942100));
  // The next transaction is unaffected by any of it.
  assert.equal(run({}).interruption?.ruleId, 949110);
});

test('exclusions naming what the rule set lacks are errors with the field', () => {
  const rs = loadRuleSet({ crsDir: CRS, before: [SETUP] });
  assert.throws(
    () => rs.compileExclusions({ ruleIds: [942999] }),
    /ruleIds\[0\]: no rule 942999 in the rule set/,
  );
  assert.doesNotThrow(() => rs.compileExclusions({ ruleIds: ['942100-942199', 920100] }));
  assert.throws(
    () => rs.compileExclusions({ tags: ['attack-sqlii'] }),
    /tags\[0\]: no rule is tagged "attack-sqlii"/,
  );
  assert.throws(
    () => rs.compileExclusions({ targets: [{ ruleId: 942100, target: 'ARGZ:q' }] }),
    /targets\[0\]\.target: unknown variable ARGZ/,
  );
  assert.throws(
    () => rs.compileExclusions({ targets: [{ target: 'ARGS:q' }] }),
    /exactly one of ruleId and tag/,
  );
  assert.throws(
    () => rs.compileExclusions({ targets: [{ ruleId: 942100, target: '!ARGS:q' }] }),
    /without ! or &/,
  );
});
