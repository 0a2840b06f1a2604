import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errorsReference, reasonsReference } from './reference/catalogues-md.ts';
import { configReference } from './reference/config-md.ts';
import { publishedSchemaText } from './reference/json-schema.ts';
import { pipelineReference } from './reference/pipeline-md.ts';

export { errorsReference, reasonsReference } from './reference/catalogues-md.ts';
export { configReference } from './reference/config-md.ts';
export { publishedSchema, publishedSchemaText } from './reference/json-schema.ts';
export { pipelineReference } from './reference/pipeline-md.ts';

/**
 * `npm run gen`: every generated file, from the code that is its single source. The drift test
 * (test/docs/reference-drift.test.ts) regenerates each in memory and compares it with the
 * checked-in file.
 */
export const OUTPUTS: readonly { readonly file: string; readonly generate: () => string }[] = [
  { file: 'schema/rampart.schema.json', generate: publishedSchemaText },
  { file: 'docs/reference/config.md', generate: configReference },
  { file: 'docs/reference/errors.md', generate: errorsReference },
  { file: 'docs/reference/reasons.md', generate: reasonsReference },
  { file: 'docs/reference/pipeline.md', generate: pipelineReference },
];

export const REPO_ROOT = fileURLToPath(new URL('../', import.meta.url));

function main(): void {
  for (const { file, generate } of OUTPUTS) {
    const path = `${REPO_ROOT}${file}`;
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, generate());
    process.stdout.write(`wrote ${file}\n`);
  }
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) main();
