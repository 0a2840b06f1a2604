import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { stringify } from 'yaml';
import { readYamlFile } from '../config/yaml-source.ts';
import { RampartError } from '../core/errors.ts';
import { loadOpenApi, type OpenApiDocument } from './document.ts';

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/openapi');
const PETS_30 = join(FIXTURES, 'petstore-3.0.yaml');
const PETS_31 = join(FIXTURES, 'petstore-3.1.json');
const dir = mkdtempSync(join(tmpdir(), 'rampart-openapi-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, lines: readonly string[]): string {
  const file = join(dir, name);
  writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

function refused(file: string): RampartError {
  try {
    loadOpenApi(file);
  } catch (err) {
    if (err instanceof RampartError) return err;
    throw err;
  }
  return assert.fail(`expected ${file} to be refused`);
}

function summary(doc: OpenApiDocument): string[] {
  return doc.operations.map((o) => `${o.method} ${o.path} ${o.operationId}`);
}

const HEAD_30 = ['openapi: 3.0.3', 'info:', '  title: t', '  version: "1"'];
const HEAD_31 = ['openapi: 3.1.0', 'info:', '  title: t', '  version: "1"'];
const OK = ['      responses:', '        "200":', '          description: ok'];

describe('loading OpenAPI documents', () => {
  it('loads a 3.0 YAML document and lists its operations', () => {
    const doc = loadOpenApi(PETS_30);
    assert.equal(doc.version, '3.0');
    assert.deepEqual(summary(doc), [
      'GET /pets listPets',
      'POST /pets createPet',
      'GET /pets/{petId} GET /pets/{petId}',
      'GET /categories listCategories',
    ]);
    assert.deepEqual(doc.operations[0]!.location, { file: PETS_30, line: 11, column: 5 });
  });

  it('loads a 3.1 JSON document, following a path-item-level $ref', () => {
    const doc = loadOpenApi(PETS_31);
    assert.equal(doc.version, '3.1');
    assert.deepEqual(summary(doc), ['GET /pets listPets', 'DELETE /pets/{petId} deletePet']);
    assert.deepEqual(doc.operations[0]!.location, { file: PETS_31, line: 6, column: 7 });
    const byId = doc.operations[1]!.operation as { parameters?: unknown };
    assert.equal(byId.parameters, undefined, 'path-level parameters stay on the path item');
  });

  it('loads the same documents in the other syntax (3.0 as JSON, 3.1 as YAML) with the same operations', () => {
    const json30 = join(dir, 'petstore-3.0.json');
    writeFileSync(json30, JSON.stringify(readYamlFile(PETS_30).data, null, 2));
    const yaml31 = join(dir, 'petstore-3.1.yaml');
    writeFileSync(yaml31, stringify(readYamlFile(PETS_31).data));
    assert.deepEqual(summary(loadOpenApi(json30)), summary(loadOpenApi(PETS_30)));
    assert.deepEqual(summary(loadOpenApi(yaml31)), summary(loadOpenApi(PETS_31)));
  });

  it('names an operation without operationId `METHOD /path`', () => {
    const file = write('no-id.yaml', [...HEAD_30, 'paths:', '  /orders/{id}:', '    put:', ...OK]);
    assert.deepEqual(summary(loadOpenApi(file)), ['PUT /orders/{id} PUT /orders/{id}']);
  });

  it('takes an operation-level security requirement over the document-level one', () => {
    const ops = loadOpenApi(PETS_30).operations;
    const security = Object.fromEntries(ops.map((o) => [o.operationId, o.security]));
    assert.deepEqual(security.listPets, [{ apiKey: [] }]);
    assert.deepEqual(security['GET /pets/{petId}'], [{}]);
    assert.deepEqual(security.createPet, [{ apiKey: [] }]);
  });

  it('leaves security undefined when neither the document nor the operation declares one', () => {
    const ops = loadOpenApi(join(FIXTURES, 'no-security.yaml')).operations;
    const security = Object.fromEntries(ops.map((o) => [o.operationId, o.security]));
    assert.equal(security.forgotten, undefined);
    assert.deepEqual(security.anonymous, [{}]);
    assert.deepEqual(security.secured, [{ bearer: [] }]);
  });

  describe('refuses an invalid document with RAMPART_ERR_OPENAPI_INVALID, located', () => {
    it('a 3.0 operation without `responses`', () => {
      const file = write('no-responses.yaml', [
        ...HEAD_30,
        'paths:',
        '  /a:',
        '    get:',
        '      operationId: a',
      ]);
      const err = refused(file);
      assert.equal(err.code, 'RAMPART_ERR_OPENAPI_INVALID');
      assert.match(err.message, /is not a valid OpenAPI 3\.0 document/);
      assert.deepEqual(err.problems, [
        {
          location: { file, line: 8, column: 7 },
          field: 'paths./a.get',
          message: 'missing required field "responses"',
        },
      ]);
    });

    for (const [version, head] of [
      ['3.0', HEAD_30],
      ['3.1', HEAD_31],
    ] as const) {
      it(`a parameter with a bad \`in:\` value (${version})`, () => {
        const file = write(`bad-in-${version}.yaml`, [
          ...head,
          'paths:',
          '  /a:',
          '    get:',
          '      parameters:',
          '        - name: x',
          '          in: body',
          '          schema: { type: string }',
          ...OK,
        ]);
        const err = refused(file);
        assert.equal(err.code, 'RAMPART_ERR_OPENAPI_INVALID');
        const atIn = err.problems.filter((p) => p.field === 'paths./a.get.parameters[0].in');
        assert.ok(atIn.length > 0, err.format());
        for (const p of atIn) assert.deepEqual(p.location, { file, line: 10, column: 15 });
        assert.ok(
          atIn.some((p) => /must be one of: .*query/.test(p.message)),
          err.format(),
        );
      });
    }

    it('an unknown field in a 3.0 operation, at its key', () => {
      const file = write('unknown.yaml', [
        ...HEAD_30,
        'paths:',
        '  /a:',
        '    get:',
        '      operatonId: a',
        ...OK,
      ]);
      const err = refused(file);
      const p = err.problems.find((x) => x.field === 'paths./a.get.operatonId');
      assert.ok(p, err.format());
      assert.deepEqual(p.location, { file, line: 8, column: 7 });
    });

    for (const [label, first, column] of [
      ['openapi: 2.0', 'openapi: 2.0', 10],
      ['openapi: "2.0"', 'openapi: "2.0"', 10],
      ['openapi: 3.0 (a number, not a version)', 'openapi: 3.0', 10],
      ['openapi: 3.2.0', 'openapi: 3.2.0', 10],
      ['swagger: "2.0"', 'swagger: "2.0"', 1],
    ] as const) {
      it(`a document declaring ${label}`, () => {
        const file = write('version.yaml', [first, 'info:', '  title: t', '  version: "1"', 'paths: {}']);
        const err = refused(file);
        assert.equal(err.code, 'RAMPART_ERR_OPENAPI_INVALID');
        assert.equal(err.problems[0]!.field, 'openapi');
        assert.deepEqual(err.problems[0]!.location, { file, line: 1, column });
        assert.match(err.message, /must be an OpenAPI 3\.0\.x or 3\.1\.x version string/);
      });
    }

    it('two operations sharing an operationId, at the second', () => {
      const file = write('dup-id.yaml', [
        ...HEAD_30,
        'paths:',
        '  /a:',
        '    get:',
        '      operationId: same',
        ...OK,
        '  /b:',
        '    post:',
        '      operationId: same',
        ...OK,
      ]);
      const err = refused(file);
      assert.equal(err.code, 'RAMPART_ERR_OPENAPI_INVALID');
      assert.equal(err.problems[0]!.field, 'paths./b.post.operationId');
      assert.deepEqual(err.problems[0]!.location, { file, line: 14, column: 20 });
      assert.match(err.message, /operationId "same" is already used by GET \/a/);
    });

    it('a generated `METHOD /path` id that collides with a declared operationId', () => {
      const file = write('dup-generated.yaml', [
        ...HEAD_30,
        'paths:',
        '  /a:',
        '    get:',
        ...OK,
        '  /b:',
        '    get:',
        '      operationId: GET /a',
        ...OK,
      ]);
      assert.equal(refused(file).code, 'RAMPART_ERR_OPENAPI_INVALID');
    });

    for (const [template, reason] of [
      ['/a/{id', /unbalanced or empty \{parameter\} template in segment "\{id"/],
      ['/a/id}', /unbalanced or empty/],
      ['/a/{}', /unbalanced or empty/],
      ['/a/{{id}}', /unbalanced or empty/],
      ['/a/{id}/b/{id}', /path parameter \{id\} appears twice/],
    ] as const) {
      it(`the path template ${template}, at the path`, () => {
        const file = write('template.yaml', [...HEAD_30, 'paths:', `  "${template}":`, '    get:', ...OK]);
        const err = refused(file);
        assert.equal(err.code, 'RAMPART_ERR_OPENAPI_INVALID');
        assert.equal(err.problems[0]!.field, `paths.${template}`);
        assert.deepEqual(err.problems[0]!.location, { file, line: 6, column: 3 });
        assert.match(err.message, reason);
      });
    }
  });

  it('accepts a parameter that fills part of a segment (/files/{name}.json)', () => {
    const file = write('partial.yaml', [
      ...HEAD_30,
      'paths:',
      '  /files/{name}.json:',
      '    get:',
      '      parameters:',
      '        - { name: name, in: path, required: true, schema: { type: string } }',
      ...OK,
    ]);
    assert.deepEqual(summary(loadOpenApi(file)), ['GET /files/{name}.json GET /files/{name}.json']);
  });

  it('refuses an external $ref with RAMPART_ERR_OPENAPI_REF at the reference', () => {
    const file = write('external.yaml', [
      ...HEAD_30,
      'paths:',
      '  /a:',
      '    get:',
      '      responses:',
      '        "200":',
      '          $ref: "other.yaml#/components/responses/Ok"',
    ]);
    const err = refused(file);
    assert.equal(err.code, 'RAMPART_ERR_OPENAPI_REF');
    assert.deepEqual(err.problems[0]!.location, { file, line: 10, column: 11 });
  });

  it('uses the same safe YAML loader: tags and alias bombs are refused', () => {
    const tagged = write('tagged.yaml', [...HEAD_30, 'paths: !!js/function "x"']);
    assert.equal(refused(tagged).code, 'RAMPART_ERR_CONFIG_YAML');
    const lines = [...HEAD_30, 'x-a: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]'];
    for (let i = 1; i < 10; i++) {
      const prev = String.fromCharCode(96 + i);
      const name = String.fromCharCode(97 + i);
      lines.push(`x-${name}: &${name} [${Array(9).fill(`*${prev}`).join(', ')}]`);
    }
    const err = refused(write('bomb.yaml', [...lines, 'paths: {}']));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_YAML');
    assert.match(err.format(), /alias/i);
  });

  it('refuses a missing document with RAMPART_ERR_CONFIG_FILE', () => {
    assert.equal(refused(join(dir, 'absent.yaml')).code, 'RAMPART_ERR_CONFIG_FILE');
  });
});
