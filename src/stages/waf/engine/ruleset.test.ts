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
