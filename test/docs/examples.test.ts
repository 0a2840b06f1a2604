import assert from 'node:assert/strict';
import { relative } from 'node:path';
import { describe, it } from 'node:test';
import { REPO_ROOT } from '../../scripts/gen-reference.ts';
import { compileGateway } from '../../src/config/compile.ts';
import { exampleConfigs, prepareExample } from './examples-list.ts';

// Every example config must load, validate and compile, so the examples cannot rot.
describe('examples', () => {
  const configs = exampleConfigs();

  it('include the quick start', () => {
    assert.ok(configs.some((f) => f.endsWith('examples/quickstart/rampart.yaml')));
  });

  for (const file of configs) {
    it(`${relative(REPO_ROOT, file)} compiles`, async () => {
      const gw = compileGateway(prepareExample(file), { openLogs: false });
      try {
        assert.ok(gw.operations.length > 0, 'an example serves at least one operation');
      } finally {
        await gw.close();
      }
    });
  }
});
