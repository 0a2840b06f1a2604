import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { configError, ERRORS, formatLocation, RampartError } from './errors.ts';

const SRC = resolve(import.meta.dirname, '..');

/** Every production source file under src/ (tests excluded: they may name codes on purpose). */
function sourceFiles(dir = SRC): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [path] : [];
  });
}

/** `RAMPART_ERR_*` codes written in the sources, with where each one appears. */
function codesInSources(): Map<string, string[]> {
  const found = new Map<string, string[]>();
  for (const file of sourceFiles()) {
    if (file === join(SRC, 'core', 'errors.ts')) continue;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, i) => {
      for (const [code] of line.matchAll(/RAMPART_ERR_[A-Z0-9_]+/g)) {
        found.set(code, [...(found.get(code) ?? []), `${relative(SRC, file)}:${i + 1}`]);
      }
    });
  }
  return found;
}

describe('the error catalogue', () => {
  it('has every RAMPART_ERR_* code used in src/', () => {
    const found = codesInSources();
    assert.ok(found.size >= 8, `the scan found only ${found.size} codes: is it reading src/?`);
    const missing = [...found].filter(([code]) => !Object.hasOwn(ERRORS, code));
    assert.deepEqual(missing, [], 'codes used in src/ but absent from ERRORS (src/core/errors.ts)');
  });

  it('has no entry that nothing in src/ uses', () => {
    const found = codesInSources();
    assert.deepEqual(
      Object.keys(ERRORS).filter((code) => !found.has(code)),
      [],
    );
  });

  it('names codes RAMPART_ERR_<AREA>[_<WHAT>] and documents each in a sentence', () => {
    for (const [code, doc] of Object.entries(ERRORS)) {
      assert.match(code, /^RAMPART_ERR_[A-Z]+(_[A-Z]+)*$/);
      assert.match(doc, /^[A-Z].{10,}\.$/, `${code} needs a one-sentence description`);
    }
  });
});

describe('RampartError', () => {
  it('prints one line per problem as file:line:column: field: message', () => {
    const err = new RampartError('RAMPART_ERR_CONFIG_SCHEMA', 'rampart.yaml has 2 invalid field(s)', [
      {
        location: { file: 'rampart.yaml', line: 3, column: 7 },
        field: 'server.listen',
        message: 'must be a list',
      },
      { location: { file: 'rampart.yaml' }, message: 'cannot read file (EACCES)' },
    ]);
    assert.equal(
      err.format(),
      [
        'RAMPART_ERR_CONFIG_SCHEMA: rampart.yaml has 2 invalid field(s)',
        '  rampart.yaml:3:7: server.listen: must be a list',
        '  rampart.yaml: cannot read file (EACCES)',
      ].join('\n'),
    );
  });

  it('prints the code and message alone when there is no problem list', () => {
    const err = new RampartError('RAMPART_ERR_LISTEN', 'cannot listen: EADDRINUSE');
    assert.equal(err.format(), 'RAMPART_ERR_LISTEN: cannot listen: EADDRINUSE');
    assert.deepEqual(err.problems, []);
  });

  it('is an Error with a stable code that switch statements can narrow on', () => {
    const err = configError('RAMPART_ERR_CONFIG_CIDR', {
      location: { file: 'f.yaml', line: 1 },
      field: 'server.trustedProxies[0]',
      message: '"x" is not an IPv4 or IPv6 address',
    });
    assert.ok(err instanceof Error);
    assert.equal(err.name, 'RampartError');
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_CIDR');
    assert.equal(err.message, '"x" is not an IPv4 or IPv6 address');
    assert.equal(err.problems.length, 1);
  });

  it('formats a location without a column as column 1', () => {
    assert.equal(formatLocation({ file: 'a.yaml', line: 4 }), 'a.yaml:4:1:');
    assert.equal(formatLocation({ file: 'a.yaml' }), 'a.yaml:');
  });
});
