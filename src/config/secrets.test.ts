import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { format, inspect } from 'node:util';
import { RampartError } from '../core/errors.ts';
import { compileGateway } from './compile.ts';
import { resolveSecret, Secret } from './secrets.ts';

const OPENAPI = resolve(import.meta.dirname, '../../test/fixtures/openapi/petstore-3.0.yaml');
const dir = mkdtempSync(join(tmpdir(), 'rampart-secrets-'));
const here = { file: 'rampart.yaml', line: 7, column: 12 };

/** Env vars this file sets, removed afterwards so other tests in the process never see them. */
const ENV = {
  key: 'RAMPART_TEST_UPSTREAM_KEY',
  missing: 'RAMPART_TEST_NOT_SET',
  empty: 'RAMPART_TEST_EMPTY',
};

let keyPem = '';
let certPem = '';

/**
 * A throwaway key and self-signed certificate, made per run and deleted with the temp folder
 * (never committed). openssl when it exists; otherwise node:crypto makes the key and a
 * placeholder stands in for the certificate, which compile only reads.
 */
function makeKeyPair(): void {
  const key = join(dir, 'key.pem');
  const cert = join(dir, 'cert.pem');
  try {
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1'].concat([
        '-keyout',
        key,
        '-out',
        cert,
      ]),
      { stdio: 'ignore' },
    );
  } catch {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(key, pair.privateKey.export({ type: 'pkcs8', format: 'pem' }));
    writeFileSync(cert, '-----BEGIN CERTIFICATE-----\nplaceholder\n-----END CERTIFICATE-----\n');
  }
  keyPem = readFileSync(key, 'utf8');
  certPem = readFileSync(cert, 'utf8');
}

before(() => {
  makeKeyPair();
  copyFileSync(OPENAPI, join(dir, 'openapi.yaml'));
  process.env[ENV.key] = keyPem;
  process.env[ENV.empty] = '';
  delete process.env[ENV.missing];
});

after(() => {
  for (const name of Object.values(ENV)) delete process.env[name];
  rmSync(dir, { recursive: true, force: true });
});

function config(name: string, text: string): string {
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
  return assert.fail('expected a RampartError');
}

/** Every way an error or value might reach a log, a terminal or a JSON response. */
function everyRendering(value: unknown): string[] {
  const out = [
    String(value),
    inspect(value, { depth: Infinity, showHidden: true }),
    format('%s %o %j', value, value, value),
  ];
  try {
    out.push(JSON.stringify(value) ?? '');
  } catch {
    // Circular structures cannot be serialized at all, so they cannot leak that way.
  }
  if (value instanceof RampartError) {
    out.push(value.message, value.format(), JSON.stringify(value.problems), value.stack ?? '');
  }
  return out;
}

/** The distinctive middle of the PEM body, so a partial leak is caught as well as a whole one. */
function secretFragments(): string[] {
  const body = keyPem.split('\n').filter((l) => l && !l.startsWith('-----'));
  return [keyPem.trim(), body[1]!, body[body.length - 2]!];
}

function assertNoSecret(value: unknown): void {
  for (const text of everyRendering(value)) {
    for (const fragment of secretFragments()) {
      assert.ok(!text.includes(fragment), `the secret leaked into:\n${text.slice(0, 400)}`);
    }
  }
}

const UPSTREAM_WITH_KEY = (ref: string) =>
  [
    'version: 1',
    'upstreams:',
    '  backend:',
    '    url: https://127.0.0.1:9443',
    '    tls:',
    '      cert: cert.pem',
    `      key: ${ref}`,
    'apis:',
    '  pets:',
    '    openapi: openapi.yaml',
    '    upstream: backend',
    '',
  ].join('\n');

const LISTENER_WITH_KEY = (ref: string) =>
  [
    'version: 1',
    'server:',
    '  listen:',
    '    - port: 0',
    '      tls:',
    '        cert: cert.pem',
    `        key: ${ref}`,
    'apis:',
    '  pets:',
    '    openapi: openapi.yaml',
    '    mock: true',
    '',
  ].join('\n');

describe('Secret', () => {
  const secret = new Secret('hunter2-very-secret');

  it('renders as [secret] in every string form', () => {
    assert.equal(String(secret), '[secret]');
    assert.equal(`${secret}`, '[secret]');
    assert.equal(secret.toString(), '[secret]');
    assert.equal(secret.toJSON(), '[secret]');
    assert.equal(JSON.stringify({ key: secret }), '{"key":"[secret]"}');
    assert.equal(inspect(secret), 'Secret([secret])');
    assert.equal(
      inspect({ tls: { key: secret } }, { depth: Infinity }),
      '{ tls: { key: Secret([secret]) } }',
    );
  });

  it('has no enumerable or inspectable trace of its value', () => {
    assert.deepEqual(Object.keys(secret), []);
    assert.deepEqual({ ...secret }, {});
    for (const text of [
      inspect(secret, { showHidden: true, depth: Infinity }),
      format('%s %o %O %j', secret, secret, secret, secret),
    ]) {
      assert.ok(!text.includes('hunter2'), text);
    }
  });

  it('gives the value only through reveal()', () => {
    assert.equal(secret.reveal(), 'hunter2-very-secret');
  });
});

