import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { parseYaml } from '../config/yaml-source.ts';
import { RampartError } from '../core/errors.ts';
import { dereference } from './deref.ts';
import { loadOpenApi } from './document.ts';

// biome-ignore lint/suspicious/noExplicitAny: dereferenced OpenAPI is untyped JSON, read here by known paths.
type Json = Record<string, any>;

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/openapi');

function deref(lines: readonly string[]): Json {
  return dereference(parseYaml('doc.yaml', `${lines.join('\n')}\n`));
}

function refused(lines: readonly string[]): RampartError {
  try {
    deref(lines);
  } catch (err) {
    if (err instanceof RampartError) return err;
    throw err;
  }
  return assert.fail('expected the $ref to be refused');
}

describe('local $ref dereferencing', () => {
  const doc = loadOpenApi(resolve(FIXTURES, 'petstore-3.0.yaml')).document as Json;

  it('replaces a components/parameters reference with the parameter', () => {
    assert.deepEqual(doc.paths['/pets'].get.parameters, [
      { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 100 } },
    ]);
    assert.equal(doc.paths['/pets/{petId}'].parameters[0].name, 'petId');
  });

  it('replaces a components/responses reference with the response', () => {
    assert.equal(doc.paths['/pets'].get.responses.default.description, 'A problem');
    assert.equal(doc.paths['/pets/{petId}'].get.responses['404'].description, 'A problem');
  });

  it('replaces a components/schemas reference with the schema', () => {
    const pet = doc.paths['/pets'].post.requestBody.content['application/json'].schema;
    assert.deepEqual(pet.required, ['id', 'name']);
    assert.equal(pet, doc.components.schemas.Pet, 'one object per target, not one copy per use');
  });

  it('turns a recursive schema into a cycle instead of recursing forever', () => {
    const category = doc.components.schemas.Category;
    assert.equal(category.properties.children.items, category);
    const viaPath = doc.paths['/categories'].get.responses['200'].content['application/json'].schema;
    assert.equal(viaPath, category);
  });

  it('leaves no $ref anywhere in the result', () => {
    const seen = new Set<object>();
    const visit = (node: unknown): void => {
      if (node === null || typeof node !== 'object' || seen.has(node)) return;
      seen.add(node);
      assert.ok(!Object.hasOwn(node, '$ref'), JSON.stringify(Object.keys(node)));
      for (const child of Object.values(node)) visit(child);
    };
    visit(doc);
  });

  it('follows a path-item-level $ref (3.1 components/pathItems)', () => {
    const doc31 = loadOpenApi(resolve(FIXTURES, 'petstore-3.1.json')).document as Json;
    assert.equal(doc31.paths['/pets/{petId}'].delete.operationId, 'deletePet');
    assert.equal(doc31.paths['/pets/{petId}'].parameters[0].in, 'path');
    const pet = doc31.components.schemas.Pet;
    assert.equal(pet.properties.parent, pet);
  });

  it('follows a chain of references, and JSON-pointer escapes (~1, ~0, %20)', () => {
    const out = deref([
      'a: { $ref: "#/b" }',
      'b: { $ref: "#/c~1d" }',
      'c/d: { $ref: "#/e~0f" }',
      'e~f: { $ref: "#/g%20h" }',
      'g h: { $ref: "#/list/1" }',
      'list: [zero, one]',
    ]);
    assert.equal(out.a, 'one');
  });

  it('lets sibling fields beside a $ref override the target (3.1 summary/description)', () => {
    const out = deref([
      'a:',
      '  $ref: "#/b"',
      '  description: local',
      'b:',
      '  type: string',
      '  description: shared',
    ]);
    assert.deepEqual(out.a, { type: 'string', description: 'local' });
    assert.deepEqual(out.b, { type: 'string', description: 'shared' });
  });

  it('does not change the parsed source', () => {
    const source = parseYaml('doc.yaml', 'a: { $ref: "#/b" }\nb: 1\n');
    dereference(source);
    assert.deepEqual(source.data, { a: { $ref: '#/b' }, b: 1 });
  });

  describe('refuses with RAMPART_ERR_OPENAPI_REF at the reference', () => {
    for (const [label, ref, reason] of [
      ['a reference into another file', 'other.yaml#/components/schemas/Pet', /external \$ref/],
      ['a whole other file', './pet.json', /external \$ref/],
      ['an http:// URL', 'http://example.com/schemas/pet.json', /external \$ref/],
      ['an https:// URL with a pointer', 'https://example.com/api.yaml#/x', /external \$ref/],
      ['a pointer to nothing', '#/components/schemas/Missing', /points to nothing/],
      ['a pointer past a scalar', '#/components/schemas/Pet/type/deeper', /points to nothing/],
      ['a malformed percent-escape', '#/components/schemas/%E0', /points to nothing/],
      ['a plain-name fragment (not a JSON pointer)', '#Pet', /not a JSON pointer/],
    ] as const) {
      it(label, () => {
        const err = refused([
          'components:',
          '  schemas:',
          '    Pet: { type: object }',
          '    Owner:',
          '      properties:',
          '        pet:',
          `          $ref: "${ref}"`,
        ]);
        assert.equal(err.code, 'RAMPART_ERR_OPENAPI_REF');
        assert.equal(err.problems[0]!.field, 'components.schemas.Owner.properties.pet');
        assert.deepEqual(err.problems[0]!.location, { file: 'doc.yaml', line: 7, column: 11 });
        assert.match(err.message, reason);
        assert.ok(err.message.includes(ref), 'the message quotes the reference');
      });
    }

    it('references that only point at each other', () => {
      const err = refused(['a: { $ref: "#/b" }', 'b: { $ref: "#/a" }']);
      assert.equal(err.code, 'RAMPART_ERR_OPENAPI_REF');
      assert.match(err.message, /refers to itself/);
    });
  });
});

describe('dereference: example data is not structure', () => {
  it('keeps a `$ref` key inside examples, defaults and enums as data', () => {
    const source = parseYaml(
      '/virtual/examples.yaml',
      `openapi: 3.1.0
components:
  schemas:
    Link:
      type: object
      properties:
        $ref: { type: string }
        example: { $ref: '#/components/schemas/Name' }
      default: { $ref: 'not/a/pointer' }
      example: { $ref: 'http://example.com/schema.json' }
      enum: [{ $ref: '#/nowhere' }]
      examples: [{ $ref: 'other.yaml' }]
    Name: { type: string }
  examples:
    linked:
      value: { $ref: '#/also/data' }
`,
    );
    type Node = { [key: string]: Node } & Record<string, unknown>;
    const doc = dereference(source) as Node;
    const link = doc.components!.schemas!.Link!;
    assert.deepEqual(link.default, { $ref: 'not/a/pointer' });
    assert.deepEqual(link.example, { $ref: 'http://example.com/schema.json' });
    assert.deepEqual(link.enum, [{ $ref: '#/nowhere' }]);
    assert.deepEqual(link.examples, [{ $ref: 'other.yaml' }]);
    assert.deepEqual(doc.components!.examples!.linked!.value, { $ref: '#/also/data' });
    // A property that happens to be named `example` is still a schema, and is resolved.
    assert.deepEqual(link.properties!.example, { type: 'string' });
  });
});
