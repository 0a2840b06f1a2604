import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RampartError } from '../core/errors.ts';
import { CONFIG_LIMITS, parseYaml, readYamlFile } from './yaml-source.ts';

const dir = mkdtempSync(join(tmpdir(), 'rampart-yaml-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const file = join(dir, name);
  writeFileSync(file, text);
  return file;
}

function refused(load: () => unknown): RampartError {
  try {
    load();
  } catch (err) {
    if (err instanceof RampartError) return err;
    throw err;
  }
  return assert.fail('expected the file to be refused');
}

/** Nine levels of nine aliases each: 9^9 (387 million) strings once expanded. */
function billionLaughs(): string {
  const lines = ['a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
  for (let i = 1; i < 10; i++) {
    const prev = String.fromCharCode(96 + i);
    const name = String.fromCharCode(97 + i);
    lines.push(`${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
  }
  return `${lines.join('\n')}\n`;
}

describe('safe YAML loading', () => {
  describe('refuses tags that could build objects other than plain data', () => {
    for (const [tag, value] of [
      ['!!js/function', '"function () { return process.exit(1) }"'],
      ['!foo', 'bar'],
      ['!!binary', 'aGVsbG8='],
      ['!!timestamp', '2001-12-14'],
      ['!!set', '{ a, b }'],
    ] as const) {
      it(`${tag} is RAMPART_ERR_CONFIG_YAML at the tag's line and column`, () => {
        const err = refused(() => parseYaml('tags.yaml', `version: 1\nserver:\n  x: ${tag} ${value}\n`));
        assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
        assert.equal(err.problems.length, 1);
        assert.deepEqual(err.problems[0]!.location, { file: 'tags.yaml', line: 3, column: 6 });
        assert.match(err.problems[0]!.message, /custom tags are not allowed/);
        assert.match(err.format(), /tags\.yaml:3:6: custom tags are not allowed/);
      });
    }

    it('still accepts the YAML 1.2 core tags (!!str)', () => {
      assert.deepEqual(parseYaml('core.yaml', 'a: !!str 12\n').data, { a: '12' });
    });
  });

  it('refuses a duplicate key at the second occurrence', () => {
    const err = refused(() =>
      parseYaml(
        'dup.yaml',
        ['version: 1', 'apis:', '  shop:', '    openapi: a.yaml', '    openapi: b.yaml'].join('\n'),
      ),
    );
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
    assert.deepEqual(err.problems[0]!.location, { file: 'dup.yaml', line: 5, column: 5 });
    assert.match(err.problems[0]!.message, /duplicate key/);
  });

  it('refuses a duplicate key in a JSON document too', () => {
    const err = refused(() => parseYaml('dup.json', '{\n  "version": 1,\n  "version": 2\n}\n'));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
    assert.deepEqual(err.problems[0]!.location, { file: 'dup.json', line: 3, column: 3 });
  });

  it('refuses an alias bomb (billion laughs) at the alias limit without expanding it', {
    timeout: 10_000,
  }, () => {
    const file = write('bomb.yaml', billionLaughs());
    const err = refused(() => readYamlFile(file));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
    assert.equal(err.problems[0]!.location.file, file);
    assert.match(err.problems[0]!.message, /alias/i);
  });

  it('accepts a few aliases below the limit', () => {
    const source = parseYaml('alias.yaml', 'a: &x [1, 2]\nb: *x\n');
    assert.deepEqual(source.data, { a: [1, 2], b: [1, 2] });
  });

  it('refuses a file over the size limit with RAMPART_ERR_CONFIG_FILE, before parsing it', () => {
    const file = write('big.yaml', `# ${'x'.repeat(CONFIG_LIMITS.maxBytes)}\n`);
    const err = refused(() => readYamlFile(file));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_FILE');
    assert.equal(err.problems[0]!.location.file, file);
    assert.match(err.message, new RegExp(`over the ${CONFIG_LIMITS.maxBytes}-byte limit`));
  });

  it('accepts a file at exactly the size limit', () => {
    const file = write('limit.yaml', `a: ${'x'.repeat(61)}\n`);
    assert.deepEqual(readYamlFile(file, { maxBytes: 65, maxAliases: 0 }).data, { a: 'x'.repeat(61) });
    const over = write('over.yaml', `a: ${'x'.repeat(62)}\n`);
    assert.equal(
      refused(() => readYamlFile(over, { maxBytes: 65, maxAliases: 0 })).code,
      'RAMPART_ERR_CONFIG_FILE',
    );
  });

  it('reports a missing file as RAMPART_ERR_CONFIG_FILE naming the file', () => {
    const file = join(dir, 'absent.yaml');
    const err = refused(() => readYamlFile(file));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_FILE');
    assert.equal(err.problems[0]!.location.file, file);
    assert.match(err.message, /ENOENT/);
  });

  it('does not honour merge keys: `<<` stays an ordinary key and nothing is merged', () => {
    const source = parseYaml('merge.yaml', 'base: &b\n  host: 0.0.0.0\nserver:\n  <<: *b\n  port: 1\n');
    const server = (source.data as { server: Record<string, unknown> }).server;
    assert.equal(server.host, undefined);
    assert.deepEqual(Object.keys(server).sort(), ['<<', 'port']);
  });

  it('does not honour merge keys under a %YAML 1.1 directive either', () => {
    const source = parseYaml('merge11.yaml', '%YAML 1.1\n---\nbase: &b {host: 0.0.0.0}\nserver:\n  <<: *b\n');
    assert.equal((source.data as { server: Record<string, unknown> }).server.host, undefined);
  });

  it('locates a syntax error at its line and column', () => {
    const err = refused(() => parseYaml('syntax.yaml', 'version: 1\napis: b: c\n'));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
    assert.deepEqual(err.problems[0]!.location, { file: 'syntax.yaml', line: 2, column: 7 });
    assert.match(
      err.format(),
      /^RAMPART_ERR_CONFIG_YAML: syntax\.yaml is not valid YAML\n {2}syntax\.yaml:2:7: /,
    );
  });

  it('locates a JSON syntax error at its column', () => {
    const err = refused(() => parseYaml('bad.json', '{"version": 1,, "apis": {}}'));
    assert.deepEqual(err.problems[0]!.location, { file: 'bad.json', line: 1, column: 15 });
  });

  it('refuses tabs used as indentation', () => {
    const err = refused(() => parseYaml('tabs.yaml', 'server:\n\tlisten: []\n'));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
    assert.equal(err.problems[0]!.location.line, 2);
  });

  it('refuses a stream of several documents', () => {
    const err = refused(() => parseYaml('multi.yaml', 'version: 1\n---\nversion: 2\n'));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
  });

  it('locates any field path, falling back to its closest existing parent', () => {
    const source = parseYaml('loc.yaml', 'server:\n  listen:\n    - host: 127.0.0.1\n      port: 80\n');
    assert.deepEqual(source.locate(['server', 'listen', 0, 'port']), {
      file: 'loc.yaml',
      line: 4,
      column: 13,
    });
    assert.deepEqual(source.locate(['server', 'listen', 0, 'tls']), { file: 'loc.yaml', line: 3, column: 7 });
    assert.deepEqual(source.locate(['apis']), { file: 'loc.yaml', line: 1, column: 1 });
  });
});
