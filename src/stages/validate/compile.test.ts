import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { compileGateway } from '../../config/compile.ts';
import { RampartError } from '../../core/errors.ts';

/** Compile a gateway over one OpenAPI document (`body` is the schema of POST /things). */
function load(schema: string, extra = '', version = '3.0.3') {
  const dir = mkdtempSync(join(tmpdir(), 'rampart-validate-'));
  writeFileSync(
    join(dir, 'openapi.yaml'),
    `openapi: ${version}
info: { title: t, version: '1' }
security: [{}]
paths:
  /things:
    post:
      operationId: createThing
      requestBody:
        content:
          application/json:
            schema:
              $ref: '#/components/schemas/Thing'
      responses:
        '201': { description: created }
components:
  schemas:
    Thing:
${schema}
`,
  );
  writeFileSync(
    join(dir, 'rampart.yaml'),
    `version: 1\napis:\n  things:\n    openapi: openapi.yaml\n    mock: true\n${extra}`,
  );
  return { dir, compile: () => compileGateway(join(dir, 'rampart.yaml'), { openLogs: false }) };
}

describe('validate: schemas are compiled at load', () => {
  it('an invalid pattern stops the load with the OpenAPI file, line and JSON pointer', () => {
    const { dir, compile } = load(`      type: object
      properties:
        code: { type: string, pattern: '[a-' }`);
    assert.throws(compile, (err: unknown) => {
      assert.ok(err instanceof RampartError);
      assert.equal(err.code, 'RAMPART_ERR_OPENAPI_INVALID');
      const p = err.problems[0]!;
      assert.equal(p.location.file, join(dir, 'openapi.yaml'));
      assert.equal(p.location.line, 20);
      assert.equal(p.field, '#/components/schemas/Thing/properties/code/pattern');
      assert.match(p.message, /regular expression/);
      return true;
    });
  });

  it('3.1: a keyword with an invalid value (checked by the 2020-12 meta-schema) stops the load at it', () => {
    // The OpenAPI 3.1 document schema does not look inside Schema Objects; Ajv's meta-schema does.
    const { compile } = load(
      `      type: object
      properties:
        n: { type: integer, multipleOf: -3 }`,
      '',
      '3.1.0',
    );
    assert.throws(compile, (err: unknown) => {
      assert.ok(err instanceof RampartError);
      assert.equal(err.problems[0]!.field, '#/components/schemas/Thing/properties/n/multipleOf');
      assert.equal(err.problems[0]!.location.line, 20);
      return true;
    });
  });

  it('annotations, x- extensions and discriminator do not break the load; unknown formats and keywords are findings', async () => {
    const { compile } = load(`      type: object
      discriminator: { propertyName: kind }
      example: { kind: a }
      x-owner: team-a
      properties:
        kind: { type: string, example: a, x-note: n }
        phone: { type: string, format: phone }`);
    const gw = compile();
    try {
      const found = gw.findings
        .filter((f) => f.id === 'validate-schema-keyword-ignored')
        .map((f) => f.message);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(
        found[0]!,
        /unknown format "phone" at #\/components\/schemas\/Thing\/properties\/phone\/format/,
      );
    } finally {
      await gw.close();
    }
  });

  it('3.1: a misspelt keyword (the document schema allows any) is a finding, not silence', async () => {
    const gw = load(
      '      type: object\n      properties:\n        name: { type: string, maxLenght: 3 }',
      '',
      '3.1.0',
    ).compile();
    try {
      const found = gw.findings
        .filter((f) => f.id === 'validate-schema-keyword-ignored')
        .map((f) => f.message);
      assert.equal(found.length, 1, found.join('\n'));
      assert.match(found[0]!, /unknown keyword: "maxLenght"/);
    } finally {
      await gw.close();
    }
  });

  it('mode: off builds no validate stage; the default builds one', async () => {
    for (const [extra, expected] of [
      ['', true],
      ['    validate: { mode: off }\n', false],
      ['    operations:\n      createThing:\n        validate: { mode: off }\n', false],
    ] as const) {
      const gw = load('      type: object', extra).compile();
      try {
        const names = gw.operations[0]!.pipeline.stages.map((s) => s.name);
        assert.equal(names.includes('validate'), expected, extra);
      } finally {
        await gw.close();
      }
    }
  });
});
