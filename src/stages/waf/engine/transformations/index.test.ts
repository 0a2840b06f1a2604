import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { getTransformation } from './index.ts';

const CRS_RULES = resolve(
  dirname(fileURLToPath(import.meta.url)),
  '../../../../../../shared/crs/v4.28.0/rules',
);

test('names are case-insensitive; unknown names and none are not transformations', () => {
  assert.equal(getTransformation('URLDECODEUNI'), getTransformation('urlDecodeUni'));
  assert.equal(getTransformation('noSuchThing'), undefined);
  assert.equal(getTransformation('none'), undefined);
});

test('every t: name CRS v4.28.0 uses in a rule is a transformation', () => {
  const used = new Set<string>();
  for (const file of readdirSync(CRS_RULES).filter((f) => f.endsWith('.conf'))) {
    const rules = readFileSync(resolve(CRS_RULES, file), 'latin1')
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('#'))
      .join('\n');
    for (const m of rules.matchAll(/\bt:([A-Za-z0-9]+)/g)) used.add(m[1] as string);
  }
  used.delete('none');
  assert.ok(used.size >= 19, `found ${used.size} transformation names`);
  const missing = [...used].filter((name) => getTransformation(name) === undefined);
  assert.deepEqual(missing, []);
});
