import assert from 'node:assert/strict';
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, describe, it } from 'node:test';
import { RampartError } from '../core/errors.ts';
import { compileGateway } from './compile.ts';
import type { StoreSpec } from './store-spec.ts';

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures');
const dir = mkdtempSync(join(tmpdir(), 'rampart-store-spec-'));
copyFileSync(join(FIXTURES, 'openapi', 'petstore-3.0.yaml'), join(dir, 'petstore-3.0.yaml'));
after(() => rmSync(dir, { recursive: true, force: true }));

let count = 0;
const API = ['apis:', '  pets:', '    openapi: petstore-3.0.yaml', '    mock: true'];

/** Compile `lines`, capturing the store spec the gateway asked for (never connecting). */
function specOf(lines: readonly string[]): StoreSpec {
  const file = join(dir, `rampart-${++count}.yaml`);
  writeFileSync(file, `${['version: 1', ...lines, ...API].join('\n')}\n`);
  let seen: StoreSpec | undefined;
  const gw = compileGateway(file, {
    openLogs: false,
    storeFor: (spec) => {
      seen = spec;
      return { close: async () => {} } as never;
    },
  });
  void gw;
  return seen!;
}

function refused(lines: readonly string[]): RampartError {
  try {
    specOf(lines);
  } catch (err) {
    if (err instanceof RampartError) return err;
    throw err;
  }
  return assert.fail('expected the config to be refused');
}

describe('store config', () => {
  it('is memory by default', () => {
    assert.equal(specOf([]).type, 'memory');
  });

  it('gives two configs with the same store section the same fingerprint, and a changed one another', () => {
    const redis = ['store:', '  type: redis', '  redis: { host: 127.0.0.1, port: 6390 }'];
    assert.equal(specOf(redis).fingerprint, specOf(redis).fingerprint);
    assert.notEqual(
      specOf(redis).fingerprint,
      specOf(['store:', '  type: redis', '  redis: { host: 127.0.0.1, port: 6391 }']).fingerprint,
    );
  });

  it('changes the fingerprint when the password behind the same reference changes, without holding it', () => {
    const lines = [
      'store:',
      '  type: redis',
      '  redis: { host: 127.0.0.1, password: env:RAMPART_TEST_REDIS_PW }',
    ];
    process.env.RAMPART_TEST_REDIS_PW = 'first-password';
    const a = specOf(lines);
    process.env.RAMPART_TEST_REDIS_PW = 'second-password';
    const b = specOf(lines);
    assert.notEqual(a.fingerprint, b.fingerprint);
    assert.ok(!a.fingerprint.includes('first-password'));
  });

  it('refuses incomplete redis sections, located', () => {
    let err = refused(['store:', '  type: redis']);
    assert.equal(err.problems[0]!.field, 'store.redis');
    assert.equal(err.problems[0]!.location.line, 3, 'at the store section');
    err = refused([
      'store:',
      '  type: redis',
      '  redis: { mode: sentinel, sentinels: [{ host: a, port: 26379 }] }',
    ]);
    assert.equal(err.problems[0]!.field, 'store.redis.name');
    assert.match(err.problems[0]!.message, /sentinel mode needs the master group name/);
    err = refused(['store:', '  type: redis', '  redis: { mode: cluster }']);
    assert.match(err.problems[0]!.message, /cluster mode needs at least one startup node/);
    err = refused([
      'store:',
      '  type: redis',
      '  redis: { mode: cluster, nodes: [{ host: a, port: 7000 }], db: 2 }',
    ]);
    assert.equal(err.problems[0]!.field, 'store.redis.db');
  });

  it('refuses a password that is not a secret reference, or an unset one', () => {
    let err = refused(['store:', '  type: redis', '  redis: { password: hunter2 }']);
    assert.equal(err.problems[0]!.field, 'store.redis.password');
    delete process.env.RAMPART_TEST_REDIS_UNSET;
    err = refused(['store:', '  type: redis', '  redis: { password: env:RAMPART_TEST_REDIS_UNSET }']);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SECRET');
    assert.ok(!err.message.includes('hunter2'));
  });
});
