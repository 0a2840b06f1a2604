import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, it } from 'node:test';
import { Ajv, type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { OUTPUTS, REPO_ROOT } from '../../scripts/gen-reference.ts';
import { validateConfig } from '../../src/config/validate.ts';
import { parseYaml } from '../../src/config/yaml-source.ts';
import { ERRORS } from '../../src/core/errors.ts';
import { STAGES } from '../../src/core/pipeline-order.ts';
import { REASONS } from '../../src/core/reasons.ts';
import { exampleConfigs } from './examples-list.ts';

function checkedIn(file: string): string {
  try {
    return readFileSync(join(REPO_ROOT, file), 'utf8');
  } catch {
    assert.fail(`${file} is missing: run npm run gen`);
  }
}

/** The first differing line, so a drift failure says where without dumping both files. */
function firstDifference(actual: string, expected: string): string {
  const a = actual.split('\n');
  const b = expected.split('\n');
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i])
      return `line ${i + 1}:\n  checked in: ${a[i] ?? '(end of file)'}\n  generated:  ${b[i] ?? '(end of file)'}`;
  }
  return '';
}

describe('generated references', () => {
  for (const { file, generate } of OUTPUTS) {
    it(`${file} matches its source`, () => {
      const expected = generate();
      const actual = checkedIn(file);
      assert.ok(
        actual === expected,
        `${file} is out of date: run npm run gen\n${firstDifference(actual, expected)}`,
      );
    });
  }

  it('are deterministic and end with one newline', () => {
    for (const { file, generate } of OUTPUTS) {
      const text = generate();
      assert.equal(generate(), text, `${file} differs between two runs`);
      assert.ok(text.endsWith('\n') && !text.endsWith('\n\n'), `${file} must end with one newline`);
    }
  });
});

describe('the published JSON Schema', () => {
  const schema = JSON.parse(checkedIn('schema/rampart.schema.json')) as Record<string, unknown>;
  const ajv = new Ajv({ allErrors: true, strict: true, verbose: true });
  ajv.addVocabulary(['x-rampart-kind', 'x-rampart-hint', 'patternErrorMessage']);
  const validate: ValidateFunction = ajv.compile(schema);
  const quickstart = () =>
    parse(readFileSync(join(REPO_ROOT, 'examples/quickstart/rampart.yaml'), 'utf8')) as Record<
      string,
      Record<string, unknown>
    >;
  const errors = () => ajv.errorsText(validate.errors);

  it('has an $id, a title and a dialect', () => {
    assert.equal(schema.$schema, 'http://json-schema.org/draft-07/schema#');
    assert.match(String(schema.$id), /^https:\/\/.+\/rampart\.schema\.json$/);
    assert.equal(typeof schema.title, 'string');
  });

  for (const file of exampleConfigs()) {
    it(`accepts ${relative(REPO_ROOT, file)}`, () => {
      assert.ok(validate(parse(readFileSync(file, 'utf8'))), errors());
    });
  }

  it('accepts the quick start once the loader filled its defaults', () => {
    // The editor schema drops `required` where a default exists; a complete config must still pass.
    const file = join(REPO_ROOT, 'examples/quickstart/rampart.yaml');
    const filled = validateConfig(parseYaml(file, readFileSync(file, 'utf8')));
    assert.ok(validate(filled), errors());
  });

  it('rejects an unknown field, as the loader does', () => {
    const config = quickstart();
    config.server!.listne = [];
    assert.equal(validate(config), false);
    assert.ok(
      validate.errors?.some((e) => e.keyword === 'additionalProperties' && e.instancePath === '/server'),
      errors(),
    );
  });

  it('rejects an unknown top-level field and an API with an invalid name', () => {
    assert.equal(validate({ ...quickstart(), servers: {} }), false);
    const config = quickstart();
    config.apis!['my api'] = config.apis!.bookshop;
    assert.equal(validate(config), false);
  });

  it('rejects a malformed duration with the hint as its message', () => {
    const config = quickstart();
    config.server!.drainTimeout = '10 seconds';
    assert.equal(validate(config), false);
    const error = validate.errors?.find((e) => e.keyword === 'pattern');
    assert.ok(error, errors());
    assert.match(String((error.parentSchema as Record<string, unknown>).patternErrorMessage), /duration/);
  });

  it('still requires what has no default', () => {
    const { version: _version, ...noVersion } = quickstart();
    assert.equal(validate(noVersion), false);
    const { apis: _apis, ...noApis } = quickstart();
    assert.equal(validate(noApis), false);
  });
});

describe('catalogue pages', () => {
  it('docs/reference/errors.md lists every RAMPART_ERR_* code', () => {
    const page = checkedIn('docs/reference/errors.md');
    for (const code of Object.keys(ERRORS))
      assert.ok(page.includes(`\`${code}\``), `${code}: run npm run gen`);
  });

  it('docs/reference/reasons.md lists every reason code', () => {
    const page = checkedIn('docs/reference/reasons.md');
    for (const reason of Object.keys(REASONS)) {
      assert.ok(page.includes(`\`${reason}\``), `${reason}: run npm run gen`);
    }
  });

  it('docs/reference/pipeline.md lists every stage in order', () => {
    const page = checkedIn('docs/reference/pipeline.md');
    STAGES.forEach((stage, i) => {
      const row = new RegExp(`^\\| ${i} +\\| \`${stage.name}\` +\\|`, 'm');
      assert.match(page, row, `${stage.name}: run npm run gen`);
    });
  });
});
