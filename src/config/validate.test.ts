import assert from 'node:assert/strict';
import { resolve } from 'node:path';
import { describe, it } from 'node:test';
import { type ConfigProblem, RampartError } from '../core/errors.ts';
import type { Config } from './schema.ts';
import { fieldPath, pointerToPath, validateConfig } from './validate.ts';
import { parseYaml, readYamlFile } from './yaml-source.ts';

const FIXTURES = resolve(import.meta.dirname, '../../test/fixtures/config');

function validate(text: string): Config {
  return validateConfig(parseYaml('rampart.yaml', text));
}

function refused(text: string): RampartError {
  try {
    validate(text);
  } catch (err) {
    if (err instanceof RampartError) return err;
    throw err;
  }
  return assert.fail('expected the config to be refused');
}

/** The one problem reported for `field`, failing when there is none or several. */
function problemAt(err: RampartError, field: string): ConfigProblem {
  const found = err.problems.filter((p) => p.field === field);
  assert.equal(found.length, 1, `expected one problem for ${field}, got:\n${err.format()}`);
  return found[0]!;
}

const API = 'apis:\n  shop:\n    openapi: shop.yaml\n    mock: true\n';

describe('config validation', () => {
  it('reports every mistake of a file at once, each with file, line, column and field', () => {
    const file = resolve(FIXTURES, 'many-errors.yaml');
    let err: RampartError | undefined;
    try {
      validateConfig(readYamlFile(file));
    } catch (e) {
      err = e as RampartError;
    }
    assert.ok(err instanceof RampartError);
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SCHEMA');
    const seen = err.problems
      .map((p) => `${p.location.line}:${p.location.column} ${p.field}: ${p.message}`)
      .sort((a, b) => Number.parseInt(a, 10) - Number.parseInt(b, 10));
    assert.deepEqual(seen, [
      '6:13 server.listen[0].port: must be an integer',
      '8:21 server.limits.headersTimeout: must be a duration such as 500ms, 10s, 2m or 1h',
      '9:18 server.limits.maxBodySize: must be a size such as 512b, 16kb or 1mb (1kb = 1024 bytes)',
      '11:10 log.level: must be one of: "fatal", "error", "warn", "info", "debug"',
      '14:10 upstreams.orders.url: must be an http:// or https:// URL without query or fragment',
      '18:5 apis.shop.upstrem: unknown field (did you mean "upstream"?)',
      '19:15 apis.shop.basePath: must be a path such as /v1 (starting with /, no trailing /)',
    ]);
    for (const p of err.problems) assert.equal(p.location.file, file);
    assert.match(err.message, /has 7 invalid field\(s\)/);
    assert.ok(err.format().includes(`\n  ${file}:6:13: server.listen[0].port: must be an integer\n`));
  });

  it('names both missing required fields, `version` and `apis`', () => {
    const err = refused('server: {}\n');
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SCHEMA');
    for (const field of ['version', 'apis']) {
      const p = problemAt(err, field);
      assert.equal(p.message, 'is required but missing');
      assert.deepEqual(p.location, { file: 'rampart.yaml', line: 1, column: 1 });
    }
  });

  it('names a missing required field of a nested entry at that entry', () => {
    const err = refused('version: 1\napis:\n  shop:\n    mock: true\n');
    const p = problemAt(err, 'apis.shop.openapi');
    assert.equal(p.message, 'is required but missing');
    assert.deepEqual(p.location, { file: 'rampart.yaml', line: 4, column: 5 });
  });

  it('refuses an unknown field at its key, suggesting the field that was meant', () => {
    const err = refused(`version: 1\n${API}    upstrem: orders\n`);
    const p = problemAt(err, 'apis.shop.upstrem');
    assert.equal(p.message, 'unknown field (did you mean "upstream"?)');
    assert.deepEqual(p.location, { file: 'rampart.yaml', line: 6, column: 5 });
  });

  it('suggests a top-level field too (`upstream` → `upstreams`)', () => {
    const err = refused(`version: 1\n${API}upstream: {}\n`);
    assert.equal(problemAt(err, 'upstream').message, 'unknown field (did you mean "upstreams"?)');
  });

  it('lists the known fields when nothing is close', () => {
    const err = refused(`version: 1\n${API}plugins: []\n`);
    assert.equal(
      problemAt(err, 'plugins').message,
      'unknown field (known fields: $schema, version, server, log, upstreams, store, audit, events, authn, traffic, apis)',
    );
  });

  it('refuses a value of the wrong type, in words', () => {
    const err = refused(`version: 1\nserver:\n  listen:\n    port: 8080\n  watch: "yes"\n${API}`);
    assert.equal(problemAt(err, 'server.listen').message, 'must be a list');
    assert.deepEqual(problemAt(err, 'server.listen').location, { file: 'rampart.yaml', line: 4, column: 5 });
    assert.equal(problemAt(err, 'server.watch').message, 'must be a boolean');
  });

  it('refuses a version other than 1', () => {
    const err = refused(`version: 2\n${API}`);
    assert.equal(problemAt(err, 'version').message, 'must be 1');
    assert.deepEqual(problemAt(err, 'version').location, { file: 'rampart.yaml', line: 1, column: 10 });
  });

  it('explains a bad duration and a bad size with the accepted forms', () => {
    const err = refused(`version: 1\nserver:\n  drainTimeout: 1.5s\n  limits:\n    maxUrlSize: 8 KB\n${API}`);
    assert.equal(
      problemAt(err, 'server.drainTimeout').message,
      'must be a duration such as 500ms, 10s, 2m or 1h',
    );
    assert.equal(
      problemAt(err, 'server.limits.maxUrlSize').message,
      'must be a size such as 512b, 16kb or 1mb (1kb = 1024 bytes)',
    );
  });

  it('explains a duration given as a bare number with the accepted forms', () => {
    const err = refused(`version: 1\nserver:\n  drainTimeout: 30\n${API}`);
    assert.equal(
      problemAt(err, 'server.drainTimeout').message,
      'must be a string: a duration such as 500ms, 10s, 2m or 1h',
    );
  });

  it('lists the allowed values of an enum', () => {
    const err = refused(
      `version: 1\nserver:\n  listen:\n    - port: 443\n      tls:\n        cert: c.pem\n        key: env:KEY\n        minVersion: TLSv1.1\n${API}`,
    );
    const p = problemAt(err, 'server.listen[0].tls.minVersion');
    assert.equal(p.message, 'must be one of: "TLSv1.2", "TLSv1.3"');
    assert.deepEqual(p.location, { file: 'rampart.yaml', line: 8, column: 21 });
  });

  it('refuses an out-of-range number', () => {
    const err = refused(`version: 1\nserver:\n  listen:\n    - port: 70000\n${API}`);
    assert.equal(problemAt(err, 'server.listen[0].port').message, 'must be <= 65535');
  });

  it('refuses an invalid API name and an invalid upstream name at the name itself', () => {
    const err = refused(
      'version: 1\nupstreams:\n  1orders:\n    url: http://127.0.0.1:3000\napis:\n  my shop:\n    openapi: shop.yaml\n',
    );
    const upstream = problemAt(err, 'upstreams.1orders');
    assert.match(upstream.message, /^"1orders" is not a valid name: use a name of letters, digits, _ and -/);
    assert.deepEqual(upstream.location, { file: 'rampart.yaml', line: 3, column: 3 });
    const api = problemAt(err, 'apis.my shop');
    assert.match(api.message, /^"my shop" is not a valid name/);
    assert.deepEqual(api.location, { file: 'rampart.yaml', line: 6, column: 3 });
  });

  it('validates the entries under an invalid name too (nothing under it passes unchecked)', () => {
    const err = refused('version: 1\napis:\n  "-shop":\n    openapi: 42\n');
    assert.ok(err.problems.some((p) => p.field === 'apis.-shop'));
  });

  it('refuses an upstream reference that is not a name', () => {
    const err = refused(`version: 1\n${API}    upstream: http://127.0.0.1:3000\n`);
    const p = problemAt(err, 'apis.shop.upstream');
    assert.match(p.message, /^must be a name of letters/);
    assert.deepEqual(p.location, { file: 'rampart.yaml', line: 6, column: 15 });
  });

  it('refuses an upstream URL with a query, in words', () => {
    const err = refused(`version: 1\nupstreams:\n  a:\n    url: http://x/?debug=1\n${API}`);
    assert.equal(
      problemAt(err, 'upstreams.a.url').message,
      'must be an http:// or https:// URL without query or fragment',
    );
  });

  it('refuses a config without any API', () => {
    const err = refused('version: 1\napis: {}\n');
    assert.ok(err.problems.some((p) => p.field === 'apis'));
  });

  it('refuses a file whose top level is not a mapping, and an empty file', () => {
    for (const text of ['- version: 1\n', 'just text\n', '']) {
      const err = refused(text);
      assert.equal(err.code, 'RAMPART_ERR_CONFIG_SCHEMA');
      assert.match(err.problems[0]!.message, /top level must be a mapping/);
    }
  });

  it('treats a merge key as an unknown field, so nothing is merged in silently', () => {
    const err = refused('version: 1\napis:\n  shop:\n    <<: {openapi: shop.yaml}\n');
    assert.match(problemAt(err, 'apis.shop.<<').message, /^unknown field/);
    assert.equal(problemAt(err, 'apis.shop.openapi').message, 'is required but missing');
  });

  describe('defaults', () => {
    it('listens on loopback 127.0.0.1:8080 when no listener is configured', () => {
      assert.deepEqual(validate(`version: 1\n${API}`).server.listen, [{ host: '127.0.0.1', port: 8080 }]);
    });

    it('binds a listener to loopback when only its port is given', () => {
      const config = validate(`version: 1\nserver:\n  listen:\n    - port: 9000\n${API}`);
      assert.deepEqual(config.server.listen, [{ host: '127.0.0.1', port: 9000 }]);
    });

    it('fills the limits, timeouts, logging and API defaults', () => {
      const config = validate(`version: 1\n${API}`);
      assert.deepEqual(config.server.limits, {
        maxUrlSize: '8kb',
        maxHeaderSize: '16kb',
        maxHeaderCount: 100,
        maxBodySize: '1mb',
        headersTimeout: '10s',
        requestTimeout: '60s',
        keepAliveTimeout: '5s',
      });
      assert.deepEqual(config.server.trustedProxies, []);
      assert.equal(config.server.drainTimeout, '10s');
      assert.equal(config.server.watch, false);
      assert.equal(config.log.level, 'info');
      assert.equal(config.log.access.enabled, true);
      assert.deepEqual(config.upstreams, {});
      const api = config.apis.shop!;
      assert.equal(api.basePath, '');
      assert.deepEqual(api.hosts, []);
      assert.equal(api.response.maskServerErrors, true);
      assert.deepEqual(api.operations, {});
    });

    it('keeps values that are given and fills only the rest', () => {
      const config = validate(`version: 1\nserver:\n  limits:\n    maxBodySize: 10mb\n${API}`);
      assert.equal(config.server.limits.maxBodySize, '10mb');
      assert.equal(config.server.limits.maxUrlSize, '8kb');
    });

    it('fills upstream defaults: verified TLS, bounded pool and timeouts', () => {
      const config = validate(`version: 1\nupstreams:\n  a:\n    url: https://a.internal\n${API}`);
      const upstream = config.upstreams.a!;
      assert.equal(upstream.tls.rejectUnauthorized, true);
      assert.equal(upstream.connections, 128);
      assert.deepEqual(upstream.timeouts, { connect: '5s', headers: '30s', body: '30s' });
    });

    it('gives every config its own copy of the defaults', () => {
      const a = validate(`version: 1\n${API}`);
      const b = validate(`version: 1\n${API}`);
      assert.notEqual(a.server.listen, b.server.listen);
      Object.freeze(a.server.listen[0]);
      assert.equal(Object.isFrozen(validate(`version: 1\n${API}`).server.listen[0]), false);
    });
  });

  it('turns JSON pointers into field paths in words', () => {
    assert.deepEqual(pointerToPath('/apis/a~1b/operations/x~0y/0'), ['apis', 'a/b', 'operations', 'x~y', 0]);
    assert.equal(fieldPath(['server', 'listen', 0, 'port']), 'server.listen[0].port');
  });
});