describe('resolveSecret', () => {
  it('resolves env:NAME from the environment', () => {
    assert.equal(resolveSecret(`env:${ENV.key}`, dir, 'upstreams.a.tls.key', here).reveal(), keyPem);
  });

  it('resolves file:PATH relative to the config folder, without the one trailing newline editors add', () => {
    mkdirSync(join(dir, 'secrets'), { recursive: true });
    writeFileSync(join(dir, 'secrets', 'token'), 's3cret-token\n');
    assert.equal(resolveSecret('file:secrets/token', dir, 'f', here).reveal(), 's3cret-token');
    writeFileSync(join(dir, 'secrets', 'crlf'), 'line1\r\n\r\n');
    assert.equal(resolveSecret('file:secrets/crlf', dir, 'f', here).reveal(), 'line1\r\n');
  });

  it('refuses an unset env var with RAMPART_ERR_CONFIG_SECRET naming the field, the variable and the location', () => {
    const err = refused(() => resolveSecret(`env:${ENV.missing}`, dir, 'upstreams.a.tls.key', here));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SECRET');
    assert.deepEqual(err.problems, [
      {
        location: here,
        field: 'upstreams.a.tls.key',
        message: `environment variable ${ENV.missing} is not set or empty`,
      },
    ]);
  });

  it('refuses an empty env var: an empty key is never what was meant', () => {
    const err = refused(() => resolveSecret(`env:${ENV.empty}`, dir, 'f', here));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SECRET');
  });

  it('refuses a missing or unreadable secret file, naming the path and why', () => {
    const missing = refused(() => resolveSecret('file:nope.pem', dir, 'server.listen[0].tls.key', here));
    assert.equal(missing.code, 'RAMPART_ERR_CONFIG_SECRET');
    assert.equal(missing.problems[0]!.field, 'server.listen[0].tls.key');
    assert.deepEqual(missing.problems[0]!.location, here);
    assert.match(missing.message, /cannot read secret file .*nope\.pem \(ENOENT\)/);
    const folder = refused(() => resolveSecret(`file:${dir}`, dir, 'f', here));
    assert.match(folder.message, /\(EISDIR\)/);
  });

  it('refuses a value that is not a reference without repeating it', () => {
    const err = refused(() => resolveSecret(keyPem, dir, 'f', here));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SECRET');
    assertNoSecret(err);
  });
});

describe('secrets through compileGateway', () => {
  it('(the leak check itself notices a partial leak, so the checks below can fail)', () => {
    const line = keyPem.split('\n')[2]!;
    assert.throws(() => assertNoSecret(new Error(`bad key near ${line}`)), /the secret leaked/);
    assert.throws(() => assertNoSecret({ nested: { key: line } }), /the secret leaked/);
  });

  it('resolves a listener key from file: and keeps only the reference in the config', async () => {
    const gateway = compileGateway(config('listener.yaml', LISTENER_WITH_KEY('file:key.pem')), {
      openLogs: false,
    });
    try {
      const tls = gateway.listener.listeners[0]!.tls!;
      assert.equal(tls.key.reveal(), keyPem.replace(/\n$/, ''));
      assert.equal(tls.cert.toString('utf8'), certPem);
      assert.equal(gateway.config.server.listen[0]!.tls!.key, 'file:key.pem');
      assertNoSecret(gateway.listener);
      assertNoSecret(gateway.config);
      assertNoSecret(gateway);
    } finally {
      await gateway.close();
    }
  });

  it('resolves an upstream client key from env: without exposing it on the gateway', async () => {
    const gateway = compileGateway(config('upstream.yaml', UPSTREAM_WITH_KEY(`env:${ENV.key}`)), {
      openLogs: false,
    });
    try {
      assert.equal(gateway.config.upstreams.backend!.tls.key, `env:${ENV.key}`);
      assertNoSecret(gateway);
    } finally {
      await gateway.close();
    }
  });

  it('refuses an unset env var for an upstream key, at the key field', () => {
    const file = config('upstream-missing.yaml', UPSTREAM_WITH_KEY(`env:${ENV.missing}`));
    const err = refused(() => compileGateway(file, { openLogs: false }));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SECRET');
    assert.equal(err.problems[0]!.field, 'upstreams.backend.tls.key');
    assert.deepEqual(err.problems[0]!.location, { file, line: 7, column: 12 });
    assert.match(err.format(), new RegExp(`${ENV.missing} is not set or empty`));
  });

  it('refuses an unreadable listener key file, at the key field', () => {
    const file = config('listener-missing.yaml', LISTENER_WITH_KEY('file:absent-key.pem'));
    const err = refused(() => compileGateway(file, { openLogs: false }));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SECRET');
    assert.equal(err.problems[0]!.field, 'server.listen[0].tls.key');
    assert.deepEqual(err.problems[0]!.location, { file, line: 7, column: 14 });
  });

  it('never repeats a resolved secret in a later compile error', () => {
    const text = UPSTREAM_WITH_KEY(`env:${ENV.key}`).replace(
      '    upstream: backend',
      '    upstream: backedn',
    );
    const err = refused(() => compileGateway(config('later-error.yaml', text), { openLogs: false }));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_REFERENCE');
    assertNoSecret(err);
  });

  it('never repeats a key pasted into the config in place of a reference', () => {
    const pasted = UPSTREAM_WITH_KEY(`|\n${keyPem.replace(/^/gm, '        ')}`);
    const file = config('pasted.yaml', pasted);
    const err = refused(() => compileGateway(file, { openLogs: false }));
    assert.equal(err.code, 'RAMPART_ERR_CONFIG_SCHEMA');
    assert.equal(err.problems[0]!.field, 'upstreams.backend.tls.key');
    assert.match(err.problems[0]!.message, /a secret reference: env:NAME or file:PATH/);
    assertNoSecret(err);
  });
});
