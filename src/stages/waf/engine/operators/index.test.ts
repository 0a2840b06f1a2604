import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createOperator } from './index.ts';
import { ENV, FakeTx } from './vectors.test-helper.ts';

const CRS_RULES = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../../../shared/crs/v4.28.0/rules',
);

test('an unknown operator is a load error naming it', () => {
  assert.throws(() => createOperator('rxx', 'a', ENV), /unknown operator @rxx/);
});

test('operator names are case-insensitive', () => {
  assert.equal(createOperator('BEGINSWITH', 'a', ENV).match('abc', new FakeTx()), true);
});

test('every operator CRS v4.28.0 uses, with its parameter, builds', () => {
  const names = new Set<string>();
  let built = 0;
  for (const file of readdirSync(CRS_RULES).filter((f) => f.endsWith('.conf'))) {
    const text = readFileSync(resolve(CRS_RULES, file), 'latin1').replace(/\\\r?\n/g, '');
    for (const m of text.matchAll(/"!?@([a-zA-Z0-9]+)(?: ((?:[^"\\]|\\.)*))?"/g)) {
      const name = m[1] as string;
      names.add(name);
      createOperator(name, (m[2] ?? '').replace(/\\"/g, '"'), { dir: CRS_RULES, file, line: 0 });
      built++;
    }
  }
  assert.ok(names.size >= 19, `CRS uses ${names.size} operators`);
  assert.ok(built > 600, `built ${built} operators`);
});
