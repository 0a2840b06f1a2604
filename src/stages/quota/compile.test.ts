import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { compileGateway } from '../../config/compile.ts';
import { RampartError } from '../../core/errors.ts';

const FIXTURES = resolve(import.meta.dirname, '../../../test/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'rampart-traffic-'));
copyFileSync(join(FIXTURES, 'openapi', 'petstore-3.0.yaml'), join(dir, 'petstore-3.0.yaml'));
after(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
function file(lines: readonly string[]): string {
  const path = join(dir, `rampart-${++count}.yaml`);
  writeFileSync(path, `${['version: 1', ...lines].join('\n')}\n`);
  return path;
}

const API = ['apis:', '  pets:', '    openapi: petstore-3.0.yaml', '    mock: true'];

function refused(path: string): RampartError {
  try {
    void compileGateway(path, { openLogs: false }).close();
  } catch (err) {
    if (err instanceof RampartError) return err;
    throw err;
  }
  return assert.fail('expected the config to be refused');
}

describe('traffic config', () => {
  it('puts ip and global limits in edge-limit and the others in quota, in pipeline order', async () => {
    const gw = compileGateway(
      file([
        'traffic:',
        '  rateLimits:',
        '    - { name: per-ip, key: ip, rate: 100, per: 1m }',
        '    - { name: per-caller, key: principal, rate: 10, per: 1s, burst: 20 }',
        '  quotas:',
        '    - { name: monthly, limit: 10000, per: month }',
        ...API,
      ]),
      { openLogs: false },
    );
    try {
      const op = gw.operations.find((o) => o.operationId === 'listPets')!;
      const names = op.pipeline.stages.map((s) => s.name);
      assert.ok(names.indexOf('edge-limit') < names.indexOf('quota'));
      const edge = op.pipeline.stages.find((s) => s.name === 'edge-limit')!;
      const quota = op.pipeline.stages.find((s) => s.name === 'quota')!;
      assert.equal(edge.summary, 'global/per-ip: 100 per 1m (burst 100) by ip');
      assert.equal(
        quota.summary,
        'global/per-caller: 10 per 1s (burst 20) by principal; global/monthly: 10000 per month (UTC) by principal',
      );
    } finally {
      await gw.close();
    }
  });

  it('adds no limit stage where no limit applies', async () => {
    const gw = compileGateway(file(API), { openLogs: false });
    try {
      for (const op of gw.operations) {
        assert.ok(!op.pipeline.stages.some((s) => s.name === 'edge-limit' || s.name === 'quota'));
      }
    } finally {
      await gw.close();
    }
  });

  it('refuses two limits with one name in a scope, at the second', () => {
    const path = file([
      'traffic:',
      '  rateLimits:',
      '    - { name: a, key: ip, rate: 1, per: 1s }',
      '    - { name: a, key: global, rate: 1, per: 1s }',
      ...API,
    ]);
    const err = refused(path);
    assert.equal(err.problems[0]!.field, 'traffic.rateLimits[1].name');
    assert.equal(err.problems[0]!.location.line, 5);
    assert.match(err.message, /already defined in this scope/);
  });

  it('refuses limits of different scopes that would reach a client under one name', () => {
    const err = refused(
      file([
        'traffic:',
        '  rateLimits: [{ name: shared, key: ip, rate: 1, per: 1s }]',
        ...API,
        '    traffic:',
        '      rateLimits: [{ name: shared, key: global, rate: 5, per: 1s }]',
      ]),
    );
    assert.match(err.message, /global\/shared and api:pets\/shared .* "shared"/);
  });

  it('refuses a default plan or a plan API that does not exist, located', () => {
    let err = refused(file(['traffic:', '  defaultPlan: gold', ...API]));
    assert.equal(err.problems[0]!.field, 'traffic.defaultPlan');
    assert.match(err.message, /no plan named "gold" \(known: none\)/);
    err = refused(file(['traffic:', '  plans:', '    free: { apis: [orders] }', ...API]));
    assert.equal(err.problems[0]!.field, 'traffic.plans.free.apis[0]');
    assert.match(err.message, /no API named "orders" \(known: pets\)/);
  });

  it('refuses a key it does not know, and a period below a millisecond', () => {
    let err = refused(
      file(['traffic:', '  rateLimits: [{ name: a, key: cookie, rate: 1, per: 1s }]', ...API]),
    );
    assert.equal(err.problems[0]!.field, 'traffic.rateLimits[0].key');
    assert.match(err.problems[0]!.message, /ip, global, principal, apiKey, plan or header:<name>/);
    err = refused(file(['traffic:', '  rateLimits: [{ name: a, key: ip, rate: 1, per: 0s }]', ...API]));
    assert.equal(err.problems[0]!.field, 'traffic.rateLimits[0].per');
  });

  it('refuses traffic config for an operation the document does not declare', () => {
    const err = refused(
      file([...API, '    operations:', '      nope:', '        traffic: { rateLimits: [] }']),
    );
    assert.equal(err.problems[0]!.field, 'apis.pets.operations.nope');
  });
});
