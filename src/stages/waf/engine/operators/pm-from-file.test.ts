import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createOperator } from './index.ts';
import { FakeTx, rejects } from './vectors.test-helper.ts';

const CRS_RULES = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../../../shared/crs/v4.28.0/rules',
);

function dataDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-pmf-'));
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text, 'latin1');
  return dir;
}

test('@pmFromFile reads phrases relative to the rule file, skipping comments and blank lines', () => {
  const dir = dataDir({ 'a.data': '# comment\n\n  # indented comment\nfoo\r\nbar baz\n' });
  const op = createOperator('pmFromFile', 'a.data', { dir, file: join(dir, 'r.conf'), line: 3 });
  const tx = new FakeTx();
  assert.equal(op.match('xFOOx', tx), true);
  assert.equal(op.match('bar baz', tx), true);
  assert.equal(op.match('bar', tx), false, 'a line is one phrase, spaces included');
  assert.equal(op.match('comment', tx), false);
});

test('@pmFromFile and @pmf take several files', () => {
  const dir = dataDir({ 'a.data': 'alpha\n', 'b.data': 'beta\n' });
  for (const name of ['pmFromFile', 'pmf']) {
    const op = createOperator(name, 'a.data b.data', { dir, file: 'r.conf', line: 1 });
    assert.equal(op.match('..beta..', new FakeTx()), true);
    assert.equal(op.match('..alpha..', new FakeTx()), true);
    assert.equal(op.match('gamma', new FakeTx()), false);
  }
});

test('@pmFromFile keeps leading spaces of a phrase, as ModSecurity does', () => {
  const dir = dataDir({ 'a.data': ' in query expression\n' });
  const op = createOperator('pmFromFile', 'a.data', { dir, file: 'r.conf', line: 1 });
  assert.equal(op.match('error in query expression', new FakeTx()), true);
  assert.equal(op.match('errorin query expression', new FakeTx()), false);
});

test('@pmFromFile loads the CRS data files', () => {
  const op = createOperator('pmFromFile', 'lfi-os-files.data', { dir: CRS_RULES, file: 'x.conf', line: 1 });
  assert.equal(op.match('/ETC/PASSWD', new FakeTx()), true);
  assert.equal(op.match('/home/user/readme', new FakeTx()), false);
});

rejects('pmFromFile', 'missing.data', /cannot read data file .*missing\.data/);
rejects('pmFromFile', 'https://example.com/list.data', /remote data files/);
rejects('pmFromFile', '', /no data file/);
